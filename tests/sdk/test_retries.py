"""Issue 12 item 1: a retried task is never FAILED while retries remain (phase, watches, the state a parent reads);
each failed attempt is visible as an attempt. The official SDK against flyte-manager."""
import flyte
import flyte.remote as remote
import pytest
from flyte.syncify import syncify

from conftest import TERMINAL, wait_phase, watch_phases


_watch_phases = syncify(watch_phases)


def _details(run_name):
    return remote.ActionDetails.get(run_name=run_name, name="a0")


def test_watch_sees_a_retried_run_succeed_without_failing(mgr):
    from retry_wf import flaky

    run = flyte.run(flaky, x=5)
    phases = _watch_phases(run)
    assert phases and phases[-1] == "ActionPhase.SUCCEEDED", f"{phases}\n{mgr.logs()[-3000:]}"
    assert "ActionPhase.FAILED" not in phases, phases
    got = remote.Run.get(run.name)
    assert str(got.phase) == "ActionPhase.SUCCEEDED"
    assert got.outputs()[0] == 7  # x + the attempt number (0-based) that succeeded
    # The two failed attempts are recorded as attempts of the action.
    details = _details(run.name)
    assert details.attempts == 3
    attempts = list(details.pb2.attempts)
    assert [a.phase for a in attempts][:2] == [6, 6], attempts  # ACTION_PHASE_FAILED
    assert "fails on purpose" in attempts[0].error_info.message


def test_wait_returns_the_final_outcome(mgr):
    from retry_wf import flaky

    run = flyte.run(flaky, x=1)
    run.wait(quiet=True)
    assert str(run.phase) == "ActionPhase.SUCCEEDED", f"{run.phase}\n{mgr.logs()[-3000:]}"


@pytest.mark.parametrize("trial", range(4))
def test_parent_awaiting_a_retried_child_succeeds(mgr, trial):
    from retry_wf import parent_of_flaky

    run = flyte.run(parent_of_flaky, x=trial)
    got = wait_phase(run.name, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {_details(run.name).error_info}"
    assert got.outputs()[0] == (trial + 2) * 10
