"""Tasks with schedules for the trigger SDK tests (test_triggers.py).

The fixed-rate triggers run every minute from a start time just under a minute before this module is imported, so
their first tick comes a few seconds after the test deploys them: `every-minute` at START_FIRES + 60 s, `stopped`
(deactivated by the test before its tick) at START_STOPPED + 60 s."""
from datetime import datetime, timedelta, timezone

import flyte

_now = datetime.now(timezone.utc).replace(microsecond=0)
START_FIRES = _now - timedelta(seconds=50)
START_STOPPED = _now - timedelta(seconds=40)

env = flyte.TaskEnvironment(name="sdk_triggers", image="python:3.11-slim")


@env.task(
    triggers=(
        flyte.Trigger("every-minute", flyte.FixedRate(1, start_time=START_FIRES),
                      inputs={"when": flyte.TriggerTime, "label": "scheduled"}),
        flyte.Trigger("stopped", flyte.FixedRate(1, start_time=START_STOPPED),
                      inputs={"when": flyte.TriggerTime, "label": "never"}),
        flyte.Trigger("new-year", flyte.Cron("0 0 1 1 *"), inputs={"when": flyte.TriggerTime, "label": "cron"}),
        flyte.Trigger("dormant", flyte.Cron("*/5 * * * *"), auto_activate=False,
                      inputs={"when": flyte.TriggerTime, "label": "dormant"}),
    )
)
async def stamp(when: datetime, label: str) -> str:
    return f"{label} {when.astimezone(timezone.utc).isoformat()}"


bad_env = flyte.TaskEnvironment(name="sdk_triggers_bad", image="python:3.11-slim")


@bad_env.task(triggers=flyte.Trigger("bad-cron", flyte.Cron("61 * * * *"), inputs={"when": flyte.TriggerTime}))
async def badly_scheduled(when: datetime) -> str:
    return when.isoformat()
