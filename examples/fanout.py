"""A parent task that fans out to children, run on a local flyte-cpp stack (see README, "Run a Python workflow")."""
import asyncio

import flyte

env = flyte.TaskEnvironment(name="demo", image="local/unused:1")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def fan(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))


if __name__ == "__main__":
    flyte.init(endpoint="localhost:8090", insecure=True, project="flytesnacks", domain="development")
    run = flyte.run(fan, n=20)
    print("run:", run.name)
    run.wait()
    print("outputs:", run.outputs())
