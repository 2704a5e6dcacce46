// io/op_alloc.cpp: memory for IoOps. An op is one block: the IoOp header followed by its data
// buffer (the kernel writes into it, so it lives as long as the op, not as the awaiter). Buffers
// come in four size classes (256 B, 4 KiB, 16 KiB, 64 KiB; larger ones are allocated exactly),
// and each thread keeps a small cache of freed blocks per class, bounded in bytes (none under
// ASan, so it sees every free). Any thread may free an op; the block goes to that thread's cache. Each allocation of a
// block bumps its 16-bit generation, which op keys (user_data) carry, so a late cancel aimed at a
// freed op never matches the block's next use. Also counts orphaned ops (awaiter gone, kernel
// still owns the op) for io_orphaned_ops().
#include "io/op_internal.hpp"
#include "rill/detail/task_header.hpp"

#include <new>
#include <vector>

namespace rill::detail {

namespace {
constexpr std::uint32_t kClassCap[] = {256, 4096, 16384, 65536};
constexpr std::uint8_t kNoClass = 255;
// Blocks cached per thread and class: a byte budget (at most 32 + 64 + 64 + 128 KiB, 256 KiB of
// 4 KiB blocks on a worker), not a
// count, because an op is often freed on another thread than the one that allocated it (a
// readiness wake, a cross-thread cancel): a count cap of 128 let every thread's cache creep up
// to 10 MiB under connection churn, which looked like a leak.
// A thread that runs a core keeps more 4 KiB blocks (64, 256 KiB): a socket read of a
// 4 KiB buffer is one, every connection has one in flight, and a batch of completions frees
// many before the tasks start their next reads; with 16, an echo server of 64 connections sent
// most of them through malloc (5% of its user time).
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kCacheMax[] = {0, 0, 0, 0};  // let ASan see every free
constexpr std::size_t kCacheMaxWorker[] = {0, 0, 0, 0};
#else
constexpr std::size_t kCacheMax[] = {128, 16, 4, 2};
constexpr std::size_t kCacheMaxWorker[] = {128, 64, 4, 2};
#endif

struct Cached {
  void* mem;
  std::uint16_t gen;
};
struct OpCache {
  std::vector<Cached> free[4];
  ~OpCache() {
    for (auto& v : free)
      for (auto& c : v)
        ::operator delete(c.mem);
  }
};
thread_local OpCache t_cache;
std::atomic<std::uint16_t> g_gen{1};
}  // namespace

std::atomic<std::size_t> g_orphans{0};

std::size_t io_orphaned_ops() noexcept {
  return g_orphans.load(std::memory_order_acquire);
}

IoOp* op_alloc(std::uint32_t cap) {
  std::uint8_t cls = kNoClass;
  for (std::uint8_t i = 0; i < 4; ++i)
    if (cap <= kClassCap[i]) {
      cls = i;
      cap = kClassCap[i];
      break;
    }
  void* mem = nullptr;
  std::uint16_t gen;
  if (cls != kNoClass && !t_cache.free[cls].empty()) {
    Cached c = t_cache.free[cls].back();
    t_cache.free[cls].pop_back();
    mem = c.mem;
    gen = static_cast<std::uint16_t>(c.gen + 1);
  } else {
    mem = ::operator new(sizeof(IoOp) + cap);
    gen = g_gen.fetch_add(1, std::memory_order_relaxed);
  }
  auto* op = new (mem) IoOp;  // default-init: no 400-byte zero fill per operation
  op->cls = cls;
  op->cap = cap;
  op->gen = gen;
  return op;
}

void op_free(IoOp* op) noexcept {
  const std::uint8_t cls = op->cls;
  const std::uint16_t gen = op->gen;
  op->~IoOp();
  if (cls != kNoClass &&
      t_cache.free[cls].size() < (t_ctx.core ? kCacheMaxWorker[cls] : kCacheMax[cls])) {
    try {
      t_cache.free[cls].push_back({op, gen});
      return;
    } catch (...) {
    }
  }
  ::operator delete(op);
}

}  // namespace rill::detail
