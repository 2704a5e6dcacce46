// Tests for rill::detail::TimerWheel (runtime/src/time/wheel.hpp).
#include "time/wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace {

using rill::detail::TimerEntry;
using rill::detail::TimerWheel;

struct Timer {
  TimerEntry entry;
  int id = 0;
};

Timer* owner(TimerEntry* e) {
  return reinterpret_cast<Timer*>(e);
}
static_assert(offsetof(Timer, entry) == 0);

constexpr std::uint64_t kLevelSpan[] = {1, 64, 4096, 262144, 16777216, 1073741824, 68719476736ull};

TEST(TimerWheel, EmptyWheel) {
  TimerWheel w(100);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.elapsed(), 100u);
  EXPECT_FALSE(w.next_expiration().has_value());
  EXPECT_FALSE(w.next_wakeup().has_value());
  EXPECT_EQ(w.advance(1000, [](TimerEntry*) { FAIL(); }), 0u);
  EXPECT_EQ(w.elapsed(), 1000u);
}

TEST(TimerWheel, FiresAtDeadlineNotBefore) {
  Timer t;
  TimerWheel w;
  t.entry.deadline = 5;
  w.insert(&t.entry);
  EXPECT_TRUE(t.entry.linked());
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.next_expiration(), 5u);
  int fired = 0;
  EXPECT_EQ(w.advance(4, [&](TimerEntry*) { ++fired; }), 0u);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(w.advance(5,
                      [&](TimerEntry* e) {
                        EXPECT_EQ(e, &t.entry);
                        EXPECT_FALSE(e->linked());
                        ++fired;
                      }),
            1u);
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(t.entry.linked());
}

TEST(TimerWheel, AlreadyExpiredGoesPendingAndFiresOnNextAdvance) {
  Timer a, b;
  TimerWheel w(50);
  a.entry.deadline = 10;
  b.entry.deadline = 50;  // == elapsed: also already due
  w.insert(&a.entry);
  w.insert(&b.entry);
  EXPECT_EQ(w.next_expiration(), 50u);
  EXPECT_EQ(w.next_wakeup(), 50u);
  std::vector<TimerEntry*> order;
  // Even an advance that does not move time (or tries to move it back) fires pending entries.
  EXPECT_EQ(w.advance(20, [&](TimerEntry* e) { order.push_back(e); }), 2u);
  EXPECT_EQ(w.elapsed(), 50u);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], &a.entry);  // FIFO
  EXPECT_EQ(order[1], &b.entry);
}

TEST(TimerWheel, RemoveIsIdempotentAndReinsertMoves) {
  Timer t;
  TimerWheel w;
  w.remove(&t.entry);  // not linked: no-op
  t.entry.deadline = 1000;
  w.insert(&t.entry);
  w.remove(&t.entry);
  w.remove(&t.entry);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.next_expiration().has_value());
  w.insert(&t.entry);
  t.entry.deadline = 3;  // changing a linked entry requires re-insert, which moves it
  w.insert(&t.entry);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.next_expiration(), 3u);
  EXPECT_EQ(w.advance(3, [](TimerEntry*) {}), 1u);
  EXPECT_TRUE(w.empty());
}

// An entry on each level, plus ones beyond the wheel's range, fires exactly at its deadline
// while the wheel cascades it down; next_expiration() stays exact throughout.
TEST(TimerWheel, CascadesThroughEveryLevel) {
  for (unsigned level = 0; level <= 6; ++level) {
    for (std::uint64_t start :
         {std::uint64_t{0}, std::uint64_t{12345}, std::uint64_t{(1ull << 36) - 3}}) {
      Timer t;
      TimerWheel w(start);
      const std::uint64_t deadline = start + kLevelSpan[level] * 3 + 17;
      t.entry.deadline = deadline;
      w.insert(&t.entry);
      std::uint64_t now = start;
      int fired = 0;
      // Walk up to the deadline in uneven steps, checking nothing fires early.
      std::uint64_t step = std::max<std::uint64_t>(1, kLevelSpan[level] / 3 + 1);
      while (now + step < deadline) {
        now += step;
        ASSERT_EQ(w.advance(now, [&](TimerEntry*) { ++fired; }), 0u)
            << "level " << level << " early at " << now;
        ASSERT_EQ(w.next_expiration(), deadline);
        ASSERT_LE(*w.next_wakeup(), deadline);
        ASSERT_GT(*w.next_wakeup(), now);
      }
      ASSERT_EQ(w.advance(deadline - 1, [&](TimerEntry*) { ++fired; }), 0u);
      ASSERT_EQ(w.next_wakeup(), deadline);  // now within 64 ticks: exact
      ASSERT_EQ(w.advance(deadline, [&](TimerEntry*) { ++fired; }), 1u);
      EXPECT_EQ(fired, 1);
      EXPECT_TRUE(w.empty());
    }
  }
}

TEST(TimerWheel, BigJumpFiresEverythingDue) {
  std::vector<Timer> ts(7);  // entries must outlive the wheel they are linked into
  TimerWheel w;
  for (unsigned i = 0; i < ts.size(); ++i) {
    ts[i].entry.deadline = kLevelSpan[i] * 2 + i;
    w.insert(&ts[i].entry);
  }
  std::vector<std::uint64_t> deadlines;
  EXPECT_EQ(
      w.advance(kLevelSpan[5] * 2 + 5, [&](TimerEntry* e) { deadlines.push_back(e->deadline); }),
      6u);
  EXPECT_TRUE(std::is_sorted(deadlines.begin(), deadlines.end()));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.next_expiration(), kLevelSpan[6] * 2 + 6);
}

TEST(TimerWheel, NextExpirationPrefersEarlierInRangeOverClampedFarDeadline) {
  // A far (beyond range) deadline clamped into the top level may share the rotation with an
  // earlier in-range one in a later slot; the exact answer must be the in-range one.
  Timer far, near;
  TimerWheel w(0);
  far.entry.deadline = (1ull << 36) * 5 + (1ull << 30) * 2;  // top-level slot 2, far away
  near.entry.deadline = (1ull << 30) * 7 + 99;               // top-level slot 7, in range
  w.insert(&far.entry);
  w.insert(&near.entry);
  EXPECT_EQ(w.next_expiration(), near.entry.deadline);
  EXPECT_LE(*w.next_wakeup(), near.entry.deadline);
  std::vector<TimerEntry*> fired;
  w.advance(near.entry.deadline, [&](TimerEntry* e) { fired.push_back(e); });
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], &near.entry);
  EXPECT_EQ(w.next_expiration(), far.entry.deadline);
  EXPECT_EQ(w.advance(far.entry.deadline - 1, [](TimerEntry*) { FAIL(); }), 0u);
  EXPECT_EQ(w.advance(far.entry.deadline, [](TimerEntry*) {}), 1u);
}

TEST(TimerWheel, RemoveDuringFire) {
  // Both due in the same advance (same slot and different slots); whichever fires first
  // removes the others, which must then never fire.
  Timer a, b, c, d;
  TimerWheel w;
  a.entry.deadline = 10;
  b.entry.deadline = 10;
  c.entry.deadline = 4000;   // level 1 slot, due in the same advance
  d.entry.deadline = 90000;  // not due
  for (Timer* t : {&a, &b, &c, &d})
    w.insert(&t->entry);
  std::vector<TimerEntry*> fired;
  EXPECT_EQ(w.advance(5000,
                      [&](TimerEntry* e) {
                        fired.push_back(e);
                        for (Timer* t : {&a, &b, &c, &d})
                          if (&t->entry != e) w.remove(&t->entry);
                      }),
            1u);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(w.empty());
  for (Timer* t : {&a, &b, &c, &d})
    EXPECT_FALSE(t->entry.linked());
}

TEST(TimerWheel, ReinsertDuringFireFiresAgainInSameAdvance) {
  // A periodic timer: each firing re-arms 10 ticks later.
  Timer t;
  TimerWheel w;
  t.entry.deadline = 10;
  w.insert(&t.entry);
  std::vector<std::uint64_t> at;
  const std::size_t n = w.advance(1000, [&](TimerEntry* e) {
    at.push_back(e->deadline);
    e->deadline += 10;
    w.insert(e);
  });
  EXPECT_EQ(n, 100u);
  ASSERT_EQ(at.size(), 100u);
  for (std::size_t i = 0; i < at.size(); ++i)
    EXPECT_EQ(at[i], 10 * (i + 1));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.next_expiration(), 1010u);
}

TEST(TimerWheel, InsertAlreadyDueDuringFireFiresInSameAdvance) {
  Timer a, b;
  TimerWheel w;
  a.entry.deadline = 100;
  b.entry.deadline = 1;  // <= elapsed at the time it is inserted (100)
  w.insert(&a.entry);
  int n = 0;
  EXPECT_EQ(w.advance(100,
                      [&](TimerEntry* e) {
                        ++n;
                        if (e == &a.entry) w.insert(&b.entry);
                      }),
            2u);
  EXPECT_EQ(n, 2);
}

TEST(TimerWheel, DestructorUnlinksEntries) {
  Timer t;
  {
    TimerWheel w;
    t.entry.deadline = 1u << 20;
    w.insert(&t.entry);
  }
  EXPECT_FALSE(t.entry.linked());
}

// Randomised property test against a std::multimap reference: every entry fires exactly once,
// never early, and in the first advance whose `now` >= its deadline.
class TimerWheelProperty : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TimerWheelProperty, MatchesReference) {
  std::mt19937_64 rng(GetParam());
  const std::uint64_t start = rng() % (1ull << 40);
  constexpr int kTimers = 600;
  std::vector<Timer> timers(kTimers);
  TimerWheel w(start);
  for (int i = 0; i < kTimers; ++i)
    timers[i].id = i;
  std::multimap<std::uint64_t, int> ref;  // deadline -> id of live entries
  std::vector<std::multimap<std::uint64_t, int>::iterator> where(kTimers, ref.end());
  std::vector<int> fire_count(kTimers, 0);

  auto pick_delta = [&]() -> std::uint64_t {
    switch (rng() % 6) {
      case 0:
        return rng() % 64;
      case 1:
        return rng() % 5000;
      case 2:
        return rng() % 400000;
      case 3:
        return rng() % (1ull << 31);
      case 4:
        return rng() % (1ull << 38);  // beyond the wheel's 2^36 range
      default:
        return rng() % 3;
    }
  };
  auto do_insert = [&](int id, std::uint64_t deadline) {
    if (where[id] != ref.end()) ref.erase(where[id]);
    timers[id].entry.deadline = deadline;
    w.insert(&timers[id].entry);
    where[id] = ref.emplace(deadline, id);
  };
  auto do_remove = [&](int id) {
    w.remove(&timers[id].entry);
    if (where[id] != ref.end()) {
      ref.erase(where[id]);
      where[id] = ref.end();
    }
  };

  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    const int id = static_cast<int>(rng() % kTimers);
    if (op < 5) {
      std::uint64_t deadline = w.elapsed() + pick_delta();
      if (rng() % 20 == 0)
        deadline = w.elapsed() - std::min<std::uint64_t>(w.elapsed(), rng() % 100);
      do_insert(id, deadline);
    } else if (op < 7) {
      do_remove(id);
    } else {
      std::uint64_t now = w.elapsed() + pick_delta();
      if (rng() % 4 == 0 && !ref.empty()) now = ref.begin()->first;  // land exactly on one
      const std::uint64_t before = w.elapsed();
      now = std::max(before, now);  // advance() never moves time backwards
      std::vector<int> fired;
      std::uint64_t last_in_order = 0;
      const std::size_t n = w.advance(now, [&](TimerEntry* e) {
        Timer* t = owner(e);
        ASSERT_FALSE(e->linked());
        ASSERT_NE(where[t->id], ref.end()) << "fired an entry that is not registered";
        ASSERT_LE(e->deadline, now) << "fired early at step " << step;
        if (e->deadline > before) {
          ASSERT_GE(e->deadline, last_in_order) << "out of deadline order";
          last_in_order = e->deadline;
        }
        ref.erase(where[t->id]);
        where[t->id] = ref.end();
        ++fire_count[t->id];
        fired.push_back(t->id);
        // Occasionally disturb the wheel from inside the callback.
        if (rng() % 8 == 0) {
          const int other = static_cast<int>(rng() % kTimers);
          if (rng() % 2)
            do_remove(other);
          else
            do_insert(other, w.elapsed() + rng() % 200);
        }
      });
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_EQ(n, fired.size());
      ASSERT_EQ(w.elapsed(), std::max(before, now));
      // Nothing due may remain: the first advance with now >= deadline must fire it.
      if (!ref.empty()) ASSERT_GT(ref.begin()->first, now) << "entry missed by advance";
    }
    ASSERT_EQ(w.size(), ref.size());
    ASSERT_EQ(w.empty(), ref.empty());
    if (ref.empty()) {
      ASSERT_FALSE(w.next_expiration().has_value());
      ASSERT_FALSE(w.next_wakeup().has_value());
    } else {
      const std::uint64_t expect = std::max(ref.begin()->first, w.elapsed());
      ASSERT_EQ(w.next_expiration(), expect) << "step " << step;
      ASSERT_LE(*w.next_wakeup(), expect);
      ASSERT_GE(*w.next_wakeup(), w.elapsed());
    }
  }
  // Drain everything and check each registered entry fires exactly once overall.
  const std::size_t live = ref.size();
  std::size_t drained = 0;
  while (auto next = w.next_expiration()) {
    drained += w.advance(*next, [&](TimerEntry* e) {
      Timer* t = owner(e);
      ASSERT_LE(e->deadline, *next);
      ref.erase(where[t->id]);
      where[t->id] = ref.end();
      ++fire_count[t->id];
    });
  }
  EXPECT_EQ(drained, live);
  EXPECT_TRUE(ref.empty());
  EXPECT_TRUE(w.empty());
}

INSTANTIATE_TEST_SUITE_P(Seeds, TimerWheelProperty,
                         ::testing::Values(1u, 2u, 3u, 42u, 1234u, 99991u, 314159u, 2718281u));

}  // namespace
