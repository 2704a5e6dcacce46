// Inject: the global injection queue. Pushers (any thread) never lock; poppers take tasks in
// FIFO order, batches included, and every pushed task comes out exactly once.
#include "scheduler/inject.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

using rill::detail::Inject;
using rill::detail::TaskHeader;

// Links nodes[from, to) into a chain for push_batch.
std::pair<TaskHeader*, TaskHeader*> chain(std::vector<TaskHeader>& nodes, std::size_t from,
                                          std::size_t to) {
  for (std::size_t i = from; i + 1 < to; ++i)
    nodes[i].queue_next = &nodes[i + 1];
  return {&nodes[from], &nodes[to - 1]};
}

std::vector<std::uint64_t> pop_ids(Inject& q, std::size_t max) {
  std::vector<std::uint64_t> ids;
  q.pop_n(max, [&](TaskHeader* t) {
    EXPECT_EQ(t->queue_next, nullptr);
    ids.push_back(t->id);
  });
  return ids;
}

TEST(Inject, SinglesAndBatchesComeOutInPushOrder) {
  std::vector<TaskHeader> nodes(10);
  for (std::size_t i = 0; i < nodes.size(); ++i)
    nodes[i].id = i;
  Inject q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop(), nullptr);

  EXPECT_TRUE(q.push(&nodes[0]));
  auto [f, l] = chain(nodes, 1, 4);
  EXPECT_TRUE(q.push_batch(f, l, 3));
  EXPECT_EQ(q.len(), 4u);
  // Two, then pushes interleaved with partial pops: still one FIFO.
  EXPECT_EQ(pop_ids(q, 2), (std::vector<std::uint64_t>{0, 1}));
  EXPECT_TRUE(q.push(&nodes[4]));
  std::tie(f, l) = chain(nodes, 5, 8);
  EXPECT_TRUE(q.push_batch(f, l, 3));
  EXPECT_EQ(q.len(), 6u);
  EXPECT_EQ(pop_ids(q, 3), (std::vector<std::uint64_t>{2, 3, 4}));
  EXPECT_TRUE(q.push(&nodes[8]));
  EXPECT_EQ(pop_ids(q, 100), (std::vector<std::uint64_t>{5, 6, 7, 8}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(pop_ids(q, 100), std::vector<std::uint64_t>{});

  EXPECT_TRUE(q.push(&nodes[9]));
  TaskHeader* t = q.pop();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->id, 9u);
  EXPECT_EQ(q.len(), 0u);
}

TEST(Inject, ClosedQueueStillHoldsWhatIsPushedButSaysSo) {
  std::vector<TaskHeader> nodes(2);
  Inject q;
  EXPECT_TRUE(q.push(&nodes[0]));
  EXPECT_TRUE(q.close());
  EXPECT_FALSE(q.close());
  EXPECT_TRUE(q.is_closed());
  EXPECT_FALSE(q.push(&nodes[1]));  // appended anyway, for shutdown to drop
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.pop(), &nodes[0]);
  EXPECT_EQ(q.pop(), &nodes[1]);
  EXPECT_EQ(q.pop(), nullptr);
}

// Producers push singles and batches while consumers pop batches of random sizes: every task
// comes out exactly once, and each consumer sees each producer's tasks in push order.
TEST(Inject, ConcurrentPushersAndPoppersLoseNothingAndKeepOrder) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr std::size_t kPerProducer = 20000;
#else
  constexpr std::size_t kPerProducer = 200000;
#endif
  constexpr std::size_t kProducers = 3, kConsumers = 2;
  std::vector<TaskHeader> nodes(kProducers * kPerProducer);
  for (std::size_t i = 0; i < nodes.size(); ++i)
    nodes[i].id = i;
  Inject q;
  std::vector<std::atomic<int>> seen(nodes.size());
  std::atomic<std::size_t> popped{0};
  std::atomic<int> out_of_order{0};

  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      std::minstd_rand rng(static_cast<unsigned>(p + 1));
      const std::size_t base = p * kPerProducer;
      for (std::size_t i = 0; i < kPerProducer;) {
        const std::size_t n = std::min<std::size_t>(rng() % 4 == 0 ? 1 + rng() % 8 : 1,
                                                    kPerProducer - i);
        if (n == 1) {
          q.push(&nodes[base + i]);
        } else {
          auto [f, l] = chain(nodes, base + i, base + i + n);
          l->queue_next = nullptr;
          q.push_batch(f, l, n);
        }
        i += n;
      }
    });
  }
  for (std::size_t c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::minstd_rand rng(static_cast<unsigned>(100 + c));
      std::vector<std::int64_t> last(kProducers, -1);
      while (popped.load() < nodes.size()) {
        const std::size_t got = q.pop_n(1 + rng() % 16, [&](TaskHeader* t) {
          seen[t->id].fetch_add(1);
          const std::size_t p = t->id / kPerProducer;
          const auto i = static_cast<std::int64_t>(t->id % kPerProducer);
          if (i <= last[p]) out_of_order.fetch_add(1);
          last[p] = i;
        });
        popped.fetch_add(got);
        if (got == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(out_of_order.load(), 0);
  std::size_t wrong = 0;
  for (auto& s : seen)
    wrong += s.load() != 1;
  EXPECT_EQ(wrong, 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop(), nullptr);
}

}  // namespace
