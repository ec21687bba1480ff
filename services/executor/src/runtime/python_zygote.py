"""Warm zygote for the flyte executor's local runtime (docs/executor.md, "Warm Python pool").

Started by the executor as `<python> python_zygote.py <entrypoint script>` with the control socket as fd 3. It
imports the SDK's task runtime once, then forks one child per attempt; each child sets itself up exactly as the
executor's cold spawn does (own process group, the attempt's env/cwd/stdio/rlimits, no other descriptors, dies with
its parent) and runs the entrypoint script as __main__ with the attempt's argv. The zygote itself never runs a task.

Protocol (SOCK_SEQPACKET, one JSON object per message; the spawn request carries stdin/stdout/stderr by SCM_RIGHTS):
  zygote -> executor  {"ready": pid} | {"error": why}                     once, after the imports
  executor -> zygote  {"spawn": id, "argv", "env", "cwd", "rlimits"}
  zygote -> executor  {"spawned": id, "pid"} | {"spawned": id, "error": why} | {"spawned": id, "refused": why}
  zygote -> executor  {"exited": pid, "code"} | {"exited": pid, "signal"}   the child stays a zombie until
  executor -> zygote  {"reap": pid}                                           the executor has killed its group
The zygote exits when the socket closes. It must stay single-threaded: fork() copies only the calling thread.
"""
import os
import sys

SCRIPT = sys.argv[1]
# A script's own directory is sys.path[0] when Python runs it: the entrypoint's, not this file's.
sys.path[0] = os.path.dirname(os.path.abspath(SCRIPT))

import array  # noqa: E402
import ctypes  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

CTL_FD = 3
PR_SET_PDEATHSIG = 1
MAX_MESSAGE = 4 << 20
# What the SDK's `a0` runtime imports before it runs a task (flyte/_bin/runtime.py and what it loads lazily), and
# what a child attempt imported besides (recorded from sys.modules at the end of real attempts: the control plane
# client, the task resolvers, the HTTP stack under it).
PRELOAD = sys.argv[2:] or [
    "flyte._bin.runtime", "flyte", "flyte._utils", "flyte.errors", "flyte.storage", "flyte._initialize",
    "flyte._internal.controllers", "flyte._internal.controllers.remote", "flyte._internal.controllers.remote._client",
    "flyte._internal.image_cache", "flyte._internal.runtime.entrypoints", "flyte._internal.runtime.convert",
    "flyte._internal.runtime.io", "flyte._internal.runtime.taskrunner", "flyte._internal.resolvers.default",
    "flyte._internal.resolvers._task_module", "flyte._module", "flyte._utils.asyncify", "flyte.io", "flyte.remote",
    "flyte.remote._client.controlplane", "flyte.remote._client.auth._authenticators.factory",
    "flyte.remote._client.auth._session", "flyte.remote._client.auth._keyring",
    "flyte.remote._client.auth._interceptors.retry", "flyte.remote._client.auth._interceptors.default_metadata",
    "httpcore", "h11", "anyio", "certifi", "pyqwest._glue", "opentelemetry.propagate", "opentelemetry.trace",
    "opentelemetry.metrics", "opentelemetry.baggage.propagation", "faulthandler",
]

# Memoized functions of no arguments whose answer depends only on the installed packages (not the environment, not
# the attempt), which every attempt would otherwise compute once: called once in the zygote so that children find
# the answer cached. `_supports_system_certs`: inspect.signature of pyqwest's HTTPTransport, ~4 ms per attempt.
WARM_CALLS = ["flyte.remote._client.auth._session:_supports_system_certs"] if not sys.argv[2:] else []

_libc = ctypes.CDLL(None, use_errno=True)
_initial_signals = {s: signal.getsignal(s) for s in signal.valid_signals()
                    if s not in (signal.SIGKILL, signal.SIGSTOP) and signal.getsignal(s) is not None}


class _DeferredLoops:
    """flyte.syncify creates a background event loop and starts its thread at import. Neither may exist in the
    zygote (no threads across fork; an epoll set shared by every child would mix their events), so the loop's
    __init__ is recorded here and run in each child, before the task, as the import would have."""

    def __init__(self):
        self.pending = []

    def patch(self, module):
        cls = getattr(module, "_BackgroundLoop", None)
        if cls is None:
            return
        real_init = cls.__init__
        pending = self.pending

        def deferred_init(self, *args, **kwargs):
            pending.append((real_init, self, args, kwargs))

        cls.__init__ = deferred_init
        self.restore = lambda: setattr(cls, "__init__", real_init)

    def run(self):
        if hasattr(self, "restore"):
            self.restore()
        for real_init, obj, args, kwargs in self.pending:
            real_init(obj, *args, **kwargs)


class _PatchOnImport:
    """A meta-path finder that lets `patch` see flyte.syncify._api right after it executes, before its importer
    (flyte.syncify) instantiates anything from it."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, name, path, target=None):
        if name != self.name:
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec(name)
        sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        real_exec, patch = spec.loader.exec_module, self.patch

        def exec_module(module):
            real_exec(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


class _PrebuiltTLS:
    """httpx builds `ssl.create_default_context(cafile=$SSL_CERT_FILE or certifi.where())` for every client, and the
    SDK makes two per attempt (control plane, remote controller): ~20 ms of CPU each, parsing the ~150 CA
    certificates of the bundle. The zygote builds COUNT such contexts (no threads, no sockets: OpenSSL objects only)
    and a child's first COUNT calls with exactly those arguments get one of them: an object the zygote built and
    never used, which each child has its own copy of (fork), configured exactly as a call in the child would have
    configured it (the zygote's environment is the attempt's, less the variables naming the attempt). Any other
    call, a changed bundle file or a changed SSLKEYLOGFILE builds its own context as before; once the contexts are
    handed out, ssl.create_default_context is the standard function again."""

    COUNT = 2

    def __init__(self):
        self.contexts = []

    def build(self):
        try:
            import ssl
            if os.environ.get("SSL_CERT_FILE"):
                cafile = os.environ["SSL_CERT_FILE"]
            elif os.environ.get("SSL_CERT_DIR"):
                return  # httpx passes capath: certificates load lazily, nothing to save
            else:
                import certifi
                cafile = certifi.where()
            self.real = ssl.create_default_context
            self.key = (cafile, self._stat(cafile), os.environ.get("SSLKEYLOGFILE"))
            self.contexts = [self.real(cafile=cafile) for _ in range(self.COUNT)]
        except Exception:  # noqa: BLE001 - no certifi, no bundle: every child builds its own, as before
            self.contexts = []

    @staticmethod
    def _stat(path):
        st = os.stat(path)
        return st.st_ino, st.st_size, st.st_mtime_ns

    def install(self):
        """In the child, before the task."""
        if not self.contexts:
            return
        import ssl
        real, (bundle, stat, keylog), contexts = self.real, self.key, self.contexts

        def create_default_context(purpose=ssl.Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
            if (contexts and purpose == ssl.Purpose.SERVER_AUTH and cafile == bundle and capath is None
                    and cadata is None and os.environ.get("SSLKEYLOGFILE") == keylog):
                try:
                    same = _PrebuiltTLS._stat(cafile) == stat
                except OSError:
                    same = False
                try:
                    ctx = contexts.pop() if same else None  # two threads may race for the last one
                except IndexError:
                    ctx = None
                if not contexts:
                    ssl.create_default_context = real
                if ctx is not None:
                    return ctx
            return real(purpose, cafile=cafile, capath=capath, cadata=cadata)

        create_default_context.__wrapped__ = real
        ssl.create_default_context = create_default_context


TLS = _PrebuiltTLS()


def thread_count():
    return len(os.listdir("/proc/self/task"))


def preload(loops):
    finder = _PatchOnImport("flyte.syncify._api", loops.patch)
    sys.meta_path.insert(0, finder)
    real_start = threading.Thread.start

    def refuse(self, *a, **k):
        raise RuntimeError(f"thread {self.name!r} started while importing")

    threading.Thread.start = refuse
    try:
        import importlib
        for name in PRELOAD:
            importlib.import_module(name)
        for call in WARM_CALLS:
            module, _, function = call.partition(":")
            try:
                fn = getattr(importlib.import_module(module), function)
                if hasattr(fn, "cache_info"):  # memoized, or calling it ahead would save nothing
                    fn()
            except Exception:  # noqa: BLE001 - another SDK version: the children compute it, as before
                pass
    finally:
        threading.Thread.start = real_start
        sys.meta_path.remove(finder)
    # Compile the entrypoint now so that every child only runs it.
    with open(SCRIPT, "rb") as f:
        return compile(f.read(), SCRIPT, "exec")


class Child:
    """Set up in the forked child; `run` executes the entrypoint as the process's main program."""

    def __init__(self, code, argv, loops):
        self.code, self.argv, self.loops = code, argv, loops

    def run(self):
        import types
        self.loops.run()
        TLS.install()
        main = types.ModuleType("__main__")
        main.__file__ = SCRIPT
        main.__builtins__ = __builtins__
        sys.modules["__main__"] = main
        sys.argv = [SCRIPT] + self.argv[1:]
        exec(self.code, main.__dict__)


def setup_child(req, fds, report_fd, keep_fds):
    """Runs in the child between fork and the task. Any failure: its reason on report_fd, exit 127."""
    stage = "parent-death signal"
    try:
        if _libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        if os.getppid() != req["zygote"]:
            raise OSError(3, "executor exiting")
        stage = "process group"
        os.setpgid(0, 0)
        stage = "rlimits"
        for res, soft, hard in req.get("rlimits", []):
            if resource.getrlimit(res) != (soft, hard):
                resource.setrlimit(res, (soft, hard))
        stage = "redirecting stdio"
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        stage = "working directory"
        if req.get("cwd"):
            os.chdir(req["cwd"])
        # The attempt's environment, exactly: os.environ and the C environ both start from nothing.
        os.environ.clear()
        _libc.clearenv()
        for kv in req["env"]:
            k, _, v = kv.partition("=")
            os.environ[k] = v
        for s, handler in _initial_signals.items():
            if signal.getsignal(s) is not handler:
                signal.signal(s, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        # Descriptors the zygote owns are closed without their Python owners (detached first) ever closing a
        # number the task may reuse; then everything else above stderr except the report pipe.
        for fd in keep_fds():
            os.close(fd)
        os.closerange(3, report_fd)
        os.closerange(report_fd + 1, 1 << 20)
    except OSError as e:
        os.write(report_fd, f"{stage}: {e.strerror or e}".encode())
        os._exit(127)
    os.close(report_fd)  # EOF: started


class Zygote:
    def __init__(self, code, loops):
        self.code, self.loops = code, loops
        self.ctl = socket.socket(fileno=CTL_FD)
        self.poll = select.poll()
        self.poll.register(CTL_FD, select.POLLIN)
        self.children = {}  # pidfd -> pid, until the child exits

    def send(self, msg):
        self.ctl.send(json.dumps(msg).encode())

    def child_fds(self):
        fds = [self.ctl.detach()]
        fds.extend(self.children)
        return fds

    def spawn(self, req, fds):
        if thread_count() != 1:
            return {"refused": f"the zygote has {thread_count()} threads; it must not fork"}
        req["zygote"] = os.getpid()
        r, w = os.pipe2(os.O_CLOEXEC)
        pid = os.fork()
        if pid == 0:
            os.close(r)
            setup_child(req, fds, w, self.child_fds)
            return Child(self.code, req["argv"], self.loops)
        os.close(w)
        for fd in fds:
            os.close(fd)
        failure = b""
        while chunk := os.read(r, 4096):
            failure += chunk
        os.close(r)
        if failure:
            os.waitpid(pid, 0)
            return {"error": failure.decode(errors="replace")}
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = pid
        self.poll.register(pidfd, select.POLLIN)
        return {"pid": pid}

    def exited(self, pidfd):
        pid = self.children.pop(pidfd)
        self.poll.unregister(pidfd)
        os.close(pidfd)
        # WNOWAIT: the child stays a zombie, so its pid (its process group's id) cannot be reused before the
        # executor has killed what is left of the group and sent "reap".
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        if info is None:
            return
        if info.si_code == os.CLD_EXITED:
            self.send({"exited": pid, "code": info.si_status})
        else:
            self.send({"exited": pid, "signal": info.si_status})

    def serve(self):
        """Returns only in a forked child: the Child to run."""
        while True:
            for fd, _ in self.poll.poll():
                if fd != CTL_FD:
                    self.exited(fd)
                    continue
                msg, anc, _, _ = self.ctl.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(3 * 4))
                if not msg:
                    os._exit(0)  # the executor is gone or closed the pool; children die with us
                fds = array.array("i")
                for level, kind, data in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
                req = json.loads(msg)
                if "reap" in req:
                    try:
                        os.waitpid(req["reap"], 0)
                    except ChildProcessError:
                        pass
                    continue
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    self.send({"spawned": req.get("spawn"), "error": "spawn request without stdio"})
                    continue
                result = self.spawn(req, list(fds))
                if isinstance(result, Child):
                    return result
                self.send({"spawned": req["spawn"], **result})


def start():
    loops = _DeferredLoops()
    zygote = None
    try:
        code = preload(loops)
        TLS.build()
        zygote = Zygote(code, loops)
        threads = thread_count()
        if threads != 1:
            raise RuntimeError(f"{threads} threads after the imports; a zygote must have one")
    except BaseException as e:  # noqa: BLE001 - any failure means: run this entrypoint cold
        if zygote is None:
            zygote = socket.socket(fileno=CTL_FD)
            zygote.send(json.dumps({"error": f"{type(e).__name__}: {e}"}).encode())
        else:
            zygote.send({"error": f"{type(e).__name__}: {e}"})
        sys.exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything imported so far is shared copy-on-write with the children: frozen, the collector of a child never
    # walks (and so never copies) it.
    gc.collect()
    gc.freeze()
    zygote.send({"ready": os.getpid()})
    return zygote.serve()


if __name__ == "__main__":
    # In the zygote start() never returns; in a child this is the task, run as the process's main program so that
    # exit codes, atexit and thread shutdown behave exactly as in a cold start.
    start().run()
