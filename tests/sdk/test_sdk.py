"""The official `flyte` SDK (pinned in scripts/versions.env) against the real binaries, unmodified."""
import pytest

import flyte
import flyte.remote as remote

from conftest import TERMINAL, wait_phase


def test_init_projects_and_empty_listing(flyte_client):
    ids = [p.pb2.id for p in remote.Project.listall()]
    assert "flytesnacks" in ids
    p = remote.Project.get("flytesnacks")
    assert [d.id for d in p.pb2.domains] == ["development", "staging", "production"]
    assert isinstance(list(remote.Run.listall()), list)


def test_create_project_persists(flyte_client):
    remote.Project.create(id="sdk-e2e", name="SDK e2e", description="made by the SDK")
    assert remote.Project.get("sdk-e2e").pb2.description == "made by the SDK"
    # Kept in the database (table projects), where every replica sees it; no file under the data root.
    import sqlite3

    db = sqlite3.connect(flyte_client.work / ("flyte.db" if flyte_client.executes else "runs.db"))
    try:
        assert db.execute("SELECT description FROM projects WHERE id = 'sdk-e2e'").fetchall() == [("made by the SDK",)]
    finally:
        db.close()
    assert not (flyte_client.data / ".flyte" / "projects.json").exists()


def test_run_is_submitted_with_code_bundle_and_offloaded_inputs(flyte_client):
    from sdk_wf import square

    run = flyte.run(square, x=7)
    assert run.name
    got = remote.Run.get(run.name)
    assert got.name == run.name
    assert run.name in [r.name for r in remote.Run.listall()]
    # Inputs were offloaded through UploadInputs and come back through GetActionData.
    inputs = got.inputs()
    assert inputs["x"] == 7
    # The code bundle landed in the data tree through the signed URL.
    bundles = list(flyte_client.data.glob("flytesnacks/development/*/fast*.tar.gz"))
    assert bundles, "code bundle was not uploaded"
    if not flyte_client.executes:
        assert str(got.phase) == "ActionPhase.QUEUED"


def test_abort(flyte_client):
    from sdk_wf import sleepy

    run = flyte.run(sleepy, seconds=60)
    run.abort()
    got = wait_phase(run.name, {"ActionPhase.ABORTED"}, timeout=30)
    assert str(got.phase) == "ActionPhase.ABORTED"


def _require_execution(stack):
    import os

    if not stack.executes:
        pytest.skip("flyte-manager is not built: only runs-service runs, nothing executes")
    if os.environ.get("FLYTE_SDK_E2E_EXECUTE") == "0":
        pytest.skip("FLYTE_SDK_E2E_EXECUTE=0: execution scenarios switched off")


def test_run_wait_outputs(flyte_client):
    _require_execution(flyte_client)
    from sdk_wf import square

    run = flyte.run(square, x=9)
    # Poll first (bounded), so a stack that never runs the action fails instead of hanging in run.wait().
    got = wait_phase(run.name, TERMINAL, timeout=90)
    assert str(got.phase) in TERMINAL, flyte_client.logs()[-4000:]
    run.wait(quiet=True)
    got = remote.Run.get(run.name)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", flyte_client.logs()[-4000:]
    assert got.outputs()[0] == 81


def test_failed_task_reports_error(flyte_client):
    _require_execution(flyte_client)
    from sdk_wf import fail

    run = flyte.run(fail, msg="boom")
    got = wait_phase(run.name, TERMINAL, timeout=90)
    assert str(got.phase) == "ActionPhase.FAILED"


def test_deploy_then_run_by_reference(flyte_client):
    from sdk_wf import env

    deployed = flyte.deploy(env)
    assert deployed
    task = remote.Task.get("sdk_e2e.square", auto_version="latest")
    run = flyte.run(task, x=3)
    assert remote.Run.get(run.name).name == run.name
