#pragma once
// A small crash journal in the data root: which leases this executor holds and, for each, the attempt underway
// and the process group running it. Rewritten (write to a temp file, rename) on every change, so a kill -9 at any
// moment leaves either the old or the new version. After a crash the next executor on this data root reads it to
// kill what survived and to report the interrupted attempts as FAILED before their leases come back.
//
// The journal directory is locked (flock) for the life of the object: two executors can never share one, since
// each would kill the other's processes on start. It also keeps the executor id, stable across restarts, so the
// restarted executor still holds (and can Release) the leases of its previous life.
//
// Thread-safe.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/action.h"

namespace flyte::executor {

struct JournalEntry {
  std::string lease_id;
  ActionKey key;
  std::string parent_action_name;
  int attempt = 0;                    // attempt underway (or last one reported)
  int pgid = 0;                       // its process group while the process runs, else 0
  Phase final_phase = Phase::kUnspecified;  // set once the final state is recorded, until the lease is Completed
};

class Journal {
 public:
  // Creates `dir` if needed, takes its lock and loads the journal. kFailedPrecondition when another live executor
  // holds the lock; kInternal on I/O errors or an unreadable journal.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir);
  ~Journal();  // releases the lock

  const std::string& executor_id() const { return executor_id_; }
  std::vector<JournalEntry> Entries() const;
  // Inserts or replaces the entry of e.lease_id. kInternal if the file cannot be written.
  absl::Status Put(const JournalEntry& e);
  absl::Status Remove(const std::string& lease_id);

 private:
  Journal(std::string dir, int lock_fd);
  absl::Status LoadLocked();
  absl::Status WriteLocked();

  const std::string dir_;
  const int lock_fd_;
  std::string executor_id_;
  mutable std::mutex mu_;
  std::map<std::string, JournalEntry> entries_;
};

}  // namespace flyte::executor
