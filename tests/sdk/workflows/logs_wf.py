"""Tasks for the logs SDK tests: known lines on stdout and stderr, a task that keeps printing until the test lets it
finish, and a retried task whose attempts print different lines.

FLYTE_ATTEMPT_NUMBER (0-based) is set by the executor for every attempt."""
import asyncio
import os
import sys

import flyte

env = flyte.TaskEnvironment(name="sdk_logs", image="python:3.11-slim")


@env.task
async def chatty(n: int) -> int:
    for i in range(n):
        print(f"to stdout {i}", flush=True)
        print(f"to stderr {i}", file=sys.stderr, flush=True)
    return n


@env.task
async def gated_printer(gate_file: str) -> str:
    """Prints, then waits (up to a minute) for `gate_file` to exist, then prints again and ends."""
    print("waiting for the gate", flush=True)
    for _ in range(600):
        if os.path.exists(gate_file):
            break
        await asyncio.sleep(0.1)
    print("printed after the gate opened", flush=True)
    return "done"


@env.task(retries=1)
async def fails_once(x: int) -> int:
    attempt = int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))
    print(f"attempt number {attempt} speaking", flush=True)
    if attempt < 1:
        raise ValueError("the first attempt fails on purpose")
    return x
