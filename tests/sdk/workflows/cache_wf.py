"""Tasks for the task output cache SDK tests (test_cache.py).

Every task appends a line to the file named by its `marker` input each time it really runs; `marker` is an ignored
input, so it does not take part in the cache key and the file tells how often the task ran."""
import asyncio

import flyte

env = flyte.TaskEnvironment(name="sdk_cache", image="python:3.11-slim")


def _ran(marker: str, what: str) -> None:
    with open(marker, "a") as f:
        f.write(what + "\n")


@env.task(cache=flyte.Cache(behavior="auto", ignored_inputs=("marker",)))
async def cached_square(x: int, marker: str) -> int:
    _ran(marker, f"square {x}")
    return x * x


@env.task(cache=flyte.Cache(behavior="override", version_override="v1", ignored_inputs=("marker",)))
async def versioned(x: int, marker: str) -> str:
    _ran(marker, f"versioned {x}")
    return f"computed {x}"


@env.task(cache=flyte.Cache(behavior="auto", serialize=True, ignored_inputs=("marker",)))
async def slow_serialized(x: int, marker: str) -> int:
    _ran(marker, f"slow {x}")
    await asyncio.sleep(2)
    return x + 100


@env.task
async def fan_out_identical(x: int, n: int, marker: str) -> list[int]:
    """n identical calls at once: with serialize=True one runs, the others wait for its outputs."""
    return list(await asyncio.gather(*(slow_serialized(x, marker) for _ in range(n))))


@env.task
async def parent_of_cached(x: int, marker: str) -> int:
    return await cached_square(x, marker) + 1
