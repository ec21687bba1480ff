"""Tasks the SDK end-to-end tests submit. A plain image string: no image build, the executor runs the container
command as a local process with the SDK's venv on PATH."""
import flyte

env = flyte.TaskEnvironment(name="sdk_e2e", image="python:3.11-slim")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def fail(msg: str) -> int:
    raise ValueError(msg)


@env.task
async def sleepy(seconds: int) -> int:
    import asyncio

    await asyncio.sleep(seconds)
    return seconds
