#include "flyte/common/watch_hub.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace flyte::common {
namespace {

TEST_CASE("publish reaches only the subscribers of that topic", "[unit][watch]") {
  WatchHub<std::string> hub;
  std::vector<std::string> a, b;
  auto sa = hub.Subscribe("run:1", [&](const std::string& e) { a.push_back(e); });
  auto sb = hub.Subscribe("run:2", [&](const std::string& e) { b.push_back(e); });
  CHECK(hub.Publish("run:1", std::string("x")) == 1);
  CHECK(hub.Publish("run:2", std::string("y")) == 1);
  CHECK(hub.Publish("run:3", std::string("z")) == 0);
  CHECK(a == std::vector<std::string>{"x"});
  CHECK(b == std::vector<std::string>{"y"});
}

TEST_CASE("every subscriber of a topic gets the same shared event", "[unit][watch]") {
  WatchHub<int> hub;
  std::vector<const int*> seen;
  auto s1 = hub.Subscribe("t", [&](const int& e) { seen.push_back(&e); });
  auto s2 = hub.Subscribe("t", [&](const int& e) { seen.push_back(&e); });
  CHECK(hub.Publish("t", 7) == 2);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == seen[1]);
}

TEST_CASE("destroying a subscription unsubscribes and drops empty topics", "[unit][watch]") {
  WatchHub<int> hub;
  int calls = 0;
  auto s = hub.Subscribe("t", [&](const int&) { ++calls; });
  CHECK(hub.SubscriberCount("t") == 1);
  hub.Publish("t", 1);
  s.reset();
  CHECK(hub.SubscriberCount("t") == 0);
  CHECK(hub.TopicCount() == 0);
  CHECK(hub.Publish("t", 2) == 0);
  CHECK(calls == 1);
}

TEST_CASE("a subscription may cancel itself from inside its callback", "[unit][watch]") {
  WatchHub<int> hub;
  std::unique_ptr<WatchHub<int>::Subscription> s;
  int calls = 0;
  s = hub.Subscribe("t", [&](const int&) {
    ++calls;
    s->Cancel();  // e.g. the stream's OnDone fired during Send
  });
  hub.Publish("t", 1);
  hub.Publish("t", 2);
  CHECK(calls == 1);
  CHECK(hub.SubscriberCount("t") == 0);
}

TEST_CASE("no callback runs after the subscription is destroyed on another thread", "[unit][watch]") {
  WatchHub<int> hub;
  std::atomic<bool> destroyed{false};
  std::atomic<int> late{0};
  auto s = hub.Subscribe("t", [&](const int&) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (destroyed.load()) late++;
  });
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop.load()) hub.Publish("t", 1);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.reset();
  destroyed = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  publisher.join();
  CHECK(late.load() == 0);
}

TEST_CASE("concurrent subscribe, publish and unsubscribe are safe", "[unit][watch]") {
  WatchHub<int> hub;
  std::atomic<long> received{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto s = hub.Subscribe("topic" + std::to_string(i % 3), [&](const int& v) { received += v; });
        hub.Publish("topic" + std::to_string((i + t) % 3), 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(hub.TopicCount() == 0);
  CHECK(received.load() > 0);
}

TEST_CASE("a subscription may outlive its hub", "[unit][watch]") {
  std::unique_ptr<WatchHub<int>::Subscription> s;
  auto counter = std::make_shared<int>(0);
  {
    WatchHub<int> hub;
    s = hub.Subscribe("t", [counter](const int&) { ++*counter; });
    hub.Publish("t", 1);
  }
  CHECK(counter.use_count() == 1);  // the hub released the callback
  s.reset();                        // and unsubscribing afterwards is harmless
  CHECK(*counter == 1);
}

}  // namespace
}  // namespace flyte::common
