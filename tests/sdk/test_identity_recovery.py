"""Issue 13 items 5 and 6 with the official CLI: `flyte whoami`, `flyte get settings` / `flyte edit settings`, and
`flyte rerun --recover` (a recovery run takes over the children that succeeded and runs only the rest)."""
import json
import re
from pathlib import Path

import flyte
import flyte.remote as remote

from conftest import TERMINAL, cli as _cli, wait_phase


def test_whoami_names_the_anonymous_subject(flyte_client):
    rc, out = _cli(flyte_client, "whoami")
    assert rc == 0, out
    info = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert info["subject"] == "anonymous"
    assert info["preferredUsername"] == "anonymous"
    assert info["additionalClaims"] == {"authenticated": False}


def test_get_settings_shows_the_storage_prefix_inherited_from_org(flyte_client, tmp_path):
    data_root = str(flyte_client.data)
    rc, out = _cli(flyte_client, "get", "settings", "--domain", "development", "--project", "flytesnacks")
    assert rc == 0, out
    assert "PROJECT(development/flytesnacks)" in out and "storage.raw_data_path" in out and data_root in out, out

    # The raw YAML (what `flyte edit settings --from-file` takes back): inherited from ORG, nothing set locally.
    f = tmp_path / "settings.yaml"
    rc, out = _cli(flyte_client, "get", "settings", "--domain", "development", "--project", "flytesnacks",
                   "-o", str(f))
    assert rc == 0, out
    text = f.read_text()
    assert "### Settings for scope: PROJECT(development/flytesnacks)" in text, text
    assert re.search(r"^# storage\.raw_data_path: \S*" + re.escape(data_root) + r"\S*  ## inherited from ORG$",
                     text, re.M), text
    assert "### Local overrides" not in text, text

    rc, out = _cli(flyte_client, "get", "settings", "-o", str(f))
    assert rc == 0, out
    text = f.read_text()
    assert "### Settings for scope: ORG" in text, text
    assert re.search(r"^storage\.raw_data_path: \S*" + re.escape(data_root), text, re.M), text


def test_get_settings_of_an_unknown_domain_is_refused(flyte_client):
    rc, out = _cli(flyte_client, "get", "settings", "--domain", "qa")
    assert "domain qa not found" in out, out


def test_edit_settings_is_refused_naming_the_keys(flyte_client, tmp_path):
    f = tmp_path / "settings.yaml"
    f.write_text("run.default_queue: gpu\nsecurity.service_account: ml-sa\n")
    rc, out = _cli(flyte_client, "edit", "settings", "--domain", "development", "--from-file", str(f))
    assert "UpdateSettings is not supported" in out or "CreateSettings is not supported" in out, out
    assert "run.default_queue" in out and "security.service_account" in out, out
    # Nothing changed: the domain still sets nothing of its own.
    s = remote.Settings.get_settings_for_edit(domain="development")
    assert s.local_settings == []


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_rerun_recover_runs_only_what_did_not_succeed(mgr, tmp_path):
    from recover_wf import three_children

    marker = tmp_path / "markers"
    marker.mkdir()
    first = flyte.run(three_children, marker_dir=str(marker))
    got = wait_phase(first.name, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.FAILED", f"{got.phase}\n{mgr.logs()[-3000:]}"
    assert [_lines(marker / f"child-{i}.log") for i in range(3)] == [1, 1, 1]

    (marker / "allow-2").write_text("")
    rc, out = _cli(mgr, "rerun", first.name, "--recover", "-p", "flytesnacks", "-d", "development")
    assert rc == 0, out
    m = re.search(r"Created Run: (\S+)", out)
    assert m, out
    second = m.group(1)
    got = wait_phase(second, TERMINAL, timeout=120)
    err = remote.ActionDetails.get(run_name=second, name="a0").error_info
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {err}\n{mgr.logs()[-3000:]}"
    assert got.outputs()[0] == 100 + 200 + 300

    # Children 0 and 1 were not run again; child 2 was (and this time succeeded).
    assert [_lines(marker / f"child-{i}.log") for i in range(3)] == [1, 1, 2]
    kids = {a.name: a for a in remote.Action.listall(for_run_name=second) if a.name != "a0"}
    old = {a.name: a for a in remote.Action.listall(for_run_name=first.name) if a.name != "a0"}
    assert set(kids) == set(old), (kids, old)
    phases = sorted(str(a.phase) for a in kids.values())
    assert phases == ["ActionPhase.RECOVERED", "ActionPhase.RECOVERED", "ActionPhase.SUCCEEDED"], phases
    for name, a in kids.items():
        was = str(old[name].phase)
        assert str(a.phase) == ("ActionPhase.RECOVERED" if was == "ActionPhase.SUCCEEDED" else "ActionPhase.SUCCEEDED")
        source = remote.ActionDetails.get(run_name=second, name=name).pb2.metadata.recovered_from
        assert (source.run.name, source.name) == ((first.name, name) if was == "ActionPhase.SUCCEEDED" else ("", ""))

    # Recovering the recovery run takes over all three (RECOVERED counts as succeeded) and runs none of them.
    rc, out = _cli(mgr, "rerun", second, "--recover", "-p", "flytesnacks", "-d", "development")
    assert rc == 0, out
    third = re.search(r"Created Run: (\S+)", out).group(1)
    got = wait_phase(third, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", got.phase
    assert got.outputs()[0] == 600
    assert [_lines(marker / f"child-{i}.log") for i in range(3)] == [1, 1, 2]
    phases = sorted(str(a.phase) for a in remote.Action.listall(for_run_name=third) if a.name != "a0")
    assert phases == ["ActionPhase.RECOVERED"] * 3, phases

    # --force-rerun-action runs the named actions again although they succeeded.
    forced = [arg for name in kids for arg in ("--force-rerun-action", name)]
    rc, out = _cli(mgr, "rerun", third, "--recover", *forced, "-p", "flytesnacks", "-d", "development")
    assert rc == 0, out
    fourth = re.search(r"Created Run: (\S+)", out).group(1)
    got = wait_phase(fourth, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", got.phase
    assert [_lines(marker / f"child-{i}.log") for i in range(3)] == [2, 2, 3]
    phases = sorted(str(a.phase) for a in remote.Action.listall(for_run_name=fourth) if a.name != "a0")
    assert phases == ["ActionPhase.SUCCEEDED"] * 3, phases

