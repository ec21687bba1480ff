#include "runtime/task_secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "flyteidl2/core/tasks.pb.h"
#include "runtime/task_launch.h"

namespace flyte::executor {
namespace {

using flyteidl2::core::Secret;

bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

absl::Status WriteSecretFile(const std::string& path, const std::string& name, const std::string& value) {
  // O_EXCL: a file left there is never reused or followed (a symlink planted in its place fails the open).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write secret ", name, ": ", std::strerror(errno)));
  size_t done = 0;
  while (done < value.size()) {
    ssize_t n = ::write(fd, value.data() + done, value.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("cannot write secret ", name, ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return absl::InternalError(absl::StrCat("cannot write secret ", name, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<DeclaredSecret>> DeclaredSecrets(const flyteidl2::core::TaskTemplate& tmpl) {
  std::vector<DeclaredSecret> out;
  for (const Secret& s : tmpl.security_context().secrets()) {
    const std::string what = absl::StrCat("security_context.secrets: secret ", s.key());
    if (s.key().empty()) return absl::InvalidArgumentError("security_context.secrets: a secret has no key");
    if (s.key().find('/') != std::string::npos || s.key() == "." || s.key() == "..") {
      return absl::InvalidArgumentError(what + ": key must not contain '/' or be '.' or '..'");
    }
    if (!s.group().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": group ", s.group(),
                                                     " is not supported (secrets are looked up by key alone)"));
    }
    if (!s.group_version().empty()) {
      return absl::InvalidArgumentError(what + ": group_version is not supported (secrets have no versions)");
    }
    DeclaredSecret d{s.key(), s.env_var()};
    switch (s.mount_requirement()) {
      case Secret::ENV_VAR:
        if (d.env_var.empty()) return absl::InvalidArgumentError(what + ": mount ENV_VAR needs env_var");
        break;
      case Secret::FILE:
        if (!d.env_var.empty()) {
          return absl::InvalidArgumentError(what + ": mount FILE with env_var " + d.env_var + " is ambiguous");
        }
        break;
      default:  // ANY: an env var when one is named, else a file
        break;
    }
    if (!d.env_var.empty() && !IsEnvName(d.env_var)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": env_var ", d.env_var, " is not a variable name"));
    }
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::vector<DeclaredSecret>> DeclaredSecrets(const ActionToRun& action) {
  absl::StatusOr<TaskToRun> task = ParseTask(action);
  if (!task.ok()) return std::vector<DeclaredSecret>{};
  return DeclaredSecrets(task->tmpl);
}

absl::StatusOr<EnvList> MaterializeSecrets(const std::vector<TaskSecret>& secrets, const std::string& dir) {
  EnvList env;
  bool dir_made = false;
  for (const TaskSecret& s : secrets) {
    if (!s.env_var.empty()) {
      env.emplace_back(s.env_var, s.value);
      continue;
    }
    if (!dir_made) {
      if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrCat("cannot create the secrets directory: ", std::strerror(errno)));
      }
      ::chmod(dir.c_str(), 0700);
      dir_made = true;
      env.emplace_back(kSecretsDirEnv, dir);
    }
    if (absl::Status w = WriteSecretFile(dir + "/" + s.name, s.name, s.value); !w.ok()) return w;
  }
  return env;
}

}  // namespace flyte::executor
