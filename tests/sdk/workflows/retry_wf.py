"""Tasks for the retry, trace and abort SDK tests: retried failures, @flyte.trace calls, a task that reports its pid.

FLYTE_ATTEMPT_NUMBER (0-based) is set by the executor for every attempt."""
import asyncio
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


@flyte.trace
async def traced_double(x: int) -> int:
    return x * 2


@env.task
async def with_traces(x: int) -> int:
    a = await traced_double(x)
    return await traced_double(a + 1)


@env.task(retries=2)
async def retried_with_traces(x: int) -> int:
    """Records a trace, then fails its first attempt; the retry replays the trace and succeeds."""
    a = await traced_double(x)
    if _attempt() < 1:
        raise ValueError("the first attempt fails after its trace")
    return await traced_double(a + 1)


@env.task
async def sleeper(pid_file: str) -> int:
    with open(pid_file, "w") as fh:
        fh.write(str(os.getpid()))
    await asyncio.sleep(600)
    return 0
