"""Tasks the SDK end-to-end tests submit. A plain image string: no image build, the executor runs the container
command as a local process with the SDK's venv on PATH."""
from dataclasses import dataclass

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


@dataclass
class Point:
    x: int
    y: float
    label: str


@env.task
async def typed(i: int, s: str, f: float, b: bool, li: list[int], d: dict[str, int], p: Point) -> Point:
    return Point(x=i + sum(li) + sum(d.values()), y=f * 2, label=f"{s}-{b}-{p.label}")


@env.task
async def child(i: int) -> int:
    return i * 10


@env.task
async def parent_seq(n: int) -> list[int]:
    out = []
    for i in range(n):
        out.append(await child(i))
    return out


@env.task
async def parent_fanout(n: int) -> int:
    import asyncio

    results = await asyncio.gather(*(child(i) for i in range(n)))
    return sum(results)


@env.task
async def child_sleep(pid_dir: str, i: int) -> int:
    import asyncio
    import os

    with open(os.path.join(pid_dir, f"child-{i}-{os.getpid()}"), "w") as fh:
        fh.write(str(os.getpid()))
    await asyncio.sleep(600)
    return i


@env.task
async def parent_sleep(pid_dir: str, n: int) -> int:
    import asyncio
    import os

    with open(os.path.join(pid_dir, f"parent-{os.getpid()}"), "w") as fh:
        fh.write(str(os.getpid()))
    results = await asyncio.gather(*(child_sleep(pid_dir, i) for i in range(n)))
    return sum(results)
