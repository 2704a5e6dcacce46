// The built-in rules against the real runtime headers (runtime/include/rill): the names the rules
// use must be the names the runtime declares.
// FIXTURE-CHECKS: -*,rill-blocking-call,rill-unbounded-fanout
// FIXTURE-COMPILE-ARGS: -std=c++20 -I../../../runtime/include
#include <rill/join_set.hpp>
#include <rill/runtime.hpp>
#include <rill/select.hpp>
#include <rill/sync/mpsc.hpp>
#include <rill/sync/semaphore.hpp>
#include <rill/time.hpp>

#include <unistd.h>

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

rill::Task<int> work(int i) { co_return i; }
rill::Task<void> with_permit(int i, rill::sync::OwnedSemaphorePermit p) { co_return; }

rill::Task<void> blocking(rill::Runtime& rt) {
  sleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'blocking'; use co_await rill::sleep(duration) [rill-blocking-call]
  co_await rill::sleep(10ms);
  int v = co_await rill::spawn_blocking([] {
    sleep(1);
    return 1;
  });
  int w = rill::block_in_place([] { return static_cast<int>(usleep(1)); });
  int x = rt.block_on(work(1));
  // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: blocking runtime re-entry (deadlock) 'rill::Runtime::block_on' in coroutine 'blocking'
  int y = rill::Handle::current().block_on(work(2));
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: blocking runtime re-entry (deadlock) 'rill::Handle::block_on' in coroutine 'blocking'
  (void)(v + w + x + y);
}

rill::Task<void> fanout(std::vector<int> items, std::shared_ptr<rill::sync::Semaphore> sem) {
  for (int i : items) rill::spawn(work(i));
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'rill::spawn' in a loop without a small constant trip count
  rill::JoinSet<int> unbounded;
  for (int i : items) co_await unbounded.spawn(work(i));
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'rill::JoinSet::spawn' in a loop without a small constant trip count
  rill::JoinSet<int> limited(8);
  for (int i : items) co_await limited.spawn(work(i));
  for (int i : items) {
    auto permit = co_await rill::sync::Semaphore::acquire_owned(sem);
    rill::spawn(with_permit(i, std::move(*permit)));
  }
  co_await rill::for_each_concurrent(items, 8, [](int i) -> rill::Task<void> {
    co_await work(i);
  });
  auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: 'rill::sync::mpsc::unbounded_channel' creates an unbounded channel
  auto [btx, brx] = rill::sync::mpsc::channel<int>(16);
  std::vector<rill::Task<int>> tasks;
  for (int i : items) tasks.push_back(work(i));
  co_await rill::join_all(std::move(tasks));
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'rill::join_all' awaits every task in 'tasks' at once
}
