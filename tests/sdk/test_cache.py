"""Issue 13 item 1: task output caching with the official SDK against flyte-manager. A cached task with the same
inputs runs once (its marker file proves it) and later runs take its outputs with CACHE_HIT; different inputs or
another cache version miss; overwrite_cache runs again and replaces the entry; serialize=True lets one of several
identical concurrent children run while the others wait for its outputs."""
import shutil

import flyte
import flyte.remote as remote
from flyteidl2.core import catalog_pb2

from conftest import TERMINAL, wait_phase

HIT = catalog_pb2.CACHE_HIT
POPULATED = catalog_pb2.CACHE_POPULATED


def _finish(run, mgr):
    got = wait_phase(run.name, TERMINAL, timeout=120)
    assert str(got.phase) == "ActionPhase.SUCCEEDED", f"{got.phase}\n{mgr.logs()[-3000:]}"
    return got


def _root(run_name):
    return remote.ActionDetails.get(run_name=run_name, name="a0")


def _lines(marker):
    try:
        with open(marker) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def test_same_inputs_run_once_and_hit_after_the_first_run_is_gone(mgr, tmp_path):
    from cache_wf import cached_square

    marker = str(tmp_path / "ran.txt")
    first = _finish(flyte.run(cached_square, x=7, marker=marker), mgr)
    assert first.outputs()[0] == 49
    assert _root(first.name).pb2.status.cache_status == POPULATED
    # The entry holds a copy: the run that made it may go.
    run_dirs = [d for d in mgr.data.rglob(first.name) if d.is_dir()]
    assert run_dirs, f"no directory of run {first.name} under {mgr.data}"
    for d in run_dirs:
        shutil.rmtree(d)
    # Another run, another marker value (ignored input): the same cache key.
    second = _finish(flyte.run(cached_square, x=7, marker=marker + ".unused"), mgr)
    assert second.outputs()[0] == 49
    details = _root(second.name)
    assert details.pb2.status.cache_status == HIT
    assert [a.cache_status for a in details.pb2.attempts] == [HIT]
    assert "task cache" in details.pb2.attempts[0].cluster_events[-1].message
    assert _lines(marker) == ["square 7"]
    assert not (tmp_path / "ran.txt.unused").exists()  # nothing ran the second time
    # The listing shows it too.
    listed = [a for a in remote.Action.listall(for_run_name=second.name) if a.name == "a0"]
    assert listed and listed[0].pb2.status.cache_status == HIT


def test_different_inputs_or_version_miss(mgr, tmp_path):
    from cache_wf import cached_square, versioned

    marker = str(tmp_path / "ran.txt")
    _finish(flyte.run(cached_square, x=3, marker=marker), mgr)
    _finish(flyte.run(cached_square, x=4, marker=marker), mgr)
    assert _lines(marker) == ["square 3", "square 4"]

    v1 = _finish(flyte.run(versioned, x=1, marker=marker), mgr)
    again = _finish(flyte.run(versioned, x=1, marker=marker), mgr)
    assert _root(again.name).pb2.status.cache_status == HIT
    v2_task = versioned.override(cache=flyte.Cache(behavior="override", version_override="v2", ignored_inputs=("marker",)))
    v2 = _finish(flyte.run(v2_task, x=1, marker=marker), mgr)
    assert _root(v2.name).pb2.status.cache_status == POPULATED
    assert v1.outputs()[0] == again.outputs()[0] == v2.outputs()[0] == "computed 1"
    assert _lines(marker) == ["square 3", "square 4", "versioned 1", "versioned 1"]


def test_overwrite_cache_runs_again_and_replaces(mgr, tmp_path):
    from cache_wf import cached_square

    marker = str(tmp_path / "ran.txt")
    _finish(flyte.run(cached_square, x=11, marker=marker), mgr)
    over = _finish(flyte.with_runcontext(overwrite_cache=True).run(cached_square, x=11, marker=marker), mgr)
    assert _root(over.name).pb2.status.cache_status == POPULATED
    assert _lines(marker) == ["square 11", "square 11"]
    after = _finish(flyte.run(cached_square, x=11, marker=marker), mgr)
    assert _root(after.name).pb2.status.cache_status == HIT
    assert after.outputs()[0] == 121
    assert len(_lines(marker)) == 2


def test_cached_child_hits_across_runs(mgr, tmp_path):
    from cache_wf import parent_of_cached

    marker = str(tmp_path / "ran.txt")
    first = _finish(flyte.run(parent_of_cached, x=5, marker=marker), mgr)
    second = _finish(flyte.run(parent_of_cached, x=5, marker=marker), mgr)
    assert first.outputs()[0] == second.outputs()[0] == 26
    assert _lines(marker) == ["square 5"]
    children = [a for a in remote.Action.listall(for_run_name=second.name) if a.name != "a0"]
    assert [c.pb2.status.cache_status for c in children] == [HIT]


def test_serialize_runs_one_of_identical_concurrent_children(mgr, tmp_path):
    from cache_wf import fan_out_identical

    marker = str(tmp_path / "ran.txt")
    run = _finish(flyte.run(fan_out_identical, x=1, n=4, marker=marker), mgr)
    assert run.outputs()[0] == [101, 101, 101, 101]
    assert _lines(marker) == ["slow 1"], mgr.logs()[-3000:]
    statuses = sorted(a.pb2.status.cache_status for a in remote.Action.listall(for_run_name=run.name) if a.name != "a0")
    assert statuses == sorted([POPULATED, HIT, HIT, HIT]), statuses
