"""SDK end-to-end timings against flyte-manager, warm Python pool on vs off (scripts/bench-sdk.sh).

Starts the stack of tests/sdk/conftest.py (flyte-manager on SQLite, the pinned SDK's venv as pythonPath) once per
mode and times, with the official SDK as a user would: a trivial `flyte.run` -> outputs, a parent gathering 50 and
500 children, and (pool on) the RSS of flyte-manager and its zygotes over 1,000 attempts. Prints one JSON object.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "sdk"))
sys.path.insert(0, str(REPO / "tests" / "sdk" / "workflows"))

from conftest import Stack  # noqa: E402

TRIVIAL = int(os.environ.get("TRIVIAL_RUNS", "7"))
GATHER50 = int(os.environ.get("GATHER50_RUNS", "3"))
GATHER500 = int(os.environ.get("GATHER500_RUNS", "1"))
GATHER500_OFF = int(os.environ.get("GATHER500_RUNS_OFF", str(GATHER500)))  # cold 500-gathers take minutes
RSS_ATTEMPTS = int(os.environ.get("RSS_ATTEMPTS", "1000"))


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children_of(pid):
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
                if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                    out.append(int(p.name))
            except (OSError, ValueError):
                pass
    return out


def zygotes(manager_pid):
    return [c for c in children_of(manager_pid) if b"python_zygote.py" in Path(f"/proc/{c}/cmdline").read_bytes()]


def timed_run(task, **inputs):
    import flyte

    t0 = time.monotonic()
    run = flyte.run(task, **inputs)
    t1 = time.monotonic()
    run.wait(quiet=True)
    t2 = time.monotonic()
    outputs = run.outputs()
    t3 = time.monotonic()
    if str(run.phase) != "ActionPhase.SUCCEEDED":
        raise RuntimeError(f"{run.name} ended {run.phase}")
    return {"total": t3 - t0, "submit": t1 - t0, "wait": t2 - t1, "outputs": t3 - t2, "result": outputs}


def median(xs):
    return round(statistics.median(xs), 3) if xs else None


def bench(warm):
    import flyte
    from sdk_wf import parent_fanout, square

    with tempfile.TemporaryDirectory(prefix="flyte-bench-sdk-") as tmp:
        stack = Stack(Path(tmp), warm_python=warm)
        stack.start()
        manager = stack.procs[0][0].pid
        try:
            flyte.init(endpoint=stack.endpoint, insecure=True, project="flytesnacks", domain="development",
                       root_dir=REPO / "tests" / "sdk" / "workflows")
            # First runs: the code bundle upload, and the pool's zygotes importing in the background (one for root
            # actions, one for children: the SDK gives a root LOG_LEVEL & co. that children do not get). The
            # figures are for a warm pool.
            timed_run(square, x=2)
            timed_run(parent_fanout, n=2)
            if warm:
                deadline = time.time() + 60
                while len(zygotes(manager)) < 2 and time.time() < deadline:
                    time.sleep(0.2)
                time.sleep(3)
                timed_run(parent_fanout, n=2)
            trivial = [timed_run(square, x=3) for _ in range(TRIVIAL)]
            g50 = [timed_run(parent_fanout, n=50)["total"] for _ in range(GATHER50)]
            g500 = [timed_run(parent_fanout, n=500)["total"] for _ in range(GATHER500 if warm else GATHER500_OFF)]
            out = {
                "trivial_s": median([t["total"] for t in trivial]),
                "trivial_all_s": [round(t["total"], 3) for t in trivial],
                "trivial_submit_s": median([t["submit"] for t in trivial]),
                "trivial_wait_s": median([t["wait"] for t in trivial]),
                "trivial_outputs_s": median([t["outputs"] for t in trivial]),
                "gather50_s": median(g50), "gather50_all_s": [round(x, 2) for x in g50],
                "gather500_s": median(g500), "gather500_all_s": [round(x, 2) for x in g500],
            }
            if warm and RSS_ATTEMPTS:
                samples = []
                done = 0
                while done < RSS_ATTEMPTS:
                    timed_run(parent_fanout, n=99)  # 100 attempts: the parent and its 99 children
                    done += 100
                    zs = zygotes(manager)
                    samples.append({"attempts": done, "manager_kb": rss_kb(manager),
                                    "zygotes_kb": sum(rss_kb(z) for z in zs), "zygotes": len(zs)})
                out["rss"] = samples
            return out
        finally:
            stack.stop()


def render(r, command):
    """docs/benchmarks-sdk.md from one result."""
    m = r["machine"]
    on, off = r.get("on", {}), r.get("off", {})

    def cell(d, k, fmt="{:.2f} s"):
        return fmt.format(d[k]) if d.get(k) is not None else "-"

    lines = [
        "# SDK end-to-end benchmarks (warm Python pool)",
        "",
        "Measured by `scripts/bench-sdk.sh` with the official `flyte` SDK (the pinned version, scripts/sdk-venv.sh)",
        "against `flyte-manager` on SQLite, client and server on the same machine (2 cores here, possibly shared with",
        "other work: see the load averages below and the notes). Read medians, and the on/off ratio more than the",
        "absolute values. How the pool works: docs/executor.md, \"Warm Python pool\".",
        "",
        "## Machine and command",
        "",
        f"- date: {m['date']}; commit: {m['commit']}; `nproc` = {m['nproc']}; {m['cpu']}",
        f"- load average (1/5/15 min) at the start: {' '.join(f'{x:.2f}' for x in m['loadavg_start'])}, "
        f"at the end: {' '.join(f'{x:.2f}' for x in m['loadavg_end'])}",
        f"- command: `{command}`",
        f"- trivial run: {len(on.get('trivial_all_s', off.get('trivial_all_s', [])))} runs per mode after one "
        "warm-up run (code bundle upload; the zygote's imports); gathers: "
        f"{len(on.get('gather50_all_s', []))} x 50 and {len(on.get('gather500_all_s', []))} x 500 children per mode",
        "",
        "## Figures (medians)",
        "",
        "| scenario | pool on (`executor.warmPython: true`) | pool off (cold spawn) | target |",
        "|---|---|---|---|",
        f"| trivial `flyte.run` -> outputs | {cell(on, 'trivial_s')} | {cell(off, 'trivial_s')} | <= 0.5 s |",
        f"| ... of which `flyte.run` returns (client: bundle, upload, CreateRun) | {cell(on, 'trivial_submit_s')} "
        f"| {cell(off, 'trivial_submit_s')} | |",
        f"| ... of which `run.wait()` (task runs, phases reach the client) | {cell(on, 'trivial_wait_s')} "
        f"| {cell(off, 'trivial_wait_s')} | |",
        f"| ... of which `run.outputs()` | {cell(on, 'trivial_outputs_s')} | {cell(off, 'trivial_outputs_s')} | |",
        f"| parent `asyncio.gather` over 50 children | {cell(on, 'gather50_s')} | {cell(off, 'gather50_s')} "
        "| <= 4 s |",
        f"| parent `asyncio.gather` over 500 children | {cell(on, 'gather500_s')} | {cell(off, 'gather500_s')} "
        "| <= 30 s |",
        "",
        f"All trivial runs (s): on {on.get('trivial_all_s')}, off {off.get('trivial_all_s')}. "
        f"50-gathers: on {on.get('gather50_all_s')}, off {off.get('gather50_all_s')}. "
        f"500-gathers: on {on.get('gather500_all_s')}, off {off.get('gather500_all_s')}.",
        "",
    ]
    if on.get("rss"):
        lines += ["## RSS over attempts (pool on)", "",
                  "flyte-manager (runs-service + queue-service + executor in one process) and the zygote(s), after "
                  "every 100 attempts (a parent gathering 99 children):", "",
                  "| attempts | flyte-manager VmRSS | zygotes VmRSS (count) |", "|---|---|---|"]
        for s in on["rss"]:
            lines.append(f"| {s['attempts']} | {s['manager_kb'] / 1024:.1f} MB | {s['zygotes_kb'] / 1024:.1f} MB "
                         f"({s['zygotes']}) |")
        lines.append("")
    return "\n".join(lines)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        r = json.loads(Path(sys.argv[2]).read_text())
        print(render(r, os.environ.get("BENCH_COMMAND", "scripts/bench-sdk.sh")))
        return
    modes = os.environ.get("MODES", "on,off").split(",")
    result = {"machine": {"nproc": os.cpu_count(), "loadavg_start": os.getloadavg(),
                          "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                          "commit": subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                                   capture_output=True, text=True).stdout.strip(),
                          "cpu": next((line.split(":", 1)[1].strip() for line in
                                       Path("/proc/cpuinfo").read_text().splitlines()
                                       if line.startswith("model name")), "")}}
    for mode in modes:
        t = time.monotonic()
        result[mode] = bench(mode == "on")
        result[mode]["wall_s"] = round(time.monotonic() - t, 1)
        print(f"bench-sdk: pool {mode}: {json.dumps(result[mode])}", file=sys.stderr, flush=True)
    result["machine"]["loadavg_end"] = os.getloadavg()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
