#pragma once
// A small crash journal in the data root: which leases this executor holds and, for each, the attempt underway
// and the process group running it. After a crash the next executor on this data root reads it to kill what
// survived and to report the interrupted attempts as FAILED before their leases come back.
//
// An append-only log: each Put/Remove appends one line with a single write() to an O_APPEND descriptor, so a
// change costs one system call however many leases are held. A kill -9 mid-write can leave only a partial last
// line, which loading ignores (that change was never acknowledged). The log is compacted -- the live entries
// written to a temp file that is renamed over it -- at Open and whenever it has grown past
// max(1000 lines, 4 x the live entries).
//
// Durability: it survives the executor process dying, not the machine. Nothing is fsynced: a write() that
// returned is in the page cache, which outlives the process. If the machine goes down the task processes the
// journal describes go down with it, and the leases come back through their expiry.
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
  // Appends one line; compacts when the log has outgrown the live entries, or when the append failed part-way
  // (a partial line must not stay in the middle of the log).
  absl::Status AppendLocked(const std::string& line);
  // Writes the live entries to a fresh log, renames it over the old one and reopens it for appending.
  absl::Status CompactLocked();

  const std::string dir_;
  const int lock_fd_;
  std::string executor_id_;
  mutable std::mutex mu_;
  std::map<std::string, JournalEntry> entries_;
  int log_fd_ = -1;        // O_APPEND, open after a successful Open
  size_t log_lines_ = 0;   // entry lines in the log file (not counting the header)
  bool log_broken_ = false;  // an append failed part-way: the log must be rewritten before the next change
};

}  // namespace flyte::executor
