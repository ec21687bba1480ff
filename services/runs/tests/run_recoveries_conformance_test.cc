// Conformance of the run_recoveries table (what a recovery run recovers), on SQLite and PostgreSQL: written in the
// run's transaction by CreateRunWith, read back by GetRecovery. Tags: [repository][sqlite][postgres].
#include <string>

#include <catch2/catch.hpp>

#include "support/backend.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::Backend;
using flyte::runs::test::MakeRun;
using Code = absl::StatusCode;

TEST_CASE("recoveries: kept with the run, read back as written, rolled back with it",
          "[repository][sqlite][postgres]") {
  Backend b(GENERATE(as<std::string>{}, "sqlite", "postgres"));
  const RunKey plain = MakeRun("plain").key.run;
  REQUIRE(b.actions().CreateRunWith(MakeRun("plain"), {}).ok());
  CHECK_FALSE(b.actions().GetRecovery(plain).value().has_value());
  CHECK(b.actions().GetRecovery(RunKey{"testorg", "proj", "dev", "nosuchrun"}).status().code() == Code::kNotFound);

  ActionRepository::RunCreation with;
  with.recovery = RunRecovery{"plain", {"a0-child \"quoted\"", "ünïcode", ""}};
  REQUIRE(b.actions().CreateRunWith(MakeRun("rec"), with).ok());
  absl::StatusOr<std::optional<RunRecovery>> got = b.actions().GetRecovery(MakeRun("rec").key.run);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK(**got == *with.recovery);
  // Scoped by org/project/domain too.
  REQUIRE(b.actions().CreateRunWith(MakeRun("rec", 0, "other"), {}).ok());
  CHECK_FALSE(b.actions().GetRecovery(MakeRun("rec", 0, "other").key.run).value().has_value());

  // A run that is not created (its name is taken) leaves no recovery behind.
  with.recovery = RunRecovery{"other-source", {}};
  CHECK(b.actions().CreateRunWith(MakeRun("rec"), with).status().code() == Code::kAlreadyExists);
  CHECK((*b.actions().GetRecovery(MakeRun("rec").key.run))->source_run == "plain");

  // Another store on the same database (a second replica, or after a restart) reads the same.
  auto again = b.Open();
  CHECK((*again->Actions().GetRecovery(MakeRun("rec").key.run))->force_rerun_actions.size() == 3);
}
