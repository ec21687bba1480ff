"""Tasks for tests/sdk/test_files.py (issue 12 item 4): File and Dir made with from_local, on the client and inside
a task, must be data any later task (a separate process, possibly on another node) can read."""
import os
import tempfile

import flyte
from flyte.io import Dir, File

env = flyte.TaskEnvironment(name="files_e2e", image="python:3.11-slim")


@env.task
async def read_file(f: File) -> str:
    async with f.open("rb") as fh:
        return (await fh.read()).decode()


@env.task
async def read_dir(d: Dir) -> list[str]:
    out = []
    async for f in d.walk():
        async with f.open("rb") as fh:
            out.append(f"{f.name}={(await fh.read()).decode()}")
    return sorted(out)


@env.task
async def make_file(text: str) -> File:
    """Writes text to a file in the task's own temp dir and uploads it with File.from_local."""
    fd, path = tempfile.mkstemp(prefix="flyte-from-local-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return await File.from_local(path)


@env.task
async def make_dir(text: str) -> Dir:
    d = tempfile.mkdtemp(prefix="flyte-from-local-dir-")
    with open(os.path.join(d, "a.txt"), "w") as fh:
        fh.write(text)
    return await Dir.from_local(d)

