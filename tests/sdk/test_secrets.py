"""Issue 13 item 3: secrets with the official SDK and CLI against flyte-manager. `flyte create secret` and
flyte.remote.Secret create secrets scoped as the SDK asks (the init's project/domain, or the whole org from the CLI
without --project/--domain); get/listall show them without their value; tasks declaring them read them as env vars
or as 0400 files; a task declaring a missing secret fails naming it; delete removes one; the database holds no
plaintext."""
import subprocess

import flyte
import flyte.remote as remote
import pytest
from flyteidl2.secret import definition_pb2

from conftest import TERMINAL, VENV_BIN, wait_phase


def _finish(run, mgr, phase="ActionPhase.SUCCEEDED"):
    got = wait_phase(run.name, TERMINAL, timeout=120)
    assert str(got.phase) == phase, f"{got.phase}\n{mgr.logs()[-3000:]}"
    return got


def _cli(stack, *args):
    return subprocess.run([str(VENV_BIN / "flyte"), "--endpoint", stack.endpoint, "--insecure", *args],
                          capture_output=True, text=True, timeout=120)


def _names():
    return [s.name for s in remote.Secret.listall(limit=2)]


def test_create_list_get_read_in_tasks_delete(mgr):
    from secrets_wf import read_default_name, read_env, read_file

    remote.Secret.create(name="sdk-e2e-token", value="t0ps3cr3t-env-value")
    remote.Secret.create(name="sdk-e2e-file", value=b"f1le-s3cr3t-bytes")
    # The CLI without --project/--domain makes an org-wide secret, seen by tasks of every project and domain.
    made = _cli(mgr, "create", "secret", "sdk-e2e-org-wide", "--value", "0rg-w1de-value")
    assert made.returncode == 0, made.stdout + made.stderr
    with pytest.raises(Exception) as dup:
        remote.Secret.create(name="sdk-e2e-token", value="again")
    assert "ALREADY_EXISTS" in str(dup.value).upper().replace(" ", "_") or "already exists" in str(dup.value)

    got = remote.Secret.get("sdk-e2e-token")
    assert got.name == "sdk-e2e-token" and got.type == "regular"
    assert got.pb2.id.project == "flytesnacks" and got.pb2.id.domain == "development"
    assert got.pb2.secret_metadata.secret_status.overall_status == definition_pb2.FULLY_PRESENT
    assert "t0ps3cr3t" not in str(got.pb2)
    # Paged by two: every secret of the project/domain, none with a value.
    assert {"sdk-e2e-token", "sdk-e2e-file"} <= set(_names())
    assert "sdk-e2e-org-wide" not in _names()  # it lives in the org scope, not in flytesnacks/development
    with pytest.raises(Exception) as missing:
        remote.Secret.get("sdk-e2e-nothing")
    assert "sdk-e2e-nothing" in str(missing.value)

    assert _finish(flyte.run(read_env), mgr).outputs()[0] == "t0ps3cr3t-env-value"
    assert _finish(flyte.run(read_file), mgr).outputs()[0] == "0o400:f1le-s3cr3t-bytes"
    assert _finish(flyte.run(read_default_name), mgr).outputs()[0] == "0rg-w1de-value"

    # Stored encrypted: neither the database nor its WAL holds a value.
    for f in mgr.work.glob("flyte.db*"):
        data = f.read_bytes()
        for value in (b"t0ps3cr3t-env-value", b"f1le-s3cr3t-bytes", b"0rg-w1de-value"):
            assert value not in data, f"{value} in {f}"
    # The file-mounted secret does not outlive its process on disk.
    assert not [p for p in mgr.data.rglob("sdk-e2e-file")], "a secret file was left behind"

    remote.Secret.delete("sdk-e2e-token")
    assert "sdk-e2e-token" not in _names()
    with pytest.raises(Exception):
        remote.Secret.delete("sdk-e2e-token")
    # A task declaring the deleted secret now fails like one declaring a secret that never existed.
    run = flyte.run(read_env)
    _finish(run, mgr, "ActionPhase.FAILED")
    err = remote.ActionDetails.get(run_name=run.name, name="a0").error_info
    assert "sdk-e2e-token" in err.message and "not found" in err.message, err


def test_task_declaring_a_missing_secret_fails_naming_it_without_retrying(mgr):
    from secrets_wf import read_missing

    run = flyte.run(read_missing.override(retries=2))
    _finish(run, mgr, "ActionPhase.FAILED")
    details = remote.ActionDetails.get(run_name=run.name, name="a0")
    assert "secret sdk-e2e-does-not-exist not found" in details.error_info.message, details.error_info
    assert details.attempts == 1  # a user error: not retried
