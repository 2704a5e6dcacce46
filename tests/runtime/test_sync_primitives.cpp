// Tests for rill::sync::{Semaphore, Mutex, RwLock, Notify, Barrier, OnceCell}: Tokio's documented
// semantics, FIFO fairness, cancellation (a waiter destroyed while queued loses nothing) and
// cross-thread stress (run under TSan by .ci/test).
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/sync/barrier.hpp>
#include <rill/sync/mutex.hpp>
#include <rill/sync/notify.hpp>
#include <rill/sync/once_cell.hpp>
#include <rill/sync/rwlock.hpp>
#include <rill/sync/semaphore.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;
using namespace rill::sync;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kStress = 1500;
#else
constexpr int kStress = 20000;
#endif

rill::Runtime mt() {
  return rill::Builder::new_multi_thread().worker_threads(2).build();
}
rill::Runtime ct() {
  return rill::Builder::new_current_thread().build();
}

/// Undoes an "in the critical section" count when it ends, also when the task is cancelled.
struct Leave {
  std::atomic<int>* in;
  int n;
  ~Leave() { in->fetch_sub(n); }
};
struct Reset {
  int* v;
  ~Reset() { *v = 0; }
};

/// Lets every other ready task on a current_thread runtime run (they queue on their awaits).
Task<void> settle() {
  for (int i = 0; i < 20; ++i)
    co_await rill::yield_now();
}
}  // namespace

// ---- Semaphore ----------------------------------------------------------------------------------

TEST(Semaphore, TryAcquireForgetAddClose) {
  Semaphore s(2);
  auto a = s.try_acquire();
  ASSERT_TRUE(a.has_value());
  auto b = s.try_acquire();
  ASSERT_TRUE(b.has_value());
  auto c = s.try_acquire();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().kind, TryAcquireError::Kind::NoPermits);
  {
    auto drop = std::move(*a);
  }
  EXPECT_EQ(s.available_permits(), 1u);
  b->forget();  // capacity shrinks for good
  {
    auto drop = std::move(*b);
  }
  EXPECT_EQ(s.available_permits(), 1u);
  s.add_permits(3);
  EXPECT_EQ(s.available_permits(), 4u);
  auto many = s.try_acquire(4);
  ASSERT_TRUE(many.has_value());
  EXPECT_EQ(many->num_permits(), 4u);
  EXPECT_EQ(s.available_permits(), 0u);
  s.close();
  EXPECT_TRUE(s.is_closed());
  auto d = s.try_acquire();
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, TryAcquireError::Kind::Closed);
  {
    auto drop = std::move(*many);
  }
  EXPECT_EQ(s.available_permits(), 4u);  // held permits stay valid and return after close
  EXPECT_THROW(Semaphore(Semaphore::MAX_PERMITS + 1), std::invalid_argument);
  EXPECT_THROW(s.add_permits(Semaphore::MAX_PERMITS), std::invalid_argument);
  EXPECT_EQ(s.forget_permits(3), 3u);
  EXPECT_EQ(s.available_permits(), 1u);
}

TEST(Semaphore, LargeRequestIsNotOvertaken) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Semaphore s(0);
    std::atomic<int> big{0}, small{0};
    auto a = rill::spawn([](Semaphore* s, std::atomic<int>* big) -> Task<void> {
      auto p = co_await s->acquire(3);
      big->store(1);
      co_await rill::sleep(2ms);  // hold the 3 permits for a while
    }(&s, &big));
    co_await settle();
    auto b = rill::spawn([](Semaphore* s, std::atomic<int>* small) -> Task<void> {
      auto p = co_await s->acquire(1);
      small->store(1);
    }(&s, &small));
    co_await settle();
    s.add_permits(1);  // assigned to the head (the 3-permit request), not to the later 1-permit
    co_await settle();
    EXPECT_EQ(big.load(), 0);
    EXPECT_EQ(small.load(), 0);
    EXPECT_EQ(s.available_permits(), 0u);
    s.add_permits(2);
    co_await settle();
    EXPECT_EQ(big.load(), 1);
    EXPECT_EQ(small.load(), 0);
    co_await a;
    co_await b;
    EXPECT_EQ(small.load(), 1);
    EXPECT_EQ(s.available_permits(), 3u);
  }());
}

TEST(Semaphore, CancelledWaiterReturnsPartialPermits) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Semaphore s(0);
    auto a = rill::spawn([](Semaphore* s) -> Task<void> {
      auto p = co_await s->acquire(3);
      ADD_FAILURE() << "must not acquire";
    }(&s));
    co_await settle();
    s.add_permits(2);  // partially assigned to the queued request
    EXPECT_EQ(s.available_permits(), 0u);
    a.abort();
    bool cancelled = false;
    try {
      co_await a;
    } catch (const rill::JoinError& e) {
      cancelled = e.is_cancelled();
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(s.available_permits(), 2u);  // the destructor gave them back
    // A timed-out acquire leaves the queue; the next waiter still gets the permit.
    auto held = co_await s.acquire(2);
    auto r = co_await rill::timeout(
        3ms, [](Semaphore* s) -> Task<void> { auto p = co_await s->acquire(); }(&s));
    EXPECT_FALSE(r.has_value());
    auto next = rill::spawn([](Semaphore* s) -> Task<int> {
      auto p = co_await s->acquire();
      co_return 7;
    }(&s));
    co_await settle();
    {
      auto drop = std::move(*held);
    }
    EXPECT_EQ(co_await next, 7);
    EXPECT_EQ(s.available_permits(), 2u);
  }());
}

TEST(Semaphore, CloseFailsPendingAndFutureAcquires) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto s = std::make_shared<Semaphore>(1);
    auto held = co_await Semaphore::acquire_owned(s);
    if (!held.has_value()) {
      ADD_FAILURE() << "unexpected held";
      co_return;
    }
    auto waiter = rill::spawn([](std::shared_ptr<Semaphore> s) -> Task<bool> {
      auto p = co_await s->acquire(1);
      co_return !p.has_value();
    }(s));
    co_await rill::sleep(3ms);
    s->close();
    EXPECT_TRUE(co_await waiter);
    auto later = co_await s->acquire();
    EXPECT_FALSE(later.has_value());
  }());
}

TEST(Semaphore, OwnedPermitsBoundConcurrencyAcrossThreads) {
  auto rt = mt();
  auto max_seen = rt.block_on([]() -> Task<int> {
    auto s = std::make_shared<Semaphore>(3);
    auto in = std::make_shared<std::atomic<int>>(0);
    auto max = std::make_shared<std::atomic<int>>(0);
    std::vector<rill::JoinHandle<void>> hs;
    for (int t = 0; t < 8; ++t)
      hs.push_back(rill::spawn([](auto s, auto in, auto max) -> Task<void> {
        for (int i = 0; i < kStress / 8; ++i) {
          auto p = co_await Semaphore::acquire_owned(s);
          int now = in->fetch_add(1) + 1;
          int m = max->load();
          while (now > m && !max->compare_exchange_weak(m, now)) {
          }
          if (i % 4 == 0) co_await rill::yield_now();
          in->fetch_sub(1);
        }
      }(s, in, max)));
    for (auto& h : hs)
      co_await h;
    EXPECT_EQ(s->available_permits(), 3u);
    co_return max->load();
  }());
  EXPECT_LE(max_seen, 3);
  EXPECT_GE(max_seen, 1);
}

TEST(Semaphore, CancellationStressKeepsPermitCount) {
  // Acquires cancelled by timeouts race with releases on the other worker: queued, partially
  // assigned and granted-but-unresumed waiters are all destroyed at some point; no permit may be
  // lost or duplicated.
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto s = std::make_shared<Semaphore>(3);
    auto in = std::make_shared<std::atomic<int>>(0);
    std::vector<rill::JoinHandle<int>> hs;
    for (int t = 0; t < 6; ++t)
      hs.push_back(rill::spawn([](auto s, auto in, int t) -> Task<int> {
        int got = 0;
        for (int i = 0; i < kStress / 12; ++i) {
          auto r = co_await rill::timeout(
              std::chrono::microseconds(300 * ((i + t) % 4)),
              [](auto s, auto in, std::uint32_t n) -> Task<void> {
                auto p = co_await s->acquire(n);
                if (!p) co_return;
                int now = in->fetch_add(static_cast<int>(n)) + static_cast<int>(n);
                EXPECT_LE(now, 3);
                Leave leave{in.get(), static_cast<int>(n)};  // runs even when cancelled
                co_await rill::yield_now();
              }(s, in, static_cast<std::uint32_t>(1 + (i + t) % 3)));
          if (r) ++got;
        }
        co_return got;
      }(s, in, t)));
    int total = 0;
    for (auto& h : hs)
      total += co_await h;
    EXPECT_GT(total, 0);                   // some acquisitions completed ...
    EXPECT_LT(total, 6 * (kStress / 12));  // ... and some were cancelled
    EXPECT_EQ(s->available_permits(), 3u);
    EXPECT_EQ(in->load(), 0);
  }());
}

// ---- Mutex --------------------------------------------------------------------------------------

TEST(Mutex, GuardAcrossAwaitAndCounts) {
  auto rt = mt();
  long total = rt.block_on([]() -> Task<long> {
    auto m = std::make_shared<Mutex<long>>(0);
    std::vector<rill::JoinHandle<void>> hs;
    for (int t = 0; t < 4; ++t)
      hs.push_back(rill::spawn([](std::shared_ptr<Mutex<long>> m) -> Task<void> {
        for (int i = 0; i < kStress; ++i) {
          auto g = co_await m->lock();
          long v = *g;
          if (i % 16 == 0) co_await rill::yield_now();  // held across an await
          *g = v + 1;
        }
      }(m)));
    for (auto& h : hs)
      co_await h;
    auto g = co_await m->lock();
    co_return *g;
  }());
  EXPECT_EQ(total, 4L * kStress);
}

TEST(Mutex, TryLockAndOwned) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    auto m = std::make_shared<Mutex<int>>(5);
    {
      auto g = co_await m->lock();
      EXPECT_TRUE(m->is_locked());
      EXPECT_FALSE(m->try_lock().has_value());
      *g = 6;
    }
    auto g2 = m->try_lock();
    if (!g2.has_value()) {
      ADD_FAILURE() << "unexpected g2";
      co_return;
    }
    EXPECT_EQ(**g2, 6);
    g2->unlock();
    auto owned = co_await Mutex<int>::lock_owned(m);
    auto h = rill::spawn([](OwnedMutexGuard<int> g) -> Task<int> {
      *g += 1;
      co_return *g;
    }(std::move(owned)));
    EXPECT_EQ(co_await h, 7);
    EXPECT_FALSE(m->is_locked());
  }());
}

TEST(Mutex, FifoHandOff) {
  auto rt = ct();
  auto order = rt.block_on([]() -> Task<std::vector<int>> {
    Mutex<std::vector<int>> m;
    auto g = co_await m.lock();
    std::vector<rill::JoinHandle<void>> hs;
    for (int i = 0; i < 6; ++i) {
      hs.push_back(rill::spawn([](Mutex<std::vector<int>>* m, int i) -> Task<void> {
        auto g = co_await m->lock();
        g->push_back(i);
        co_await rill::yield_now();  // others are queued meanwhile and must keep their order
      }(&m, i)));
      co_await settle();  // i is queued before i + 1
    }
    g.unlock();
    for (auto& h : hs)
      co_await h;
    auto g2 = co_await m.lock();
    co_return *g2;
  }());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Mutex, CancelledLockDoesNotLoseTheLock) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Mutex<int> m(0);
    auto g = co_await m.lock();
    auto r = co_await rill::timeout(2ms, [](Mutex<int>* m) -> Task<void> {
      auto g = co_await m->lock();
      ADD_FAILURE() << "lock was held";
    }(&m));
    EXPECT_FALSE(r.has_value());
    auto w = rill::spawn([](Mutex<int>* m) -> Task<int> {
      auto g = co_await m->lock();
      co_return ++*g;
    }(&m));
    co_await settle();
    g.unlock();
    EXPECT_EQ(co_await w, 1);
    EXPECT_FALSE(m.is_locked());
  }());
}

TEST(Mutex, CancellationStressNeverLosesTheLock) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto m = std::make_shared<Mutex<int>>(0);
    std::vector<rill::JoinHandle<int>> hs;
    for (int t = 0; t < 4; ++t)
      hs.push_back(rill::spawn([](auto m, int t) -> Task<int> {
        int done = 0;
        for (int i = 0; i < kStress / 8; ++i) {
          auto r = co_await rill::timeout(std::chrono::microseconds(200 * ((i + t) % 3)),
                                          [](auto m) -> Task<void> {
                                            auto g = co_await m->lock();
                                            EXPECT_EQ(*g, 0);  // exclusive
                                            *g = 1;
                                            Reset reset{&*g};  // runs on cancellation too
                                            co_await rill::yield_now();
                                          }(m));
          if (r) ++done;
        }
        co_return done;
      }(m, t)));
    int total = 0;
    for (auto& h : hs)
      total += co_await h;
    EXPECT_GT(total, 0);
    EXPECT_LT(total, 4 * (kStress / 8));
    auto g = m->try_lock();  // the lock is free again: no waiter kept it
    EXPECT_TRUE(g.has_value());
  }());
}

// ---- RwLock -------------------------------------------------------------------------------------

TEST(RwLock, ReadersShareWritersExcludeAndQueuedWriterBlocksNewReaders) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    RwLock<int> l(1);
    auto r1 = co_await l.read();
    auto r2 = co_await l.read();
    EXPECT_EQ(*r1 + *r2, 2);
    EXPECT_FALSE(l.try_write().has_value());
    std::atomic<bool> wrote{false};
    auto w = rill::spawn([](RwLock<int>* l, std::atomic<bool>* wrote) -> Task<void> {
      auto g = co_await l->write();
      *g = 2;
      wrote->store(true);
    }(&l, &wrote));
    co_await settle();
    EXPECT_FALSE(wrote.load());
    EXPECT_FALSE(l.try_read().has_value());  // fair: the queued writer goes first
    r1.unlock();
    co_await settle();
    EXPECT_FALSE(wrote.load());
    r2.unlock();
    co_await w;
    EXPECT_TRUE(wrote.load());
    auto wg = co_await l.write();
    *wg = 3;
    auto rg = std::move(wg).downgrade();
    EXPECT_EQ(*rg, 3);
    EXPECT_TRUE(l.try_read().has_value());
    EXPECT_FALSE(l.try_write().has_value());
  }());
  EXPECT_THROW(RwLock<int>(0u, 1), std::invalid_argument);
}

TEST(RwLock, StressReadersAndWriters) {
  auto rt = mt();
  auto v = rt.block_on([]() -> Task<std::pair<long, long>> {
    auto l = std::make_shared<RwLock<std::pair<long, long>>>();
    std::vector<rill::JoinHandle<void>> hs;
    for (int t = 0; t < 4; ++t)
      hs.push_back(rill::spawn([](auto l, int t) -> Task<void> {
        for (int i = 0; i < kStress / 2; ++i) {
          if ((i + t) % 3 == 0) {
            auto g = co_await l->write();
            ++g->first;
            ++g->second;
          } else {
            auto g = co_await l->read();
            EXPECT_EQ(g->first, g->second);  // writers are exclusive
          }
        }
      }(l, t)));
    for (auto& h : hs)
      co_await h;
    auto g = co_await l->read();
    co_return *g;
  }());
  EXPECT_EQ(v.first, v.second);
  EXPECT_GT(v.first, 0);
}

// ---- Notify -------------------------------------------------------------------------------------

TEST(Notify, NotifyOneStoresOnePermit) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Notify n;
    n.notify_one();
    n.notify_one();  // still one permit
    co_await n.notified();
    auto r =
        co_await rill::timeout(3ms, [](Notify* n) -> Task<void> { co_await n->notified(); }(&n));
    EXPECT_FALSE(r.has_value());
  }());
}

TEST(Notify, NotifyWaitersWakesAllCurrentAndStoresNothing) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto n = std::make_shared<Notify>();
    auto woke = std::make_shared<std::atomic<int>>(0);
    std::vector<rill::JoinHandle<void>> hs;
    for (int i = 0; i < 5; ++i)
      hs.push_back(rill::spawn([](auto n, auto woke) -> Task<void> {
        co_await n->notified();
        woke->fetch_add(1);
      }(n, woke)));
    co_await rill::sleep(5ms);
    // A Notified created before notify_waiters() completes even if awaited afterwards.
    auto early = n->notified();
    n->notify_waiters();
    for (auto& h : hs)
      co_await h;
    EXPECT_EQ(woke->load(), 5);
    co_await early;
    auto r = co_await rill::timeout(3ms, [](auto n) -> Task<void> { co_await n->notified(); }(n));
    EXPECT_FALSE(r.has_value());  // notify_waiters stores no permit
  }());
}

TEST(Notify, FifoAndCancelledWinnerPassesNotificationOn) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Notify n;
    std::vector<int> order;
    auto a = rill::spawn([](Notify* n, std::vector<int>* o) -> Task<void> {
      co_await n->notified();
      o->push_back(1);
    }(&n, &order));
    co_await settle();
    auto b = rill::spawn([](Notify* n, std::vector<int>* o) -> Task<void> {
      co_await n->notified();
      o->push_back(2);
    }(&n, &order));
    co_await settle();
    n.notify_one();  // picks a (FIFO) ...
    a.abort();       // ... which is cancelled before it runs: b must get the notification
    co_await b;
    EXPECT_EQ(order, std::vector<int>{2});
    try {
      co_await a;
    } catch (const rill::JoinError&) {
    }
    // FIFO order with two live waiters.
    order.clear();
    auto c = rill::spawn([](Notify* n, std::vector<int>* o) -> Task<void> {
      co_await n->notified();
      o->push_back(3);
    }(&n, &order));
    co_await settle();
    auto d = rill::spawn([](Notify* n, std::vector<int>* o) -> Task<void> {
      co_await n->notified();
      o->push_back(4);
    }(&n, &order));
    co_await settle();
    n.notify_one();
    co_await c;
    n.notify_one();
    co_await d;
    EXPECT_EQ(order, (std::vector<int>{3, 4}));
  }());
}

TEST(Notify, CrossThreadPingPong) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto ping = std::make_shared<Notify>();
    auto pong = std::make_shared<Notify>();
    auto h = rill::spawn([](auto ping, auto pong) -> Task<int> {
      int n = 0;
      for (int i = 0; i < kStress; ++i) {
        co_await ping->notified();
        ++n;
        pong->notify_one();
      }
      co_return n;
    }(ping, pong));
    for (int i = 0; i < kStress; ++i) {
      ping->notify_one();
      co_await pong->notified();
    }
    EXPECT_EQ(co_await h, kStress);
  }());
}

// ---- Barrier ------------------------------------------------------------------------------------

TEST(Barrier, OneLeaderPerGenerationAndReuse) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto b = std::make_shared<Barrier>(4);
    auto leaders = std::make_shared<std::atomic<int>>(0);
    auto passed = std::make_shared<std::atomic<int>>(0);
    std::vector<rill::JoinHandle<void>> hs;
    for (int t = 0; t < 4; ++t)
      hs.push_back(rill::spawn([](auto b, auto leaders, auto passed) -> Task<void> {
        for (int gen = 0; gen < 20; ++gen) {
          auto r = co_await b->wait();
          if (r.is_leader()) leaders->fetch_add(1);
          passed->fetch_add(1);
        }
      }(b, leaders, passed)));
    for (auto& h : hs)
      co_await h;
    EXPECT_EQ(leaders->load(), 20);
    EXPECT_EQ(passed->load(), 80);
  }());
}

TEST(Barrier, WaitersBlockUntilFull) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    Barrier b(2);
    std::atomic<bool> done{false};
    auto h = rill::spawn([](Barrier* b, std::atomic<bool>* d) -> Task<bool> {
      auto r = co_await b->wait();
      d->store(true);
      co_return r.is_leader();
    }(&b, &done));
    co_await settle();
    EXPECT_FALSE(done.load());
    auto r = co_await b.wait();
    EXPECT_TRUE(r.is_leader());
    EXPECT_FALSE(co_await h);
  }());
}

// ---- OnceCell -----------------------------------------------------------------------------------

TEST(OnceCell, InitializerRunsOnceUnderContention) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto cell = std::make_shared<OnceCell<int>>();
    auto runs = std::make_shared<std::atomic<int>>(0);
    std::vector<rill::JoinHandle<int>> hs;
    for (int t = 0; t < 8; ++t)
      hs.push_back(rill::spawn([](auto cell, auto runs) -> Task<int> {
        const int& v = co_await cell->get_or_init([runs]() -> Task<int> {
          runs->fetch_add(1);
          co_await rill::sleep(2ms);
          co_return 42;
        });
        co_return v;
      }(cell, runs)));
    for (auto& h : hs)
      EXPECT_EQ(co_await h, 42);
    EXPECT_EQ(runs->load(), 1);
    auto s = cell->set(1);
    if (s.has_value()) {
      ADD_FAILURE() << "unexpected s";
      co_return;
    }
    EXPECT_EQ(s.error().kind, SetError<int>::Kind::AlreadyInitialized);
    EXPECT_EQ(*cell->get(), 42);
  }());
}

TEST(OnceCell, FailedInitializerLetsTheNextOneRun) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    OnceCell<std::string> cell;
    EXPECT_EQ(cell.get(), nullptr);
    bool threw = false;
    try {
      (void)co_await cell.get_or_init([]() -> Task<std::string> {
        throw std::runtime_error("boom");
        co_return "never";
      });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_FALSE(cell.initialized());
    auto err = co_await cell.get_or_try_init(
        []() -> Task<rill::Result<std::string, int>> { co_return rill::Unexpected{7}; });
    if (err.has_value()) {
      ADD_FAILURE() << "unexpected err";
      co_return;
    }
    EXPECT_EQ(err.error(), 7);
    EXPECT_TRUE(cell.set("set").has_value());
    std::string v = co_await cell.get_or_init([]() -> Task<std::string> { co_return "late"; });
    EXPECT_EQ(v, "set");
    EXPECT_EQ(cell.take(), std::optional<std::string>("set"));
    EXPECT_FALSE(cell.initialized());
  }());
}
