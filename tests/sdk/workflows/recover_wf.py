"""Tasks for the recovery test (`flyte rerun --recover`): a parent awaiting three children one by one.

Every child appends a line to `<marker_dir>/child-<i>.log` each time it runs, so the test can count executions;
child 2 fails unless `<marker_dir>/allow-2` exists, so the test decides when it may succeed."""
from pathlib import Path

import flyte

env = flyte.TaskEnvironment(name="sdk_recover", image="python:3.11-slim")


@env.task
async def counted_child(i: int, marker_dir: str) -> int:
    d = Path(marker_dir)
    with (d / f"child-{i}.log").open("a") as f:
        f.write("ran\n")
    if i == 2 and not (d / "allow-2").exists():
        raise ValueError(f"child {i} fails until {d / 'allow-2'} exists")
    return (i + 1) * 100


@env.task
async def three_children(marker_dir: str) -> int:
    total = 0
    for i in range(3):
        total += await counted_child(i, marker_dir)
    return total
