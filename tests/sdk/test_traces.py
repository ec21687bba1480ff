"""Issue 12 item 2: @flyte.trace calls are recorded as TRACE actions with their outputs, never queued or executed,
and a retried task replays its traces and succeeds. The official SDK against flyte-manager."""
import flyte
import flyte.remote as remote

from conftest import TERMINAL, wait_phase


def _traces(run_name):
    return [a for a in remote.Action.listall(for_run_name=run_name) if a.name != "a0"]


def _succeeded(stack, run):
    got = wait_phase(run.name, TERMINAL, timeout=120)
    err = remote.ActionDetails.get(run_name=run.name, name="a0").error_info
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {err}\n{stack.logs()[-3000:]}"
    return got


def test_traced_calls_are_recorded_not_run(mgr):
    from retry_wf import with_traces

    run = flyte.run(with_traces, x=3)
    got = _succeeded(mgr, run)
    assert got.outputs()[0] == 14  # (3 * 2 + 1) * 2
    traces = _traces(run.name)
    assert len(traces) == 2, traces
    for t in traces:
        assert str(t.phase) == "ActionPhase.SUCCEEDED"
        d = remote.ActionDetails.get(run_name=run.name, name=t.name)
        assert d.pb2.metadata.action_type == 2, d.pb2.metadata  # ACTION_TYPE_TRACE
        assert d.attempts == 1
    # Nothing was handed to the executor: no trace has log files of a process.
    assert "carries no task" not in mgr.logs()


def test_retried_task_with_traces_succeeds(mgr):
    from retry_wf import retried_with_traces

    run = flyte.run(retried_with_traces, x=4)
    got = _succeeded(mgr, run)
    assert got.outputs()[0] == 18  # (4 * 2 + 1) * 2
    assert remote.ActionDetails.get(run_name=run.name, name="a0").attempts == 2
    traces = _traces(run.name)
    assert traces and all(str(t.phase) == "ActionPhase.SUCCEEDED" for t in traces), traces
