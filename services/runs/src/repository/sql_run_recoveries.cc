// SqlActionRepository: the run_recoveries table (what a recovery run recovers), written with the run.
#include <nlohmann/json.hpp>

#include "repository/sql_common.h"
#include "repository/sql_store.h"

namespace flyte::runs {

absl::Status SqlActionRepository::InsertRecovery(Tx& tx, const RunKey& run, const RunRecovery& recovery) {
  const std::string forced = nlohmann::json(recovery.force_rerun_actions).dump();
  absl::StatusOr<int64_t> n = tx.Exec(
      "INSERT INTO run_recoveries (org, project, domain, run_name, source_run_name, force_rerun_actions) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {run.org, run.project, run.domain, run.name, recovery.source_run, forced});
  return n.status();
}

absl::StatusOr<std::optional<RunRecovery>> SqlActionRepository::GetRecovery(const RunKey& run) {
  std::optional<RunRecovery> out;
  absl::Status s = db_.Read("GetRecovery", [&](Tx& tx) -> absl::Status {
    out.reset();
    // The run's root joined with its recovery, so "no such run" and "not a recovery run" are told apart.
    absl::StatusOr<Rows> rows = tx.Query(
        "SELECT r.source_run_name, r.force_rerun_actions FROM actions a LEFT JOIN run_recoveries r "
        "ON r.org = a.org AND r.project = a.project AND r.domain = a.domain AND r.run_name = a.run_name "
        "WHERE a.org = ? AND a.project = ? AND a.domain = ? AND a.run_name = ? AND a.name = ?",
        {run.org, run.project, run.domain, run.name, std::string(kRootActionName)});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::NotFoundError("run " + run.name + " not found");
    if (rows->front().IsNull(0)) return absl::OkStatus();
    RunRecovery r;
    r.source_run = rows->front().Str(0);
    const nlohmann::json forced = nlohmann::json::parse(rows->front().Str(1), nullptr, false);
    if (!forced.is_array()) return absl::InternalError("run_recoveries.force_rerun_actions is not a JSON list");
    for (const auto& name : forced) {
      if (name.is_string()) r.force_rerun_actions.push_back(name.get<std::string>());
    }
    out = std::move(r);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace flyte::runs
