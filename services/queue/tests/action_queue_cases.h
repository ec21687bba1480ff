// The enqueue/abort half of the queue (ActionQueue), one set of cases for every implementation: SQLite and
// PostgreSQL (action_queue_conformance_test.cc) and Kubernetes TaskActions (kubernetes_action_queue_test.cc,
// against a real API server). Aborts may take effect asynchronously (the Kubernetes garbage collector deletes
// descendants), so their effects are awaited.
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "repository/queue_backend.h"

namespace flyte::queue::cases {

inline const TimePoint kT0 = TimePoint(std::chrono::seconds(1'700'000'000));

inline ActionKey Key(const std::string& action, const std::string& run = "r1") {
  return ActionKey{RunKey{"org", "proj", "dev", run}, action};
}

inline NewEntry Entry(const std::string& action, const std::string& run = "r1",
                      std::optional<std::string> parent = std::nullopt) {
  NewEntry e;
  e.key = Key(action, run);
  e.parent = std::move(parent);
  e.payload = std::string("payload\0of ", 11) + action;
  e.spec = SpecKind::kTask;
  e.task_type = "python";
  return e;
}

inline bool Eventually(const std::function<bool()>& predicate, int timeout_ms = 15000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return true;
}

inline bool AbortRequested(ActionQueue& q, const ActionKey& key) {
  absl::StatusOr<QueueEntry> e = q.Get(key);
  return e.ok() && e->abort_requested;
}

inline void EnqueueIsIdempotent(ActionQueue& q) {
  auto first = q.Enqueue(Entry("a0"), kT0);
  REQUIRE(first.ok());
  CHECK(*first);
  NewEntry again = Entry("a0");
  again.payload = "different";
  auto second = q.Enqueue(again, kT0 + std::chrono::seconds(1));
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  auto got = q.Get(Key("a0"));
  REQUIRE(got.ok());
  CHECK(got->payload == Entry("a0").payload);  // the first enqueue's request, byte for byte
  CHECK_FALSE(got->parent.has_value());
  CHECK_FALSE(got->abort_requested);
  CHECK(got->state == EntryState::kReady);
  CHECK(q.Get(Key("nope")).status().code() == absl::StatusCode::kNotFound);
}

inline void BatchEnqueueAnswersEachEntry(ActionQueue& q) {
  REQUIRE(q.Enqueue(Entry("a0"), kT0).ok());
  auto created = q.EnqueueMany({Entry("a1", "r1", "a0"), Entry("a2", "r1", "a0"), Entry("a1", "r1", "a0"),
                                Entry("a0")},
                               kT0);
  REQUIRE(created.ok());
  CHECK(*created == std::vector<bool>{true, true, false, false});
  auto a2 = q.Get(Key("a2"));
  REQUIRE(a2.ok());
  CHECK(a2->parent == std::optional<std::string>("a0"));
  CHECK(a2->payload == Entry("a2").payload);
}

inline void AbortActionCoversDescendantsOnly(ActionQueue& q) {
  REQUIRE(q.Enqueue(Entry("a0"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("a1", "r1", "a0"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("a2", "r1", "a0"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("a1-1", "r1", "a1"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("a1-1-1", "r1", "a1-1"), kT0).ok());
  CHECK(q.AbortAction(Key("missing"), "why", kT0).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(q.AbortAction(Key("a1"), "user asked", kT0).ok());
  CHECK(Eventually([&] { return AbortRequested(q, Key("a1")); }));
  CHECK(Eventually([&] { return AbortRequested(q, Key("a1-1")); }));
  CHECK(Eventually([&] { return AbortRequested(q, Key("a1-1-1")); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(AbortRequested(q, Key("a0")));
  CHECK_FALSE(AbortRequested(q, Key("a2")));
  // Aborting again is fine.
  CHECK(q.AbortAction(Key("a1"), "again", kT0).ok());
}

inline void AbortRunCoversTheRunOnly(ActionQueue& q) {
  REQUIRE(q.Enqueue(Entry("a0", "r1"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("c1", "r1", "a0"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("c2", "r1", "c1"), kT0).ok());
  REQUIRE(q.Enqueue(Entry("a0", "r2"), kT0).ok());
  auto empty = q.AbortRun(RunKey{"org", "proj", "dev", "never-queued"}, "why", kT0);
  REQUIRE(empty.ok());
  CHECK(*empty == 0);
  REQUIRE(q.AbortRun(RunKey{"org", "proj", "dev", "r1"}, "user asked", kT0).ok());
  for (const char* a : {"a0", "c1", "c2"}) {
    INFO(a);
    CHECK(Eventually([&] { return AbortRequested(q, Key(a, "r1")); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(AbortRequested(q, Key("a0", "r2")));
  // Enqueueing an aborted action again does not bring it back.
  auto again = q.Enqueue(Entry("c1", "r1", "a0"), kT0);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
}

inline void DepthCountsReadyEntries(ActionQueue& q) {
  REQUIRE(q.Ping().ok());
  auto before = q.Depth();
  REQUIRE(before.ok());
  REQUIRE(q.EnqueueMany({Entry("d0", "rd"), Entry("d1", "rd", "d0"), Entry("d2", "rd", "d0")}, kT0).ok());
  auto after = q.Depth();
  REQUIRE(after.ok());
  CHECK(after->ready - before->ready == 3);
  CHECK(after->leased == before->leased);
}

}  // namespace flyte::queue::cases
