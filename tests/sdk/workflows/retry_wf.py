"""Tasks for the retry SDK tests: retried failures.

FLYTE_ATTEMPT_NUMBER (0-based) is set by the executor for every attempt."""
import os

import flyte

env = flyte.TaskEnvironment(name="sdk_retry", image="python:3.11-slim")


def _attempt() -> int:
    return int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))


@env.task(retries=3)
async def flaky(x: int) -> int:
    """Fails on its first two attempts, succeeds on the third."""
    if _attempt() < 2:
        raise ValueError(f"attempt {_attempt()} fails on purpose")
    return x + _attempt()


@env.task
async def parent_of_flaky(x: int) -> int:
    return await flaky(x) * 10
