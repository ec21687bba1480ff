"""Issue 12 item 4: File.from_local / Dir.from_local, on the client (uploaded through the data proxy) and inside a
task (copied into the run's data), give data a later task -- a separate process, possibly on another node -- can
read. The official SDK against flyte-manager.

In a task the SDK keeps a from_local file at its own path (the raw-data prefix is file://); the executor copies such
outputs into the attempt's raw/ when the task succeeds (services/executor/src/runtime/output_localizer.h)."""
import os
from pathlib import Path

import flyte
import flyte.remote as remote
from flyte.io import Dir, File

from conftest import TERMINAL, wait_phase


def _outputs(stack, run):
    got = wait_phase(run.name, TERMINAL, timeout=120)
    err = remote.ActionDetails.get(run_name=run.name, name="a0").error_info
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}: {err}\n{stack.logs()[-3000:]}"
    return got.outputs()


def _local_path(uri: str) -> Path:
    return Path(uri[len("file://"):] if uri.startswith("file://") else uri)


def test_client_file_from_local_is_readable_by_the_task(mgr, tmp_path):
    from files_wf import read_file

    src = tmp_path / "hello.txt"
    src.write_text("hello from the client")
    run = flyte.run(read_file, f=File.from_local_sync(str(src)))
    assert _outputs(mgr, run)[0] == "hello from the client"


def test_client_dir_from_local_is_readable_by_the_task(mgr, tmp_path):
    from files_wf import read_dir

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("A")
    (d / "b.txt").write_text("B")
    run = flyte.run(read_dir, d=Dir.from_local_sync(str(d)))
    assert _outputs(mgr, run)[0] == ["a.txt=A", "b.txt=B"]


def test_task_file_from_local_lands_in_the_run_data(mgr):
    from files_wf import make_file, read_file

    run = flyte.run(make_file, text="made in a task")
    f = _outputs(mgr, run)[0]
    # The file lives under the data root, not in the task's /tmp.
    on_disk = _local_path(f.path).resolve()
    assert on_disk.is_relative_to(mgr.data.resolve()), f.path
    assert on_disk.read_text() == "made in a task"
    # No trace of the task-side source is needed: delete every source file the task left in the temp dir.
    for leftover in Path(os.environ.get("TMPDIR", "/tmp")).glob("flyte-from-local-*.txt"):
        leftover.unlink()
    # A later task (another process) reads it.
    run2 = flyte.run(read_file, f=f)
    assert _outputs(mgr, run2)[0] == "made in a task"


def test_task_dir_from_local_lands_in_the_run_data(mgr):
    from files_wf import make_dir, read_dir

    run = flyte.run(make_dir, text="dir in a task")
    d = _outputs(mgr, run)[0]
    assert _local_path(d.path).resolve().is_relative_to(mgr.data.resolve()), d.path
    run2 = flyte.run(read_dir, d=d)
    assert _outputs(mgr, run2)[0] == ["a.txt=dir in a task"]
