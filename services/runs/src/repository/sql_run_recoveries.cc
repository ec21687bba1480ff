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
    absl::StatusOr<Rows> rows = tx.Query(
        "SELECT source_run_name, force_rerun_actions FROM run_recoveries "
        "WHERE org = ? AND project = ? AND domain = ? AND run_name = ?",
        {run.org, run.project, run.domain, run.name});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::OkStatus();
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
