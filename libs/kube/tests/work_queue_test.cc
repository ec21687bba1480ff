#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "flyte/kube/work_queue.h"

using flyte::kube::WorkQueue;
using namespace std::chrono_literals;

TEST_CASE("a key added twice while waiting is handed out once", "[unit][kube]") {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  CHECK(q.Len() == 2);
  std::string k;
  REQUIRE(q.Get(&k));
  CHECK(k == "a");
  REQUIRE(q.Get(&k));
  CHECK(k == "b");
  CHECK(q.Len() == 0);
}

TEST_CASE("a key added while processed is handed out again after Done, never concurrently", "[unit][kube]") {
  WorkQueue q;
  q.Add("a");
  std::string k;
  REQUIRE(q.Get(&k));
  q.Add("a");
  CHECK(q.Len() == 0);  // not ready while processing
  q.Done("a");
  CHECK(q.Len() == 1);
  REQUIRE(q.Get(&k));
  CHECK(k == "a");
  q.Done("a");
  CHECK(q.Len() == 0);
}

TEST_CASE("delayed keys come out when due, earliest delay wins", "[unit][kube]") {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter("late", 300ms);
  q.AddAfter("soon", 50ms);
  q.AddAfter("soon", 2000ms);  // a later delay for a pending key changes nothing
  std::string k;
  REQUIRE(q.Get(&k));
  CHECK(k == "soon");
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);
  CHECK(std::chrono::steady_clock::now() - start < 250ms);
  REQUIRE(q.Get(&k));
  CHECK(k == "late");
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
}

TEST_CASE("rate-limited requeues back off exponentially until forgotten", "[unit][kube]") {
  WorkQueue q(20ms, 1000ms);
  std::string k;
  auto timed_get = [&] {
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(q.Get(&k));
    q.Done(k);
    return std::chrono::steady_clock::now() - t0;
  };
  q.AddRateLimited("x");
  CHECK(timed_get() >= 20ms);
  q.AddRateLimited("x");
  CHECK(timed_get() >= 40ms);
  q.AddRateLimited("x");
  CHECK(timed_get() >= 80ms);
  CHECK(q.Failures("x") == 3);
  q.Forget("x");
  CHECK(q.Failures("x") == 0);
}

TEST_CASE("ShutDown wakes blocked workers", "[unit][kube]") {
  WorkQueue q;
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    std::string k;
    CHECK_FALSE(q.Get(&k));
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(returned.load());
  q.ShutDown();
  worker.join();
  CHECK(returned.load());
}
