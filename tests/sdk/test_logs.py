"""Issue 13 item 2: task logs through DataProxyService.TailLogs with the official SDK and CLI against flyte-manager:
run.get_logs() / show_logs(), `flyte get logs`, following a running task until it ends, and the logs of an
earlier attempt of a retried task."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import flyte
import flyte.remote as remote

from conftest import TERMINAL, VENV_BIN, wait_phase


def _succeeded(run, mgr, timeout=120):
    got = wait_phase(run.name, TERMINAL, timeout=timeout)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}\n{mgr.logs()[-3000:]}"
    return got


def test_get_logs_returns_stdout_and_stderr_lines(mgr):
    from logs_wf import chatty

    run = flyte.run(chatty, n=3)
    got = _succeeded(run, mgr)
    text = "".join(got.get_logs())
    for i in range(3):
        assert f"to stdout {i}" in text, text
        assert f"to stderr {i}" in text, text
    # Order within one stream is kept.
    assert text.index("to stdout 0") < text.index("to stdout 1") < text.index("to stdout 2")


def test_show_logs_prints_the_lines(mgr, capsys):
    from logs_wf import chatty

    run = flyte.run(chatty, n=2)
    got = _succeeded(run, mgr)
    got.show_logs(raw=True)
    out = capsys.readouterr().out
    assert "to stdout 1" in out and "to stderr 1" in out, out


def test_flyte_get_logs_cli(mgr):
    from logs_wf import chatty

    run = flyte.run(chatty, n=2)
    _succeeded(run, mgr)
    cli = subprocess.run(
        [str(VENV_BIN / "flyte"), "--endpoint", mgr.endpoint, "--insecure", "get", "logs", run.name,
         "--project", "flytesnacks", "--domain", "development"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "FLYTE_DISABLE_SENTRY": "true"})
    assert cli.returncode == 0, cli.stderr + cli.stdout
    assert "to stdout 1" in cli.stdout and "to stderr 0" in cli.stdout, cli.stdout + cli.stderr


def test_follow_sees_a_line_printed_after_the_request_and_ends_with_the_task(mgr, tmp_path):
    from logs_wf import gated_printer

    gate = tmp_path / "gate"
    run = flyte.run(gated_printer, gate_file=str(gate))
    wait_phase(run.name, {"ActionPhase.RUNNING"} | TERMINAL, timeout=60)
    seen, errors = [], []

    def follow():
        try:
            for line in remote.Run.get(run.name).get_logs():
                seen.append(line)
                if "waiting for the gate" in line and not gate.exists():
                    gate.write_text("open")  # only now, with the stream open, may the task go on
        except Exception as e:  # surfaced by the assertions below
            errors.append(e)

    t = threading.Thread(target=follow, daemon=True)
    t.start()
    t.join(timeout=90)
    assert not t.is_alive(), f"the log stream did not end with the task; saw {seen}"
    assert not errors, errors
    text = "".join(seen)
    assert "waiting for the gate" in text and "printed after the gate opened" in text, text
    assert str(remote.Run.get(run.name).phase) == "ActionPhase.SUCCEEDED"


def test_first_attempt_of_a_retried_task_has_its_own_logs(mgr):
    from logs_wf import fails_once

    run = flyte.run(fails_once, x=4)
    got = _succeeded(run, mgr)
    first = "".join(got.get_logs(attempt=1))
    second = "".join(got.get_logs(attempt=2))
    assert "attempt number 0 speaking" in first, first
    assert "attempt number 1 speaking" in second and "attempt number 0" not in second, second
