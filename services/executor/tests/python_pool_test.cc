// The warm Python pool with real processes: a real zygote (python_zygote.py, as embedded) on the host's python3,
// forking a test entrypoint script. The SDK itself is exercised by tests/sdk; here the entrypoint is a small
// script carrying the marker, and the zygote preloads a module of the test's own.
#include "runtime/python_zygote.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <catch2/catch.hpp>
#include <future>
#include <map>

#include "absl/strings/str_split.h"
#include "runtime/process_spawn.h"
#include "runtime/process_supervisor.h"
#include "support/runtime_testing.h"
#include "support/supervisor_testing.h"

namespace flyte::executor {
namespace {

using testing::RunToExit;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr const char* kMarker = "warm-pool-test-entrypoint";

// The entrypoint: `task MODE [args]`. report: pid/ppid/pgid/cwd/env/fds/rlimit as KEY=VALUE lines on stdout.
constexpr const char* kEntrypoint = R"(
# warm-pool-test-entrypoint
import os, sys, time, resource, subprocess
import warm_state
mode = sys.argv[1]
if mode == "report":
    open_fds = []
    for fd in range(3, 256):
        try:
            os.fstat(fd)
            open_fds.append(fd)
        except OSError:
            pass
    print("pid=%d" % os.getpid())
    print("ppid=%d" % os.getppid())
    print("pgid=%d" % os.getpgid(0))
    print("cwd=%s" % os.getcwd())
    print("fds=%s" % ",".join(map(str, open_fds)))
    print("core=%d" % resource.getrlimit(resource.RLIMIT_CORE)[0])
    print("argv=%s" % " ".join(sys.argv[1:]))
    print("main=%s" % __name__)
    for k in sorted(os.environ):
        print("env:%s=%s" % (k, os.environ[k]))
    # The C environ, as a program exec'd by the task inherits it (not /proc/self/environ: the initial one).
    import ctypes
    environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
    n = 0
    while environ[n]:
        print("cenv:%s" % environ[n].decode())
        n += 1
    print("to stderr", file=sys.stderr)
    sys.exit(3)
if mode == "state":
    warm_state.counter += 1
    print("counter=%d leak=%s ppid=%d" % (warm_state.counter, os.environ.get("LEAK", "-"), os.getppid()))
    os.environ["LEAK"] = "yes"
    sys.exit(0)
if mode == "tls":
    import ssl, certifi
    bundle = os.environ.get("SSL_CERT_FILE") or certifi.where()  # what httpx passes
    real = getattr(ssl.create_default_context, "__wrapped__", ssl.create_default_context)
    print("prebuilt=%d" % (ssl.create_default_context is not real))
    other = ssl.create_default_context(cafile=bundle, capath="/nonexistent")  # not the zygote's: built
    ctxs = [ssl.create_default_context(cafile=bundle) for _ in range(3)]
    print("restored=%d" % (ssl.create_default_context is real))
    def desc(c):
        return "%s %s %s %s %s" % (c.verify_mode, c.check_hostname, sorted(c.cert_store_stats().items()), c.options,
                                   c.minimum_version)
    fresh = desc(real(cafile=bundle))
    print("same=%d" % all(desc(c) == fresh for c in ctxs + [other]))
    print("distinct=%d" % (len(set(map(id, ctxs + [other]))) == 4))
    print("certs=%d" % ctxs[0].cert_store_stats()["x509_ca"])
    sys.exit(0)
if mode == "sleep":
    bg = subprocess.Popen(["sleep", "60"])
    with open(sys.argv[2], "w") as f:
        f.write("%d %d %d" % (os.getpid(), bg.pid, os.getppid()))
    time.sleep(60)
)";

std::string Python() {
  std::string python = ResolveExecutable("python3", {"PATH=/usr/local/bin:/usr/bin:/bin"});
  return python.find('/') == std::string::npos ? "" : python;
}

struct Fixture {
  TempDir dir;
  std::string script = dir / "task";
  std::shared_ptr<PythonPoolOptions> pool = std::make_shared<PythonPoolOptions>();

  Fixture() {
    REQUIRE_FALSE(Python().empty());
    {
      std::ofstream out(script);
      out << "#!" << Python() << "\n" << kEntrypoint;
    }
    chmod(script.c_str(), 0755);
    std::ofstream(dir / "warm_state.py") << "counter = 0\n";
    pool->state_dir = dir / "pool";
    pool->entrypoint_marker = kMarker;
    pool->preload = {"warm_state", "subprocess"};
  }

  LaunchSpec Task(std::vector<std::string> args) const {
    LaunchSpec s;
    s.argv = {"task"};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.env = {"PATH=" + dir.path() + ":/usr/bin:/bin", "TASK_ONLY=1", "ACTION_NAME=a" + std::to_string(rand())};
    s.cwd = dir.path();
    s.stdout_path = dir / "out.log";
    s.stderr_path = dir / "err.log";
    return s;
  }
};

std::map<std::string, std::string> Lines(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

bool IsZygote(const ProcessSupervisor& sup, pid_t pid) {
  std::vector<pid_t> z = sup.zygote_pids();
  return std::find(z.begin(), z.end(), pid) != z.end();
}

// Runs `report` until an attempt is forked by a zygote (the first ones start cold while it imports).
std::map<std::string, std::string> ReportWarm(ProcessSupervisor& sup, const Fixture& f) {
  std::map<std::string, std::string> report;
  REQUIRE(testing::WaitUntil(
      [&] {
        RunToExit(sup, f.Task({"report", "x y"}));
        report = Lines(testing::ReadFile(f.dir / "out.log"));
        return IsZygote(sup, std::stoi(report["ppid"]));
      },
      30s));
  return report;
}

TEST_CASE("a warm attempt gets its own group, cwd, exact env, stdio files and the executor's rlimits",
          "[executor][python_pool]") {
  Fixture f;
  ProcessSupervisor sup({.max_concurrent = 4, .python_pool = f.pool});
  ReportWarm(sup, f);  // the zygote is up

  // An rlimit the executor changed after the zygote started: the child must get the executor's current one.
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_CORE, &before) == 0);
  rlimit lowered = before;
  lowered.rlim_cur = before.rlim_cur == 0 ? 0 : 4096;
  REQUIRE(setrlimit(RLIMIT_CORE, &lowered) == 0);
  LaunchSpec spec = f.Task({"report", "x y"});
  ProcessExit e = RunToExit(sup, spec);
  setrlimit(RLIMIT_CORE, &before);
  std::map<std::string, std::string> r = Lines(testing::ReadFile(f.dir / "out.log"));
  CHECK(IsZygote(sup, std::stoi(r["ppid"])));
  CHECK(e.outcome == ProcessExit::Outcome::kExited);
  CHECK(e.exit_code == 3);
  CHECK(e.pid == std::stoi(r["pid"]));
  CHECK(r["pgid"] == r["pid"]);
  CHECK(r["cwd"] == f.dir.path());
  CHECK(r["fds"] == "");
  CHECK(r["core"] == std::to_string(lowered.rlim_cur));
  CHECK(r["argv"] == "report x y");
  CHECK(r["main"] == "__main__");
  std::vector<std::string> env;
  for (const auto& [k, v] : r) {
    if (k.rfind("env:", 0) == 0) env.push_back(k.substr(4) + "=" + v);
  }
  std::vector<std::string> want = spec.env;
  std::sort(want.begin(), want.end());
  CHECK(env == want);
  std::vector<std::string> cenv;
  for (const auto& [k, v] : r) {
    if (k.rfind("cenv:", 0) == 0) cenv.push_back(k.substr(5) + "=" + v);
  }
  std::sort(cenv.begin(), cenv.end());
  CHECK(cenv == want);
  CHECK(testing::ReadFile(f.dir / "err.log") == "to stderr\n");
}

TEST_CASE("each warm attempt is a fresh fork: module state and env changes do not leak",
          "[executor][python_pool]") {
  Fixture f;
  ProcessSupervisor sup({.max_concurrent = 1, .python_pool = f.pool});
  ReportWarm(sup, f);
  for (int i = 0; i < 3; ++i) {
    CHECK(RunToExit(sup, f.Task({"state"})).exit_code == 0);
    std::string out = testing::ReadFile(f.dir / "out.log");
    CHECK(out.rfind("counter=1 leak=- ppid=", 0) == 0);
    CHECK(IsZygote(sup, std::stoi(out.substr(out.rfind('=') + 1))));
  }
}

TEST_CASE("a warm attempt's TLS contexts for the CA bundle httpx loads come prebuilt from the zygote, as fresh",
          "[executor][python_pool]") {
  const std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(system_bundle)) {
    WARN("skipped: no CA bundle at " << system_bundle);
    return;
  }
  Fixture f;
  std::filesystem::copy_file(system_bundle, f.dir / "cacert.pem");
  std::ofstream(f.dir / "certifi.py") << "def where():\n    return '" << (f.dir / "cacert.pem") << "'\n";
  ProcessSupervisor sup({.max_concurrent = 1, .python_pool = f.pool});
  ReportWarm(sup, f);
  // certifi's bundle, then $SSL_CERT_FILE (another environment: another zygote), each twice: every attempt gets
  // its own contexts (a fresh fork), not what the previous one left.
  for (const std::string& cert_file : {std::string(), system_bundle}) {
    std::map<std::string, std::string> r;
    auto run = [&] {
      LaunchSpec spec = f.Task({"tls"});
      if (!cert_file.empty()) spec.env.push_back("SSL_CERT_FILE=" + cert_file);
      REQUIRE(RunToExit(sup, spec).exit_code == 0);
      r = Lines(testing::ReadFile(f.dir / "out.log"));
      return r["prebuilt"] == "1";
    };
    REQUIRE(testing::WaitUntil(run, 30s));  // attempts start cold while a new environment's zygote imports
    for (int i = 0; i < 2; ++i) {
      CHECK(run());
      CHECK(r["restored"] == "1");  // the zygote's contexts handed out: the standard function again
      CHECK(r["same"] == "1");
      CHECK(r["distinct"] == "1");
      CHECK(std::stoi(r["certs"]) > 0);
    }
  }
  // A cold start (no pool) behaves the same, without the prebuilt contexts.
  ProcessSupervisor cold({.max_concurrent = 1});
  REQUIRE(RunToExit(cold, f.Task({"tls"})).exit_code == 0);
  std::map<std::string, std::string> r = Lines(testing::ReadFile(f.dir / "out.log"));
  CHECK(r["prebuilt"] == "0");
  CHECK(r["same"] == "1");
}

TEST_CASE("abort and timeout kill a warm attempt's whole process group", "[executor][python_pool]") {
  Fixture f;
  ProcessSupervisor sup({.max_concurrent = 2, .python_pool = f.pool});
  ReportWarm(sup, f);

  std::promise<ProcessExit> done;
  auto id = sup.Launch(f.Task({"sleep", f.dir / "pids"}),
                       LaunchCallbacks{nullptr, [&](const ProcessExit& e) { done.set_value(e); }});
  REQUIRE(testing::WaitForFile(f.dir / "pids"));
  pid_t pid = 0, bg = 0, ppid = 0;
  std::istringstream(testing::ReadFile(f.dir / "pids")) >> pid >> bg >> ppid;
  CHECK(IsZygote(sup, ppid));
  REQUIRE(sup.Terminate(id, 200ms).ok());
  auto fut = done.get_future();
  REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  ProcessExit e = fut.get();
  CHECK(e.terminated);
  CHECK(e.outcome == ProcessExit::Outcome::kSignaled);
  CHECK(e.signal == SIGTERM);
  CHECK(testing::WaitUntil([&] { return !testing::IsAlive(pid) && !testing::IsAlive(bg); }, 5s));

  std::filesystem::remove(f.dir / "pids");
  LaunchSpec slow = f.Task({"sleep", f.dir / "pids"});
  slow.timeout = 500ms;
  slow.timeout_grace = 200ms;
  ProcessExit t = RunToExit(sup, slow);
  CHECK(t.timed_out);
  CHECK(t.outcome == ProcessExit::Outcome::kSignaled);
  std::istringstream(testing::ReadFile(f.dir / "pids")) >> pid >> bg >> ppid;
  CHECK(IsZygote(sup, ppid));
  CHECK(testing::WaitUntil([&] { return !testing::IsAlive(pid) && !testing::IsAlive(bg); }, 5s));
}

TEST_CASE("a killed zygote takes its running attempts with it and is restarted", "[executor][python_pool]") {
  Fixture f;
  ProcessSupervisor sup({.max_concurrent = 2, .python_pool = f.pool});
  ReportWarm(sup, f);
  std::promise<ProcessExit> done;
  sup.Launch(f.Task({"sleep", f.dir / "pids"}),
             LaunchCallbacks{nullptr, [&](const ProcessExit& e) { done.set_value(e); }});
  REQUIRE(testing::WaitForFile(f.dir / "pids"));
  pid_t pid = 0, bg = 0, zygote = 0;
  std::istringstream(testing::ReadFile(f.dir / "pids")) >> pid >> bg >> zygote;
  REQUIRE(IsZygote(sup, zygote));
  REQUIRE(kill(zygote, SIGKILL) == 0);
  auto fut = done.get_future();
  REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  ProcessExit e = fut.get();
  CHECK(e.outcome == ProcessExit::Outcome::kSignaled);
  CHECK(e.signal == SIGKILL);
  CHECK(testing::WaitUntil([&] { return !testing::IsAlive(pid) && !testing::IsAlive(bg); }, 5s));
  CHECK_FALSE(IsZygote(sup, zygote));
  // The next attempts run (cold while a new zygote imports), then warm again on the new zygote.
  std::map<std::string, std::string> r = ReportWarm(sup, f);
  CHECK(std::stoi(r["ppid"]) != zygote);
}

TEST_CASE("commands that are not the entrypoint, and a supervisor without a pool, start cold",
          "[executor][python_pool]") {
  Fixture f;
  {
    ProcessSupervisor sup({.max_concurrent = 2, .python_pool = f.pool});
    ReportWarm(sup, f);
    LaunchSpec sh = f.Task({});
    sh.argv = {"/bin/sh", "-c", "echo $PPID"};
    CHECK(RunToExit(sup, sh).exit_code == 0);
    CHECK(testing::ReadFile(f.dir / "out.log") == std::to_string(getpid()) + "\n");
    // The same script run through its interpreter explicitly is not the entrypoint command either.
    LaunchSpec explicit_python = f.Task({});
    explicit_python.argv = {Python(), f.script, "report"};
    RunToExit(sup, explicit_python);
    CHECK(Lines(testing::ReadFile(f.dir / "out.log"))["ppid"] == std::to_string(getpid()));
  }
  ProcessSupervisor cold({.max_concurrent = 2});
  for (int i = 0; i < 3; ++i) {
    CHECK(RunToExit(cold, f.Task({"report"})).exit_code == 3);
    CHECK(Lines(testing::ReadFile(f.dir / "out.log"))["ppid"] == std::to_string(getpid()));
  }
  CHECK(cold.zygote_pids().empty());
}

TEST_CASE("destroying the supervisor (executor exit) kills warm attempts and zygotes", "[executor][python_pool]") {
  Fixture f;
  pid_t pid = 0, bg = 0, zygote = 0;
  {
    ProcessSupervisor sup({.max_concurrent = 2, .python_pool = f.pool});
    ReportWarm(sup, f);
    sup.Launch(f.Task({"sleep", f.dir / "pids"}), LaunchCallbacks{});
    REQUIRE(testing::WaitForFile(f.dir / "pids"));
    std::istringstream(testing::ReadFile(f.dir / "pids")) >> pid >> bg >> zygote;
    REQUIRE(IsZygote(sup, zygote));
    REQUIRE(testing::IsAlive(pid));
  }
  CHECK(testing::WaitUntil(
      [&] { return !testing::IsAlive(pid) && !testing::IsAlive(bg) && !testing::IsAlive(zygote); }, 5s));
}

TEST_CASE("an SDK entrypoint is recognised by its marker and #! interpreter", "[executor][python_pool]") {
  Fixture f;
  LaunchSpec spec = f.Task({"report"});
  std::optional<PythonEntrypoint> entry = FindPythonEntrypoint(spec, kMarker);
  REQUIRE(entry.has_value());
  CHECK(entry->script == f.script);
  CHECK(entry->interpreter == std::vector<std::string>{Python()});
  CHECK_FALSE(FindPythonEntrypoint(spec, "flyte._bin.runtime").has_value());
  spec.argv = {"/bin/sh"};
  CHECK_FALSE(FindPythonEntrypoint(spec, kMarker).has_value());
}

}  // namespace
}  // namespace flyte::executor
