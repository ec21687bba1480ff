#pragma once
// Test helpers for the executor runtime: temp dirs, a transition recorder, task templates running /bin/sh, and
// process liveness checks that treat zombies as dead (PID 1 here need not reap orphans).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "flyteidl2/core/tasks.pb.h"
#include "runtime/action.h"

namespace flyte::executor::testing {

class TempDir {
 public:
  // `base` empty: the system temp dir. Tests creating thousands of dirs pass /dev/shm (much faster to delete).
  explicit TempDir(const std::string& base = "") {
    std::filesystem::path root = base.empty() || !std::filesystem::is_directory(base)
                                     ? std::filesystem::temp_directory_path()
                                     : std::filesystem::path(base);
    std::string tmpl = (root / "executor-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class Recorder {
 public:
  void operator()(const ActionTransition& t) {
    std::lock_guard<std::mutex> lock(mu_);
    all_.push_back(t);
    cv_.notify_all();
  }
  // True once a final transition arrived within `timeout`.
  bool WaitFinal(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return !all_.empty() && all_.back().final; });
  }
  bool WaitPhase(Phase phase, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& t : all_) {
        if (t.phase == phase) return true;
      }
      return false;
    });
  }
  std::vector<ActionTransition> all() {
    std::lock_guard<std::mutex> lock(mu_);
    return all_;
  }
  // "1:INITIALIZING 1:RUNNING 1:SUCCEEDED"
  std::string Trace() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (const auto& t : all_) {
      if (!s.empty()) s += " ";
      s += std::to_string(t.attempt) + ":" + PhaseName(t.phase);
    }
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ActionTransition> all_;
};

// A container task running `/bin/sh -c script sh args...`, so args are $1, $2, ... in the script.
inline std::string ShellTemplate(const std::string& script, const std::vector<std::string>& args = {},
                                 int retries = 0, int timeout_seconds = 0,
                                 const std::vector<std::pair<std::string, std::string>>& env = {}) {
  flyteidl2::core::TaskTemplate t;
  t.set_type("python");
  t.mutable_id()->set_name("test_task");
  auto* c = t.mutable_container();
  c->set_image("ignored:latest");
  for (const char* part : {"/bin/sh", "-c"}) c->add_command(part);
  c->add_command(script);
  c->add_command("sh");
  for (const auto& a : args) c->add_args(a);
  for (const auto& [k, v] : env) {
    auto* kv = c->add_env();
    kv->set_key(k);
    kv->set_value(v);
  }
  if (retries > 0) t.mutable_metadata()->mutable_retries()->set_retries(retries);
  if (timeout_seconds > 0) t.mutable_metadata()->mutable_timeout()->set_seconds(timeout_seconds);
  return t.SerializeAsString();
}

inline ActionToRun MakeAction(const std::string& action_name, std::string task_template) {
  ActionToRun a;
  a.key = ActionKey{"testorg", "proj", "dev", "rtest", action_name};
  a.task_template = std::move(task_template);
  return a;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline pid_t ReadPid(const std::string& path) {
  std::string s = ReadFile(path);
  return s.empty() ? 0 : static_cast<pid_t>(std::stol(s));
}

// /proc/<pid>/stat fields 3 (state) and 5 (pgrp); false when the process is gone.
inline bool ReadStat(pid_t pid, char* state, pid_t* pgrp) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(stat.substr(close + 2));
  pid_t ppid = 0;
  rest >> *state >> ppid >> *pgrp;
  return true;
}

// Alive = exists and is not a zombie. A zombie has finished; only its parent's bookkeeping is left.
inline bool IsAlive(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  char state = 0;
  pid_t pgrp = 0;
  return ReadStat(pid, &state, &pgrp) && state != 'Z' && state != 'X';
}

// Live (non-zombie) members of a process group.
inline int LiveGroupMembers(pid_t pgid) {
  int n = 0;
  DIR* d = opendir("/proc");
  if (d == nullptr) return -1;
  while (dirent* e = readdir(d)) {
    pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    char state = 0;
    pid_t pgrp = 0;
    if (ReadStat(pid, &state, &pgrp) && pgrp == pgid && state != 'Z' && state != 'X') ++n;
  }
  closedir(d);
  return n;
}

inline bool WaitForFile(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (!ReadFile(path).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Polls `cond` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool WaitUntil(const std::function<bool()>& cond,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// A TCP port on 127.0.0.1 that was free a moment ago (for binaries that must be told their port).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace flyte::executor::testing
