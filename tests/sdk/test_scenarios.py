"""Issue scenarios end to end: the official SDK against flyte-manager (runs + queue + executor), each its own test."""
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

import flyte
import flyte.remote as remote
from flyte.syncify import syncify

from conftest import BUILD, TERMINAL, alive, wait_phase, watch_phases

TIMINGS = {}


@pytest.fixture(scope="module", autouse=True)
def _timings_file():
    yield
    if TIMINGS:
        line = "SDK timing: " + " ".join(f"{k}={v:.2f} s" for k, v in sorted(TIMINGS.items()))
        print("\n" + line)
        out = BUILD / "sdk-timings.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({k: round(v, 3) for k, v in TIMINGS.items()}, indent=2) + "\n")


def _err(run_name):
    try:
        return remote.ActionDetails.get(run_name=run_name, name="a0").error_info
    except Exception as e:  # noqa: BLE001 - diagnostics only
        return repr(e)


def _finish(stack, run, timeout=90):
    """Bounded poll to a terminal phase (a stack that never runs it fails instead of hanging), then run.wait()."""
    got = wait_phase(run.name, TERMINAL, timeout=timeout)
    assert str(got.phase) in TERMINAL, stack.logs()[-4000:]
    run.wait(quiet=True)
    return remote.Run.get(run.name)


def _succeeded(stack, run, timeout=90):
    got = _finish(stack, run, timeout)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {_err(got.name)}\n{stack.logs()[-4000:]}"
    return got


def test_typed_inputs_and_outputs(mgr):
    from sdk_wf import Point, typed

    args = dict(i=3, s="hey", f=1.25, b=True, li=[1, 2, 3], d={"a": 10, "b": 20}, p=Point(x=1, y=2.5, label="pt"))
    run = flyte.run(typed, **args)
    got = _succeeded(mgr, run)
    out = got.outputs()[0]
    assert (out.x, out.y, out.label) == (39, 2.5, "hey-True-pt")
    inputs = got.inputs()
    for k in ("i", "s", "f", "b", "li", "d"):
        assert inputs[k] == args[k], k
    p = inputs["p"]
    assert (p.x, p.y, p.label) == (1, 2.5, "pt")


def test_trivial_timing(mgr):
    from sdk_wf import square

    t0 = time.monotonic()
    run = flyte.run(square, x=5)
    run.wait(quiet=True)
    assert run.outputs()[0] == 25
    TIMINGS["trivial"] = time.monotonic() - t0


def _children(run_name):
    return [a for a in remote.Action.listall(for_run_name=run_name) if a.name != "a0"]


def test_parent_sequential_children(mgr):
    from sdk_wf import parent_seq

    run = flyte.run(parent_seq, n=3)
    got = _succeeded(mgr, run)
    assert got.outputs()[0] == [0, 10, 20]
    kids = _children(run.name)
    assert len(kids) == 3, [k.name for k in kids]
    assert all(k.parent_name == "a0" for k in kids)
    assert {str(k.phase) for k in kids} == {"ActionPhase.SUCCEEDED"}


def test_listall_by_parent_name(mgr):
    from sdk_wf import parent_seq

    run = flyte.run(parent_seq, n=2)
    _succeeded(mgr, run)
    kids = list(remote.Action.listall(for_run_name=run.name, parent_name="a0"))
    assert sorted(k.name for k in kids) == sorted(k.name for k in _children(run.name))


def test_parent_fanout_20(mgr):
    from sdk_wf import parent_fanout

    t0 = time.monotonic()
    run = flyte.run(parent_fanout, n=20)
    wait_phase(run.name, TERMINAL, timeout=150)
    run.wait(quiet=True)
    got = remote.Run.get(run.name)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {_err(got.name)}\n{mgr.logs()[-4000:]}"
    assert got.outputs()[0] == sum(i * 10 for i in range(20))
    TIMINGS["fanout20"] = time.monotonic() - t0
    kids = _children(run.name)
    assert len(kids) == 20, [k.name for k in kids]
    assert all(k.parent_name == "a0" for k in kids)
    assert {str(k.phase) for k in kids} == {"ActionPhase.SUCCEEDED"}


def test_failure_shows_python_error(mgr):
    from sdk_wf import fail

    run = flyte.run(fail, msg="kaboom-7f3a")
    got = _finish(mgr, run)
    assert str(got.phase) == "ActionPhase.FAILED"
    err = remote.ActionDetails.get(run_name=run.name, name="a0").error_info
    assert err is not None
    assert "kaboom-7f3a" in err.message, err
    assert err.code == "ValueError", err


def test_abort_kills_parent_and_children(mgr):
    from sdk_wf import parent_sleep

    with tempfile.TemporaryDirectory(prefix="sdk-abort-") as pid_dir:
        os.chmod(pid_dir, 0o777)
        run = flyte.run(parent_sleep, pid_dir=pid_dir, n=3)
        deadline = time.time() + 60
        while time.time() < deadline and len(os.listdir(pid_dir)) < 4:
            time.sleep(0.3)
        files = os.listdir(pid_dir)
        assert len(files) == 4, f"{files}\n{mgr.logs()[-3000:]}"
        pids = [int(f.rsplit("-", 1)[1]) for f in files]
        assert all(alive(p) for p in pids)
        run.abort()
        got = wait_phase(run.name, {"ActionPhase.ABORTED"}, timeout=30)
        assert str(got.phase) == "ActionPhase.ABORTED"
        deadline = time.time() + 20
        while time.time() < deadline and any(alive(p) for p in pids):
            time.sleep(0.3)
        assert [p for p in pids if alive(p)] == [], files


_watch_phases = syncify(watch_phases)


def test_listall_get_and_watch(mgr):
    from sdk_wf import square

    run = flyte.run(square, x=4)
    phases = []
    phases = _watch_phases(run)
    assert phases and phases[-1] == "ActionPhase.SUCCEEDED", phases
    assert run.name in [r.name for r in remote.Run.listall()]
    got = remote.Run.get(run.name)
    assert got.name == run.name and str(got.phase) == "ActionPhase.SUCCEEDED"


def test_deployed_task_executes_by_reference(mgr):
    from sdk_wf import env

    assert flyte.deploy(env)
    task = remote.Task.get("sdk_e2e.square", auto_version="latest")
    run = flyte.run(task, x=12)
    got = _succeeded(mgr, run)
    assert got.outputs()[0] == 144


def test_default_copy_style_bundle_runs(mgr):
    from sdk_wf import square

    run = flyte.with_runcontext(copy_style="loaded_modules").run(square, x=6)
    got = _succeeded(mgr, run)
    assert got.outputs()[0] == 36
    bundles = list(mgr.data.glob("flytesnacks/development/*/fast*.tar.gz"))
    assert bundles, "code bundle was not uploaded"
