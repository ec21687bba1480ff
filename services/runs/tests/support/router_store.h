#pragma once
// What an API adapter test starts from: a fresh SQLite store, a fake clock and a Router (with its work pool) to
// register the adapter on. The test's own fixture adds its use cases and adapter.
#include <memory>

#include <catch2/catch.hpp>

#include "flyte/common/clock.h"
#include "flyte/common/work_pool.h"
#include "flyte/rpc/router.h"
#include "flyte/testing/temp.h"
#include "repository/store_factory.h"

namespace flyte::runs::test {

struct RouterStore {
  testing::TempSqlite db;
  common::FakeClock clock;
  common::WorkPool pool{"test", 1, 16};
  rpc::Router router{&pool};
  std::unique_ptr<Store> store;

  RouterStore() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
};

}  // namespace flyte::runs::test
