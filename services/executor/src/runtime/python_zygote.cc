#include "runtime/python_zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "runtime/process_spawn.h"

namespace flyte::executor {

std::string_view PythonZygoteScript();  // python_zygote.py, embedded at build time

namespace {

// Variables that name one attempt (task_environment.cc). The SDK reads them only when a task runs, never at import
// (checked when this pool was written), so they are left out of the zygote's environment and of its key: every
// attempt of one environment shares a zygote.
const std::set<std::string, std::less<>> kAttemptIdentity = {
    "ACTION_NAME",      "RUN_NAME",     "FLYTE_ATTEMPT_NUMBER",           "_U_RUN_BASE",
    "_U_ORG_NAME",      "FLYTE_INTERNAL_EXECUTION_PROJECT", "FLYTE_INTERNAL_EXECUTION_DOMAIN",
    "FLYTE_INTERNAL_TASK_PROJECT",      "FLYTE_INTERNAL_TASK_DOMAIN"};

// How long a zygote may take to answer a spawn request before it is given up for dead.
constexpr int kSpawnAnswerMs = 10'000;
constexpr size_t kMaxMessage = 64 * 1024;
constexpr int kFailuresBeforePause = 3;
constexpr std::chrono::seconds kPause{60};

std::string_view KeyOf(std::string_view kv) { return kv.substr(0, kv.find('=')); }

std::string Basename(const std::string& path) { return std::filesystem::path(path).filename().string(); }

nlohmann::json Rlimits() {
  nlohmann::json out = nlohmann::json::array();
  for (int res = 0; res < RLIM_NLIMITS; ++res) {
    rlimit lim{};
    if (getrlimit(res, &lim) != 0) continue;
    // RLIM_INFINITY as -1: what Python's resource module uses.
    auto value = [](rlim_t v) { return v == RLIM_INFINITY ? int64_t{-1} : static_cast<int64_t>(v); };
    out.push_back({res, value(lim.rlim_cur), value(lim.rlim_max)});
  }
  return out;
}

std::string CurrentDir() {
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  return ec ? "/" : cwd;
}

}  // namespace

std::optional<PythonEntrypoint> FindPythonEntrypoint(const LaunchSpec& spec, const std::string& marker) {
  if (spec.argv.empty() || marker.empty()) return std::nullopt;
  const std::string script = ResolveExecutable(spec.argv[0], spec.env);
  if (script.find('/') == std::string::npos || access(script.c_str(), X_OK) != 0) return std::nullopt;
  std::ifstream in(script, std::ios::binary);
  std::string head(8192, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (!absl::StartsWith(head, "#!") || !absl::StrContains(head, marker)) return std::nullopt;
  std::string line = head.substr(2, head.find('\n') - 2);
  std::vector<std::string> words = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  if (words.empty()) return std::nullopt;
  if (Basename(words[0]) == "env") {
    // `#!/usr/bin/env python3`: the interpreter the task's PATH finds.
    if (words.size() != 2 || absl::StartsWith(words[1], "-")) return std::nullopt;
    words = {ResolveExecutable(words[1], spec.env)};
  }
  // pip's /bin/sh trampoline for long interpreter paths, or anything else that is not Python: cold.
  if (!absl::StartsWith(Basename(words[0]), "python") || access(words[0].c_str(), X_OK) != 0) return std::nullopt;
  return PythonEntrypoint{std::move(words), script};
}

struct PythonZygotePool::Zygote {
  uint64_t token = 0;
  std::string key;
  std::string script;
  pid_t pid = 0;
  int fd = -1;
  bool ready = false;
  size_t children = 0;
};

PythonZygotePool::PythonZygotePool(PythonPoolOptions options, int epoll_fd)
    : options_(std::move(options)), epoll_fd_(epoll_fd) {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  std::string path = options_.state_dir + "/python_zygote.py";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << PythonZygoteScript();
    if (!out) ec = std::make_error_code(std::errc::io_error);
  }
  if (!ec) std::filesystem::rename(tmp, path, ec);
  if (ec) {
    fprintf(stderr, "executor: warm python pool off: cannot write %s: %s\n", path.c_str(), ec.message().c_str());
    return;
  }
  script_path_ = path;
}

PythonZygotePool::~PythonZygotePool() {
  for (auto& [token, z] : zygotes_) {
    close(z->fd);
    kill(z->pid, SIGKILL);
    int status = 0;
    waitpid(z->pid, &status, 0);
  }
}

PythonZygotePool::Zygote* PythonZygotePool::Find(uint64_t token) {
  auto it = zygotes_.find(token);
  return it == zygotes_.end() ? nullptr : it->second.get();
}

size_t PythonZygotePool::ready_zygotes() const {
  return static_cast<size_t>(
      std::count_if(zygotes_.begin(), zygotes_.end(), [](const auto& kv) { return kv.second->ready; }));
}

std::vector<pid_t> PythonZygotePool::zygote_pids() const {
  std::vector<pid_t> out;
  for (const auto& [token, z] : zygotes_) out.push_back(z->pid);
  return out;
}

PythonZygotePool::Zygote* PythonZygotePool::Start(const std::string& key, const PythonEntrypoint& entry,
                                                  const std::vector<std::string>& env) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return nullptr;
  const uint64_t token = kZygoteTokenBit | next_token_++;
  LaunchSpec spec;
  spec.argv = entry.interpreter;
  spec.argv.push_back(script_path_);
  spec.argv.push_back(entry.script);
  spec.argv.insert(spec.argv.end(), options_.preload.begin(), options_.preload.end());
  spec.env = env;
  spec.cwd = options_.state_dir;
  spec.stderr_path = absl::StrCat(options_.state_dir, "/zygote-", token & ~kZygoteTokenBit, ".log");
  spec.inherit_fd = fds[1];
  absl::StatusOr<pid_t> pid = SpawnGroupLeader(spec);
  close(fds[1]);
  if (!pid.ok()) {
    close(fds[0]);
    fprintf(stderr, "executor: warm python pool: %s\n", std::string(pid.status().message()).c_str());
    return nullptr;
  }
  auto z = std::make_unique<Zygote>();
  z->token = token;
  z->key = key;
  z->script = entry.script;
  z->pid = *pid;
  z->fd = fds[0];
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, z->fd, &ev);
  return zygotes_.emplace(token, std::move(z)).first->second.get();
}

void PythonZygotePool::Bury(Zygote& z, const std::string& why) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, z.fd, nullptr);
  close(z.fd);
  kill(z.pid, SIGKILL);
  int status = 0;
  while (waitpid(z.pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Its children got SIGKILL from the kernel as it died (their parent-death signal).
  for (auto it = child_zygote_.begin(); it != child_zygote_.end();) {
    if (it->second != z.token) {
      ++it;
      continue;
    }
    exits_.push_back(WarmExit{it->first, true, SIGKILL, true});
    it = child_zygote_.erase(it);
  }
  KeyHealth& health = health_[z.key];
  if (!why.empty()) {
    fprintf(stderr, "executor: warm python pool: zygote %d for %s: %s\n", z.pid, z.script.c_str(), why.c_str());
    if (++health.failures >= kFailuresBeforePause) {
      health.retry_at = std::chrono::steady_clock::now() + kPause;
      fprintf(stderr, "executor: warm python pool: %d failures in a row; %s starts cold for %llds\n",
              health.failures, z.script.c_str(), static_cast<long long>(kPause.count()));
    }
  }
  zygotes_.erase(z.token);
}

bool PythonZygotePool::EvictIdle() {
  for (auto& [token, z] : zygotes_) {
    if (z->ready && z->children == 0) {
      Bury(*z, "");
      return true;
    }
  }
  return false;
}

std::optional<absl::StatusOr<pid_t>> PythonZygotePool::TrySpawn(const LaunchSpec& spec) {
  if (script_path_.empty()) return std::nullopt;
  std::optional<PythonEntrypoint> entry = FindPythonEntrypoint(spec, options_.entrypoint_marker);
  if (!entry) return std::nullopt;
  std::vector<std::string> env;
  for (const std::string& kv : spec.env) {
    if (kAttemptIdentity.count(KeyOf(kv)) == 0) env.push_back(kv);
  }
  std::vector<std::string> sorted = env;
  std::sort(sorted.begin(), sorted.end());
  const std::string key = absl::StrCat(absl::StrJoin(entry->interpreter, " "), "\n", entry->script, "\n",
                                       absl::StrJoin(sorted, "\n"));
  Zygote* z = nullptr;
  for (auto& [token, candidate] : zygotes_) {
    if (candidate->key == key) z = candidate.get();
  }
  if (z == nullptr) {
    KeyHealth& health = health_[key];
    if (std::chrono::steady_clock::now() < health.retry_at) return std::nullopt;
    if (zygotes_.size() >= options_.max_zygotes && !EvictIdle()) return std::nullopt;
    Start(key, *entry, env);  // this attempt starts cold while the zygote imports
    return std::nullopt;
  }
  if (!z->ready) return std::nullopt;

  nlohmann::json request = {{"spawn", next_spawn_}, {"argv", spec.argv}, {"env", spec.env},
                            {"cwd", spec.cwd.empty() ? CurrentDir() : spec.cwd}, {"rlimits", Rlimits()}};
  std::string message;
  try {
    message = request.dump();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // not UTF-8: the cold path passes bytes through unchanged
  }
  if (message.size() > kMaxMessage) return std::nullopt;
  StdioFds stdio;
  if (absl::Status opened = stdio.Open(spec); !opened.ok()) return opened;
  int fds[3] = {stdio.fd[0].get(), stdio.fd[1].get(), stdio.fd[2].get()};
  char control[CMSG_SPACE(sizeof(fds))] = {};
  iovec iov{message.data(), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
  memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
  if (sendmsg(z->fd, &msg, MSG_NOSIGNAL) < 0) {
    Bury(*z, absl::StrCat("spawn request not sent: ", strerror(errno)));
    return std::nullopt;
  }
  std::optional<absl::StatusOr<pid_t>> reply;
  Read(*z, next_spawn_++, &reply);  // may bury z
  if (reply && reply->ok()) {
    child_zygote_[**reply] = z->token;
    ++z->children;
    health_[key].failures = 0;
  }
  return reply;
}

void PythonZygotePool::OnReadable(uint64_t token) {
  if (Zygote* z = Find(token)) Read(*z, std::nullopt, nullptr);
}

void PythonZygotePool::Read(Zygote& z, std::optional<int64_t> spawn_id,
                            std::optional<absl::StatusOr<pid_t>>* reply) {
  std::string buf(kMaxMessage, '\0');
  while (true) {
    if (spawn_id) {
      pollfd p{z.fd, POLLIN, 0};
      int ready = poll(&p, 1, kSpawnAnswerMs);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        Bury(z, "no answer to a spawn request");
        return;
      }
    }
    ssize_t n = recv(z.fd, buf.data(), buf.size(), spawn_id ? 0 : MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      Bury(z, z.ready ? "exited" : "exited before it was ready (see its log)");
      return;
    }
    nlohmann::json m = nlohmann::json::parse(std::string_view(buf.data(), static_cast<size_t>(n)), nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
      Bury(z, "sent something that is not JSON");
      return;
    }
    if (m.contains("ready")) {
      z.ready = true;
      health_[z.key].failures = 0;
    } else if (m.contains("error") && !m.contains("spawned")) {
      Bury(z, absl::StrCat("cannot preload: ", m["error"].get<std::string>()));
      return;
    } else if (m.contains("exited")) {
      WarmExit e;
      e.pid = m["exited"].get<pid_t>();
      e.signaled = m.contains("signal");
      e.code = e.signaled ? m["signal"].get<int>() : m.value("code", 0);
      exits_.push_back(e);
    } else if (m.contains("spawned") && spawn_id && m["spawned"] == *spawn_id) {
      if (m.contains("pid")) {
        *reply = m["pid"].get<pid_t>();
      } else if (m.contains("refused")) {
        Bury(z, m["refused"].get<std::string>());  // reply stays empty: the attempt starts cold
      } else {
        *reply = absl::FailedPreconditionError(absl::StrCat("cannot start ", z.script, ": ",
                                                            m.value("error", std::string("unknown"))));
      }
      return;
    }
  }
}

std::vector<WarmExit> PythonZygotePool::TakeExits() { return std::exchange(exits_, {}); }

void PythonZygotePool::Release(pid_t pid) {
  auto it = child_zygote_.find(pid);
  if (it == child_zygote_.end()) return;
  Zygote* z = Find(it->second);
  child_zygote_.erase(it);
  if (z == nullptr) return;
  --z->children;
  std::string message = nlohmann::json{{"reap", pid}}.dump();
  // A zygote that cannot take it is dying; its end of the socket will say so.
  (void)send(z->fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace flyte::executor
