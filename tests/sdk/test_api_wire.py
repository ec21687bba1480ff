"""Wire behaviours of the API the official SDK (and the connect clients it ships) rely on, end to end."""
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

import flyte
import flyte.errors
import flyte.remote as remote
from flyte.syncify import syncify

from conftest import BUILD


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@syncify
async def _side_effect_free_calls_over_get(run_id):
    """The SDK's own connect client (the one flyte.init made) with use_get=True: Connect GET requests."""
    from flyte._initialize import get_client
    from flyteidl2.common import list_pb2
    from flyteidl2.workflow import run_service_pb2

    client = get_client().run_service
    details = await client.get_run_details(run_service_pb2.GetRunDetailsRequest(run_id=run_id), use_get=True)
    listed = await client.list_runs(
        run_service_pb2.ListRunsRequest(org=run_id.org, request=list_pb2.ListRequest(limit=200)), use_get=True
    )
    return details, listed


def test_connect_get_for_side_effect_free_methods(flyte_client):
    from sdk_wf import square

    run = flyte.run(square, x=4)
    details, listed = _side_effect_free_calls_over_get(run.pb2.action.id.run)
    assert details.details.action.id.run.name == run.name
    assert run.name in [r.action.id.run.name for r in listed.runs]

    # Methods with side effects stay POST-only: 405 with Allow: POST.
    url = f"http://{flyte_client.endpoint}/flyteidl2.workflow.RunService/CreateRun?encoding=json&message=%7B%7D"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=10)
    assert e.value.code == 405
    assert e.value.headers["Allow"] == "POST"


def test_create_run_with_a_taken_name_is_idempotent(flyte_client):
    from sdk_wf import square

    name = _unique("idem")
    first = flyte.with_runcontext(name=name).run(square, x=5)
    assert first.name == name
    # The same request again (what a client retrying after a lost reply sends) gets the same run back.
    again = flyte.with_runcontext(name=name).run(square, x=5)
    assert again.name == name
    assert [r.name for r in remote.Run.listall() if r.name == name] == [name]
    # Another request under that name keeps failing with the SDK's RunAlreadyExistsError.
    with pytest.raises(flyte.errors.RuntimeUserError) as e:
        flyte.with_runcontext(name=name).run(square, x=6)
    assert e.value.code == "RunAlreadyExistsError"


def test_stale_code_bundle_cache_is_refused_with_a_clear_error(flyte_client):
    from sdk_wf import square

    # Uploads the code bundle, or finds it in the SDK's own 24 h cache of uploads: either way the server has it.
    flyte.run(square, x=3)
    bundles = list(flyte_client.data.glob("flytesnacks/development/*/fast*.tar.gz"))
    assert bundles, "no code bundle in the data tree"
    saved = {b: b.read_bytes() for b in bundles}
    for b in bundles:  # the server's data is wiped; the SDK's cache still names the bundle
        b.unlink()
    try:
        with pytest.raises(flyte.errors.RuntimeSystemError) as e:
            flyte.run(square, x=3)
        message = str(e.value)
        assert "does not exist on the server" in message and "disable_run_cache=True" in message, message
        # The fix the message gives works: the bundle is uploaded again and the run is created.
        fresh = flyte.with_runcontext(disable_run_cache=True).run(square, x=3)
        assert remote.Run.get(fresh.name).name == fresh.name
    finally:
        for b, data in saved.items():  # later tests hit the SDK's cache too
            if not b.exists():
                b.parent.mkdir(parents=True, exist_ok=True)
                b.write_bytes(data)


def test_unknown_project_or_domain_is_refused(flyte_client):
    from sdk_wf import square

    for scope in ({"project": "nosuchproject"}, {"domain": "qa"}):
        with pytest.raises(flyte.errors.RuntimeSystemError) as e:
            flyte.with_runcontext(**scope).run(square, x=1)
        name = scope.get("project") or scope.get("domain")
        assert "not found" in str(e.value) and name in str(e.value), str(e.value)
    # Nothing was created there: the project stays unknown to ProjectService and has no runs.
    assert "nosuchproject" not in [p.pb2.id for p in remote.Project.listall()]


@pytest.fixture
def second_replica(flyte_client):
    """A second runs-service on flyte-manager's database and data tree (another replica). It signs URLs that point
    at the first one (publicEndpoint), so what it issues is redeemed by the other process."""
    import subprocess

    from conftest import _free_port, _wait_ready

    if not flyte_client.executes:
        pytest.skip("needs flyte-manager's database")
    port = _free_port()
    cfg = flyte_client.work / "replica-b.yaml"
    cfg.write_text(f"""
runs:
  server: {{host: 127.0.0.1, port: {port}}}
  storagePrefix: file://{flyte_client.data}
  publicEndpoint: "127.0.0.1:{flyte_client.port}"
  queue: {{endpoint: ""}}
database:
  sqlite: {{file: {flyte_client.work}/flyte.db}}
""")
    proc, log = flyte_client._spawn([str(BUILD / "bin" / "runs-service"), "--config", str(cfg)], "replica-b")
    _wait_ready(port, proc, log)
    yield f"localhost:{port}"
    proc.terminate()
    proc.wait(timeout=15)


def test_projects_and_signed_urls_are_shared_by_replicas(flyte_client, second_replica):
    from sdk_wf import square

    root = Path(__file__).parent / "workflows"
    # Made through the first replica after the second one started.
    project = _unique("shared")
    remote.Project.create(id=project, name=project, description="made on replica A")
    try:
        flyte.init(endpoint=second_replica, insecure=True, project=project, domain="development", root_dir=root)
        assert remote.Project.get(project).pb2.description == "made on replica A"
        # The code bundle goes up through a URL replica B signed and replica A takes; the run is created on B in
        # the project A made.
        run = flyte.with_runcontext(disable_run_cache=True).run(square, x=2)
        assert remote.Run.get(run.name).name == run.name
        assert list(flyte_client.data.glob(f"{project}/development/*/fast*.tar.gz")), "bundle not uploaded"
    finally:
        flyte.init(endpoint=flyte_client.endpoint, insecure=True, project="flytesnacks", domain="development",
                   root_dir=root)


def test_listall_by_labels_and_creator(flyte_client):
    from sdk_wf import square

    team = _unique("team")
    labelled = flyte.with_runcontext(labels={"team": team, "tier": "gold"}).run(square, x=7)
    plain = flyte.with_runcontext(labels={"team": "other"}).run(square, x=8)

    def names(**kw):
        return {r.name for r in remote.Run.listall(limit=200, **kw)}

    assert labelled.name in names(with_labels={"team": team})
    assert plain.name not in names(with_labels={"team": team})
    assert names(with_labels={"team": team, "tier": "gold"}) == {labelled.name}
    with_tier = names(with_label_keys=["tier"])
    assert labelled.name in with_tier and plain.name not in with_tier
    # No authentication here, so runs carry no creator subject: the filter is served and matches none.
    assert names(created_by_subject="someone@example.com") == set()
