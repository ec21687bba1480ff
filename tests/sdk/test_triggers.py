"""Issue 13 item 4: schedules with the official SDK and CLI against flyte-manager. `flyte.deploy` stores a task's
triggers; the scheduler in runs-service fires a fixed-rate trigger at its tick with the trigger's inputs and the
tick as the TriggerTime input, and the run shows the trigger; a deactivated or not auto-activated trigger does not
fire; `flyte get trigger` and `flyte.remote.Trigger` list, show, create and delete them; a bad cron expression fails the deploy
naming the field."""
import time
from datetime import timedelta

import flyte
import flyte.remote as remote
import pytest

from conftest import TERMINAL, cli, wait_phase

TASK = "sdk_triggers.stamp"


def _runs_of(trigger_name):
    return [r for r in remote.Run.listall() if r.pb2.action.metadata.trigger_name == trigger_name]


def test_fixed_rate_trigger_fires_with_the_kickoff_time_and_deactivation_stops_another(mgr):
    import triggers_wf

    assert flyte.deploy(triggers_wf.env)
    # Deactivated before its first tick, so it never fires.
    remote.Trigger.update("stopped", TASK, active=False)
    assert not remote.Trigger.get(name="stopped", task_name=TASK).is_active

    tick = triggers_wf.START_FIRES + timedelta(minutes=1)
    deadline = time.time() + 90
    runs = []
    while time.time() < deadline and not runs:
        runs = _runs_of("every-minute")
        time.sleep(1)
    assert len(runs) == 1, mgr.logs()[-3000:]
    meta = runs[0].pb2.action.metadata
    assert meta.trigger_id.name.task_name == TASK
    assert meta.source == 3  # RUN_SOURCE_SCHEDULE_TRIGGER
    got = wait_phase(runs[0].name, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", mgr.logs()[-3000:]
    assert got.outputs()[0] == f"scheduled {tick.isoformat()}"
    assert remote.Trigger.get(name="every-minute", task_name=TASK).status.triggered_at.ToDatetime() == tick.replace(
        tzinfo=None)

    # Past the deactivated trigger's tick: no run of it, nor of the inactive one; one of every-minute still.
    while time.time() < (triggers_wf.START_STOPPED + timedelta(seconds=65)).timestamp():
        time.sleep(1)
    assert _runs_of("stopped") == []
    assert _runs_of("dormant") == []
    assert len(_runs_of("every-minute")) == 1


def test_triggers_are_listed_and_shown(flyte_client):
    import triggers_wf

    assert flyte.deploy(triggers_wf.env)
    listed = {t.name: t for t in remote.Trigger.listall(task_name=TASK)}
    assert {"every-minute", "stopped", "new-year", "dormant"} <= set(listed)
    assert not listed["dormant"].is_active
    cron = remote.Trigger.get(name="new-year", task_name=TASK)
    assert cron.automation_spec.schedule.cron.expression == "0 0 1 1 *"
    assert cron.automation_spec.schedule.kickoff_time_input_arg == "when"
    assert cron.is_active

    rc, out = cli(flyte_client, "get", "trigger", "--project", "flytesnacks", "--domain", "development")
    assert rc == 0, out
    for name in ("every-minute", "new-year", "dormant"):
        assert name in out, out
    rc, out = cli(flyte_client, "get", "trigger", TASK, "new-year", "--project", "flytesnacks", "--domain",
                  "development")
    assert rc == 0, out
    assert "0 0 1 1 *" in out, out


def test_a_trigger_fired_on_demand_runs_its_task_and_shows_the_trigger(mgr):
    import triggers_wf

    assert flyte.deploy(triggers_wf.env)
    run = flyte.run(remote.Trigger.get(name="new-year", task_name=TASK), label="on-demand")
    got = wait_phase(run.name, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", mgr.logs()[-3000:]
    assert got.outputs()[0].startswith("on-demand ")  # the kickoff input is the run's start time
    meta = remote.Run.get(run.name).pb2.action.metadata
    assert meta.trigger_name == "new-year"
    assert meta.trigger_type.schedule.cron.expression == "0 0 1 1 *"


def test_create_and_delete_a_trigger_of_a_deployed_task(flyte_client):
    import triggers_wf

    assert flyte.deploy(triggers_wf.env)
    created = remote.Trigger.create(
        flyte.Trigger("made-remotely", flyte.Cron("@daily"), inputs={"when": flyte.TriggerTime, "label": "remote"}),
        task_name=TASK)
    assert created.name == "made-remotely"
    shown = remote.Trigger.get(name="made-remotely", task_name=TASK)
    assert shown.automation_spec.schedule.cron.expression == "@daily"
    assert shown.is_active
    remote.Trigger.delete("made-remotely", TASK)
    assert "made-remotely" not in {t.name for t in remote.Trigger.listall(task_name=TASK)}


def test_a_bad_cron_expression_fails_the_deploy_naming_the_field(flyte_client):
    import triggers_wf

    with pytest.raises(Exception) as e:
        flyte.deploy(triggers_wf.bad_env)
    assert "automation_spec.schedule.cron.expression" in str(e.value)
    assert "minute field" in str(e.value)
