"""Starts the real binaries for the Python SDK end-to-end tests.

The stack runs in a temp dir on free ports: `flyte-manager` (runs-service + queue-service + executor in one
process) when it is built, else `runs-service` alone (then only the submission path can be tested: runs stay
QUEUED). FLYTE_BUILD_DIR picks the build directory (default <repo>/build). The SDK comes from .venv-sdk
(scripts/sdk-venv.sh); its bin/ is the executor's pythonPath so tasks find the `a0` entrypoint.
FLYTE_SDK_WARM_PYTHON=false turns the executor's warm Python pool off (executor.warmPython).
"""
import os
import socket
import subprocess
import sys
import tempfile
import re
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("FLYTE_BUILD_DIR", REPO / "build"))
VENV_BIN = Path(sys.executable).parent

# The phases a run ends in, as the SDK prints them.
TERMINAL = {"ActionPhase.SUCCEEDED", "ActionPhase.FAILED", "ActionPhase.ABORTED", "ActionPhase.TIMED_OUT"}


def wait_phase(name, phases, timeout):
    """Polls run `name` until its phase is one of `phases` or `timeout` seconds pass; returns the last read.

    Bounded, so a stack that never gets there fails the test's assertion instead of hanging it."""
    import flyte.remote as remote

    deadline = time.time() + timeout
    while time.time() < deadline:
        r = remote.Run.get(name)
        if str(r.phase) in phases:
            return r
        time.sleep(0.3)
    return remote.Run.get(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"port {port} not ready after {timeout}s:\n{log.read_text()}")


class Stack:
    def __init__(self, work: Path, warm_python: bool = os.environ.get("FLYTE_SDK_WARM_PYTHON", "true") != "false"):
        self.work = work
        self.warm_python = warm_python
        self.data = work / "data"
        self.procs = []
        self.executes = False
        self.port = _free_port()

    @property
    def endpoint(self) -> str:
        return f"localhost:{self.port}"

    def _spawn(self, argv, name):
        log = self.work / f"{name}.log"
        proc = subprocess.Popen(argv, cwd=self.work, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                env={**os.environ, "FLYTE_DISABLE_SENTRY": "true"})
        self.procs.append((proc, name))
        return proc, log

    def start(self):
        manager = BUILD / "bin" / "flyte-manager"
        if manager.exists() and os.environ.get("FLYTE_SDK_E2E_RUNS_ONLY") != "1":
            queue_port, health_port = _free_port(), _free_port()
            cfg = self.work / "manager.yaml"
            cfg.write_text(f"""
manager:
  runsService: {{host: 127.0.0.1, port: {self.port}}}
  queueService: {{host: 127.0.0.1, port: {queue_port}}}
  executor: {{healthProbePort: {health_port}}}
database:
  type: sqlite
  sqlite: {{file: {self.work}/flyte.db}}
runs:
  storagePrefix: file://{self.data}
executor:
  dataRoot: {self.data}
  pythonPath: {VENV_BIN}
  warmPython: {"true" if self.warm_python else "false"}
""")
            proc, log = self._spawn([str(manager), "--config", str(cfg)], "flyte-manager")
            self.executes = True
        else:
            runs = BUILD / "bin" / "runs-service"
            if not runs.exists():
                pytest.fail(f"{runs} is not built (set FLYTE_BUILD_DIR)")
            cfg = self.work / "runs.yaml"
            cfg.write_text(f"""
runs:
  server: {{host: 127.0.0.1, port: {self.port}}}
  storagePrefix: file://{self.data}
database:
  sqlite: {{file: {self.work}/runs.db}}
""")
            proc, log = self._spawn([str(runs), "--config", str(cfg)], "runs-service")
        _wait_ready(self.port, proc, log)

    def logs(self) -> str:
        return "\n".join(f"== {name}\n{(self.work / (name + '.log')).read_text()}" for _, name in self.procs)

    def stop(self):
        for proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture(scope="session")
def stack():
    with tempfile.TemporaryDirectory(prefix="flyte-sdk-e2e-") as tmp:
        s = Stack(Path(tmp))
        s.start()
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture(scope="session")
def flyte_client(stack):
    import flyte

    # The workflows module must be importable from the code bundle root.
    root = Path(__file__).parent / "workflows"
    flyte.init(endpoint=stack.endpoint, insecure=True, project="flytesnacks", domain="development", root_dir=root)
    sys.path.insert(0, str(root))
    return stack


@pytest.fixture
def mgr(flyte_client):
    """The stack, for tests that need tasks to execute (skipped when only runs-service is built)."""
    if not flyte_client.executes:
        pytest.skip("flyte-manager is not built: nothing executes")
    return flyte_client


def alive(pid: int) -> bool:
    """Whether process `pid` is still there; a zombie counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Gone between the check and the read: the open finds no entry, or the read of an open entry gets ESRCH.
        return False


async def watch_phases(run):
    """The phases `run.watch()` yields, up to the first terminal one."""
    phases = []
    async for ad in run.watch():
        phases.append(str(ad.phase))
        if str(ad.phase) in TERMINAL:
            break
    return phases


def cli(stack, *args, timeout=120):
    """The real `flyte` CLI of the pinned SDK against the stack; returns (exit code, stdout + stderr)."""
    argv = [str(VENV_BIN / "flyte"), "--endpoint", stack.endpoint, "--insecure", *args]
    env = {**os.environ, "FLYTE_DISABLE_SENTRY": "true", "COLUMNS": "200", "NO_COLOR": "1"}
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                       cwd=Path(__file__).parent / "workflows")
    # Rich colours the JSON it prints even with NO_COLOR; the text without its escape sequences.
    return p.returncode, re.sub(r"\x1b\[[0-9;]*m", "", p.stdout + p.stderr)
