// Coroutine frame allocator with per-site accounting; see rill/detail/frame_alloc.hpp and
// rill/frames.hpp for the contract.
//
// Layout of a block: [Header (16 bytes)][frame ...]. Blocks of up to 64 KiB (header included)
// are rounded up to one of 32 size classes and recycled; larger ones go straight to
// ::operator new. Recycling is Bonwick's magazine design (as in Solaris' kmem and tcmalloc's
// transfer cache): each thread holds two magazines per class (a bounded free list each), and full
// magazines move through a shared depot. A task is often allocated by one worker and freed by
// another (spawned, then stolen), so without the depot one thread's lists only fill and the
// other's only empty, and every block goes through malloc, whose arena lock then serialises the
// workers. Accounting is per (thread, site) in single-writer
// relaxed atomics that snapshot() sums under the registry mutex; a thread's counters are
// folded into per-site "retired" totals when it exits.
#include "rill/detail/frame_alloc.hpp"

#include <cxxabi.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "rill/frames.hpp"

namespace rill::detail {
namespace {

constexpr std::size_t kAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

struct Site;

// Precedes every frame. Its size is a multiple of the default new alignment, so the frame
// keeps the alignment ::operator new gives the block.
struct alignas(kAlign) Header {
  Site* site;
  std::size_t requested;
};
static_assert(sizeof(Header) % kAlign == 0);
constexpr std::size_t kHeader = sizeof(Header);

// ---- size classes -----------------------------------------------------------------------
// 0..15: 64..1024 step 64; 16..27: 1280..4096 step 256; 28..31: 8 KiB..64 KiB powers of two.
constexpr unsigned kNumClasses = 32;
constexpr unsigned kNoClass = kNumClasses;
constexpr std::size_t kMaxClassSize = 64 * 1024;
// Magazine budget; a magazine of class c holds at most clamp(kClassBudget / size, 2, 256)
// blocks, and a thread holds two per class.
constexpr std::size_t kClassBudget = 32 * 1024;
// Bytes of free blocks the shared depot may hold, all classes together; a full magazine that
// does not fit is returned to ::operator delete.
constexpr std::size_t kDepotBudget = 4 * 1024 * 1024;

constexpr unsigned class_of(std::size_t total) {
  if (total <= 1024) return total == 0 ? 0 : static_cast<unsigned>((total - 1) / 64);
  if (total <= 4096) return 16 + static_cast<unsigned>((total - 1025) / 256);
  if (total <= kMaxClassSize) return 28 + (static_cast<unsigned>(std::bit_width(total - 1)) - 13);
  return kNoClass;
}

constexpr std::size_t class_size(unsigned c) {
  if (c < 16) return (c + 1) * 64;
  if (c < 28) return 1024 + (c - 15) * 256;
  return std::size_t{1} << (c - 28 + 13);
}

constexpr std::size_t class_cap(unsigned c) {
  return std::clamp<std::size_t>(kClassBudget / class_size(c), 2, 256);
}

static_assert(class_of(1) == 0 && class_of(64) == 0 && class_of(65) == 1);
static_assert(class_of(1024) == 15 && class_of(1025) == 16 && class_of(4096) == 27);
static_assert(class_of(4097) == 28 && class_of(8192) == 28 && class_of(8193) == 29);
static_assert(class_of(65536) == 31 && class_of(65537) == kNoClass);
static_assert(class_size(15) == 1024 && class_size(16) == 1280 && class_size(27) == 4096);
static_assert(class_size(28) == 8192 && class_size(31) == 65536);

// ---- sites ------------------------------------------------------------------------------
// Identity of a site on the fast path: pointers, not strings. For source_location sites
// a = function_name(), b = file_name(); for return-address sites a = address, b = nullptr and
// line = kAddressLine.
constexpr std::uint32_t kAddressLine = 0xFFFFFFFFu;

struct Key {
  const void* a;
  const void* b;
  std::uint32_t line;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept {
    auto h = reinterpret_cast<std::uintptr_t>(k.a) * 0x9E3779B97F4A7C15ull;
    h ^= reinterpret_cast<std::uintptr_t>(k.b) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= k.line * 0xC2B2AE3D27D4EB4Full;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// Net live-count change a thread accumulates for a site before publishing it to
// Site::published_live (used only for peak_live; see rill/frames.hpp).
constexpr std::int64_t kPublishEvery = 16;

struct Site {
  std::uint32_t id = 0;
  Key key{};
  std::atomic<std::size_t> frame_size{0};       // max requested bytes
  std::atomic<std::int64_t> published_live{0};  // sum of the threads' published deltas
  std::atomic<std::int64_t> peak{0};
  std::atomic<bool> large_seen{false};
  // Counters of exited threads and of the no-cache path; guarded by Registry::mu.
  std::uint64_t retired_total = 0;
  std::int64_t retired_frames = 0;
  std::int64_t retired_bytes = 0;
  // Lazily computed names for return-address sites; guarded by Registry::mu.
  bool symbolized = false;
  std::string sym_function, sym_file;
};

// One thread's counters for one site. Written only by the owning thread (plain load+store on
// relaxed atomics: no RMW), read by snapshot().
struct Counters {
  std::atomic<std::uint64_t> total{0};
  std::atomic<std::int64_t> frames{0};
  std::atomic<std::int64_t> bytes{0};
  std::int64_t published_mark = 0;  // owner-only: `frames` value last published
};

template <class T, class D>
inline void bump(std::atomic<T>& a, D delta) {
  a.store(static_cast<T>(a.load(std::memory_order_relaxed) + static_cast<T>(delta)),
          std::memory_order_relaxed);
}

template <class T>
inline void atomic_max(std::atomic<T>& a, T v) {
  T cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

constexpr std::size_t kChunkBits = 8;
constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;
constexpr std::size_t kMaxChunks = 256;
constexpr std::size_t kMaxSites = kChunk * kMaxChunks;  // 65536

struct ThreadCache;

struct Registry {
  std::mutex mu;
  std::unordered_map<Key, Site*, KeyHash> by_key;
  std::vector<std::unique_ptr<Site>> sites;  // index == Site::id
  std::vector<ThreadCache*> threads;
  Site* overflow = nullptr;  // shared by all sites past kMaxSites

  Registry() {
    auto s = std::make_unique<Site>();
    s->id = 0;
    s->key = Key{"<too many frame sites>", "", 0};
    overflow = s.get();
    sites.push_back(std::move(s));
  }

  Site* get_or_create(const Key& k) {
    std::lock_guard lock(mu);
    auto it = by_key.find(k);
    if (it != by_key.end()) return it->second;
    if (sites.size() >= kMaxSites) return overflow;
    auto s = std::make_unique<Site>();
    s->id = static_cast<std::uint32_t>(sites.size());
    s->key = k;
    Site* raw = s.get();
    sites.push_back(std::move(s));
    by_key.emplace(k, raw);
    return raw;
  }
};

// Intentionally leaked: used by thread-exit and static-destruction-time frees.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<std::size_t> g_threshold{16384};
std::atomic<void (*)(const rill::frames::SiteStats&)> g_hook{nullptr};

// ---- per-thread cache -------------------------------------------------------------------
// A magazine: an intrusive singly linked list of free blocks (the link is the block's first
// word).
struct FreeList {
  void* head = nullptr;
  std::size_t count = 0;

  void push(void* block) noexcept {
    *static_cast<void**>(block) = head;
    head = block;
    ++count;
  }
  void* pop() noexcept {
    void* block = head;
    head = *static_cast<void**>(block);
    --count;
    return block;
  }
  void release() noexcept {
    while (count) ::operator delete(pop());
  }
};

// ---- shared depot of full magazines -----------------------------------------------------
// Per class, a stack of full magazines under a mutex taken once per magazine (tens to hundreds
// of blocks). A magazine's first block holds, after the free-list link, the next magazine and
// the block count (blocks are at least 64 bytes).
struct MagazineLink {
  void* link;  // the free-list link (FreeList's first word)
  void* next_magazine;
  std::size_t count;
};

struct DepotClass {
  std::mutex mu;
  void* top = nullptr;  // first block of the top magazine
};

struct Depot {
  DepotClass classes[kNumClasses];
  std::atomic<std::size_t> bytes{0};

  // Takes ownership of a full magazine; frees its blocks if the depot is at its budget.
  void put(unsigned cls, FreeList& m) noexcept {
    const std::size_t size = m.count * class_size(cls);
    if (bytes.fetch_add(size, std::memory_order_relaxed) + size > kDepotBudget) {
      bytes.fetch_sub(size, std::memory_order_relaxed);
      m.release();
      return;
    }
    auto* first = static_cast<MagazineLink*>(m.head);
    first->count = m.count;
    DepotClass& d = classes[cls];
    {
      std::lock_guard lock(d.mu);
      first->next_magazine = d.top;
      d.top = first;
    }
    m = FreeList{};
  }

  // Moves a full magazine into the empty `m`; false if the depot has none of this class.
  bool take(unsigned cls, FreeList& m) noexcept {
    DepotClass& d = classes[cls];
    MagazineLink* first;
    {
      std::lock_guard lock(d.mu);
      first = static_cast<MagazineLink*>(d.top);
      if (!first) return false;
      d.top = first->next_magazine;
    }
    m.head = first;
    m.count = first->count;
    bytes.fetch_sub(m.count * class_size(cls), std::memory_order_relaxed);
    return true;
  }
};

// Intentionally leaked, like the registry: exiting threads hand their magazines to it.
Depot& depot() {
  static Depot* d = new Depot;
  return *d;
}

struct LookupEntry {
  Key key{nullptr, nullptr, 0};
  Site* site = nullptr;
};

struct ThreadCache {
  static constexpr std::size_t kLookup = 64;  // direct-mapped, power of two

  FreeList loaded[kNumClasses];    // allocations pop from, frees push to, this magazine
  FreeList previous[kNumClasses];  // the other magazine: full, empty or in between
  LookupEntry lookup[kLookup];
  std::unordered_map<Key, Site*, KeyHash> local;  // second-level, avoids the registry mutex
  std::atomic<Counters*> chunks[kMaxChunks] = {};

  Site* site_for(const Key& k) {
    LookupEntry& e = lookup[KeyHash{}(k) & (kLookup - 1)];
    if (e.site && e.key == k) [[likely]]
      return e.site;
    return site_slow(k, e);
  }

  Site* site_slow(const Key& k, LookupEntry& e) {
    Site* s;
    auto it = local.find(k);
    if (it != local.end()) {
      s = it->second;
    } else {
      s = registry().get_or_create(k);
      local.emplace(k, s);
    }
    e.key = k;
    e.site = s;
    return s;
  }

  Counters& counters_for(const Site* s) {
    Counters* ch = chunks[s->id >> kChunkBits].load(std::memory_order_relaxed);
    if (!ch) [[unlikely]] {
      ch = new Counters[kChunk];
      chunks[s->id >> kChunkBits].store(ch, std::memory_order_release);
    }
    return ch[s->id & (kChunk - 1)];
  }

  ~ThreadCache() {
    for (auto& c : chunks)
      delete[] c.load(std::memory_order_relaxed);
    for (unsigned c = 0; c < kNumClasses; ++c) {
      for (FreeList* m : {&loaded[c], &previous[c]}) {
        if (m->count == class_cap(c))
          depot().put(c, *m);
        else
          m->release();
      }
    }
  }

  // A free block of class `cls`, or nullptr when this thread and the depot have none.
  void* pop(unsigned cls) noexcept {
    FreeList& l = loaded[cls];
    if (l.count) [[likely]]
      return l.pop();
    FreeList& p = previous[cls];
    if (p.count) {
      std::swap(l, p);
      return l.pop();
    }
    if (depot().take(cls, l)) return l.pop();
    return nullptr;
  }

  // Keeps a free block of class `cls`; a full magazine goes to the depot to make room.
  void push(unsigned cls, void* block) noexcept {
    FreeList& l = loaded[cls];
    const std::size_t cap = class_cap(cls);
    if (l.count < cap) [[likely]] {
      l.push(block);
      return;
    }
    FreeList& p = previous[cls];
    if (p.count == cap) depot().put(cls, p);
    if (p.count != 0) p.release();  // partial magazines are not shared
    std::swap(l, p);                // the full one becomes `previous`, the empty one is loaded
    l.push(block);
  }
};

// Fast, trivially destructible TLS pointer; the owner below destroys the cache at thread exit.
thread_local ThreadCache* t_cache = nullptr;
thread_local bool t_dead = false;

// Folds a dying thread's counters into the per-site retired totals.
void retire(ThreadCache* tc) {
  Registry& r = registry();
  {
    std::lock_guard lock(r.mu);
    for (std::size_t i = 0; i < kMaxChunks; ++i) {
      Counters* ch = tc->chunks[i].load(std::memory_order_relaxed);
      if (!ch) continue;
      for (std::size_t j = 0; j < kChunk && i * kChunk + j < r.sites.size(); ++j) {
        Site& s = *r.sites[i * kChunk + j];
        Counters& c = ch[j];
        const std::int64_t frames = c.frames.load(std::memory_order_relaxed);
        s.retired_total += c.total.load(std::memory_order_relaxed);
        s.retired_frames += frames;
        s.retired_bytes += c.bytes.load(std::memory_order_relaxed);
        if (frames != c.published_mark)
          s.published_live.fetch_add(frames - c.published_mark, std::memory_order_relaxed);
      }
    }
    std::erase(r.threads, tc);
  }
  delete tc;
}

struct TlsOwner {
  void touch() {}
  ~TlsOwner() {
    t_dead = true;
    if (ThreadCache* tc = t_cache) {
      t_cache = nullptr;
      retire(tc);
    }
  }
};
thread_local TlsOwner t_owner;

// Returns the calling thread's cache, creating it on first use; nullptr once the thread's
// TLS is being torn down (or if creating it failed), in which case callers use the global
// no-cache path.
ThreadCache* cache_slow() noexcept {
  if (t_dead) return nullptr;
  try {
    auto tc = std::make_unique<ThreadCache>();
    t_owner.touch();  // registers the thread-exit destructor
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.threads.push_back(tc.get());
    t_cache = tc.release();
    return t_cache;
  } catch (...) {
    return nullptr;
  }
}

inline ThreadCache* cache() noexcept {
  ThreadCache* tc = t_cache;
  if (tc) [[likely]]
    return tc;
  return cache_slow();
}

std::atomic<std::uint64_t> g_from_system{0};

void* block_alloc(std::size_t total, unsigned cls) {
  g_from_system.fetch_add(1, std::memory_order_relaxed);
  return ::operator new(cls < kNumClasses ? class_size(cls) : total);
}

// ---- reporting helpers ------------------------------------------------------------------
void symbolize(Site& s) {
  if (s.symbolized) return;
  s.symbolized = true;
  const void* addr = s.key.a;
  Dl_info info{};
  if (addr && dladdr(addr, &info) != 0) {
    if (info.dli_fname) s.sym_file = info.dli_fname;
    if (info.dli_sname) {
      int status = 0;
      char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
      s.sym_function = (status == 0 && demangled) ? demangled : info.dli_sname;
      std::free(demangled);
      return;
    }
  }
  char buf[32];
  if (addr) {
    std::snprintf(buf, sizeof buf, "0x%" PRIxPTR, reinterpret_cast<std::uintptr_t>(addr));
    s.sym_function = buf;
  } else {
    s.sym_function = "<unknown>";
  }
}

// Names of a site; for address sites requires Registry::mu.
void names(Site& s, std::string& function, std::string& file, unsigned& line) {
  if (s.key.line == kAddressLine) {
    symbolize(s);
    function = s.sym_function;
    file = s.sym_file;
    line = 0;
  } else {
    function = static_cast<const char*>(s.key.a);
    file = static_cast<const char*>(s.key.b);
    line = s.key.line;
  }
}

void report_large(Site* site, std::size_t n, std::uint64_t total_here, std::int64_t live_here) {
  if (site->large_seen.exchange(true, std::memory_order_acq_rel)) return;
  auto hook = g_hook.load(std::memory_order_acquire);
  if (!hook) return;
  rill::frames::SiteStats st;
  {
    std::lock_guard lock(registry().mu);
    names(*site, st.function, st.file, st.line);
  }
  st.frame_size = n;
  st.live = static_cast<std::size_t>(std::max<std::int64_t>(live_here, 1));
  st.live_bytes = st.live * n;
  st.peak_live = std::max<std::size_t>(
      st.live, static_cast<std::size_t>(site->peak.load(std::memory_order_relaxed)));
  st.total = total_here;
  st.large = true;
  hook(st);
}

// Allocation when the thread has no cache (exiting thread, or cache creation failed): no
// recycling, counters go straight to the site's retired totals under the registry mutex.
void* alloc_uncached(std::size_t n, const Key& k) {
  const std::size_t total = n + kHeader;
  const unsigned cls = class_of(total);
  void* block = block_alloc(total, cls);
  Registry& r = registry();
  Site* site = r.get_or_create(k);
  atomic_max(site->frame_size, n);
  {
    std::lock_guard lock(r.mu);
    site->retired_total += 1;
    site->retired_frames += 1;
    site->retired_bytes += static_cast<std::int64_t>(n);
    site->published_live.fetch_add(1, std::memory_order_relaxed);
  }
  return ::new (block) Header{site, n} + 1;
}

void* alloc_impl(std::size_t n, const Key& k) {
  if (n > SIZE_MAX / 2) throw std::bad_alloc();
  ThreadCache* tc = cache();
  if (!tc) [[unlikely]]
    return alloc_uncached(n, k);
  Site* site = tc->site_for(k);
  Counters& c = tc->counters_for(site);

  const std::size_t total = n + kHeader;
  const unsigned cls = class_of(total);
  void* block = cls < kNumClasses ? tc->pop(cls) : nullptr;
  if (!block) block = block_alloc(total, cls);
  Header* h = ::new (block) Header{site, n};

  bump(c.total, 1);
  bump(c.bytes, n);
  const std::int64_t frames = c.frames.load(std::memory_order_relaxed) + 1;
  c.frames.store(frames, std::memory_order_relaxed);
  std::int64_t unpublished = frames - c.published_mark;
  std::int64_t published;
  if (unpublished >= kPublishEvery) {
    published =
        site->published_live.fetch_add(unpublished, std::memory_order_relaxed) + unpublished;
    c.published_mark = frames;
    unpublished = 0;
  } else {
    published = site->published_live.load(std::memory_order_relaxed);
  }
  const std::int64_t estimate = published + unpublished;
  if (estimate > site->peak.load(std::memory_order_relaxed)) atomic_max(site->peak, estimate);
  if (n > site->frame_size.load(std::memory_order_relaxed)) atomic_max(site->frame_size, n);

  const std::size_t threshold = g_threshold.load(std::memory_order_relaxed);
  if (threshold != 0 && n > threshold && !site->large_seen.load(std::memory_order_relaxed))
      [[unlikely]] {
    try {
      report_large(site, n, c.total.load(std::memory_order_relaxed), estimate);
    } catch (...) {
      frame_free(h + 1, n);
      throw;
    }
  }
  return h + 1;
}

}  // namespace

void* frame_alloc(std::size_t n, std::source_location where) {
  return alloc_impl(n, Key{where.function_name(), where.file_name(), where.line()});
}

void* frame_alloc(std::size_t n, FrameSite site) {
  return frame_alloc(n, site.location);
}

void* frame_alloc(std::size_t n, const void* return_address) {
  return alloc_impl(n, Key{return_address, nullptr, kAddressLine});
}

std::uint64_t frame_blocks_from_system() noexcept {
  return g_from_system.load(std::memory_order_relaxed);
}

void frame_free(void* p, std::size_t n) noexcept {
  if (!p) return;
  Header* h = static_cast<Header*>(p) - 1;
  Site* site = h->site;
  const std::size_t requested = h->requested;
  assert(requested == n && "frame_free: size differs from the one passed to frame_alloc");
  (void)n;
  const unsigned cls = class_of(requested + kHeader);

  ThreadCache* tc = cache();
  Counters* c = nullptr;
  if (tc) [[likely]] {
    try {
      c = &tc->counters_for(site);
    } catch (...) {
      c = nullptr;  // out of memory for a counter chunk: account globally instead
    }
  }
  if (!c) [[unlikely]] {
    {
      std::lock_guard lock(registry().mu);
      site->retired_frames -= 1;
      site->retired_bytes -= static_cast<std::int64_t>(requested);
      site->published_live.fetch_sub(1, std::memory_order_relaxed);
    }
    ::operator delete(h);
    return;
  }

  bump(c->bytes, -static_cast<std::int64_t>(requested));
  const std::int64_t frames = c->frames.load(std::memory_order_relaxed) - 1;
  c->frames.store(frames, std::memory_order_relaxed);
  if (frames - c->published_mark <= -kPublishEvery) {
    site->published_live.fetch_add(frames - c->published_mark, std::memory_order_relaxed);
    c->published_mark = frames;
  }

  if (cls < kNumClasses) {
    tc->push(cls, h);
    return;
  }
  ::operator delete(h);
}

}  // namespace rill::detail

namespace rill::frames {

using rill::detail::Counters;
using rill::detail::kChunk;
using rill::detail::kMaxChunks;
using rill::detail::Registry;
using rill::detail::registry;

namespace {

struct Sum {
  std::uint64_t total = 0;
  std::int64_t frames = 0;
  std::int64_t bytes = 0;
};

// Requires r.mu. Adds every live thread's counters to `sums` (indexed by site id).
template <class Visit>
void for_each_site_sum(Registry& r, Visit&& visit) {
  const std::size_t nsites = r.sites.size();
  std::vector<Sum> sums(nsites);
  for (std::size_t id = 0; id < nsites; ++id) {
    const auto& s = *r.sites[id];
    sums[id] = Sum{s.retired_total, s.retired_frames, s.retired_bytes};
  }
  for (auto* tc : r.threads) {
    for (std::size_t i = 0; i < kMaxChunks && i * kChunk < nsites; ++i) {
      const Counters* ch = tc->chunks[i].load(std::memory_order_acquire);
      if (!ch) continue;
      for (std::size_t j = 0; j < kChunk && i * kChunk + j < nsites; ++j) {
        Sum& sum = sums[i * kChunk + j];
        sum.total += ch[j].total.load(std::memory_order_relaxed);
        sum.frames += ch[j].frames.load(std::memory_order_relaxed);
        sum.bytes += ch[j].bytes.load(std::memory_order_relaxed);
      }
    }
  }
  for (std::size_t id = 0; id < nsites; ++id)
    visit(*r.sites[id], sums[id]);
}

}  // namespace

std::vector<SiteStats> snapshot() {
  Registry& r = registry();
  std::vector<SiteStats> out;
  const std::size_t threshold = rill::detail::g_threshold.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(r.mu);
    for_each_site_sum(r, [&](rill::detail::Site& s, const Sum& sum) {
      if (sum.total == 0) return;
      SiteStats st;
      rill::detail::names(s, st.function, st.file, st.line);
      st.frame_size = s.frame_size.load(std::memory_order_relaxed);
      st.live = static_cast<std::size_t>(std::max<std::int64_t>(sum.frames, 0));
      st.live_bytes = static_cast<std::size_t>(std::max<std::int64_t>(sum.bytes, 0));
      rill::detail::atomic_max(s.peak, static_cast<std::int64_t>(st.live));
      st.peak_live = static_cast<std::size_t>(s.peak.load(std::memory_order_relaxed));
      st.total = sum.total;
      out.push_back(std::move(st));
    });
  }
  // Merge sites whose strings are equal (same coroutine seen through different pointers).
  std::map<std::tuple<std::string, std::string, unsigned>, std::size_t> index;
  std::vector<SiteStats> merged;
  merged.reserve(out.size());
  for (auto& st : out) {
    auto [it, inserted] = index.try_emplace({st.function, st.file, st.line}, merged.size());
    if (inserted) {
      merged.push_back(std::move(st));
      continue;
    }
    SiteStats& m = merged[it->second];
    m.frame_size = std::max(m.frame_size, st.frame_size);
    m.live += st.live;
    m.live_bytes += st.live_bytes;
    m.peak_live += st.peak_live;
    m.total += st.total;
  }
  for (auto& m : merged)
    m.large = threshold != 0 && m.frame_size > threshold;
  std::sort(merged.begin(), merged.end(), [](const SiteStats& a, const SiteStats& b) {
    if (a.live_bytes != b.live_bytes) return a.live_bytes > b.live_bytes;
    if (a.frame_size != b.frame_size) return a.frame_size > b.frame_size;
    return std::tie(a.function, a.file, a.line) < std::tie(b.function, b.file, b.line);
  });
  return merged;
}

Totals totals() {
  Registry& r = registry();
  Totals t;
  std::int64_t frames = 0, bytes = 0;
  {
    std::lock_guard lock(r.mu);
    for_each_site_sum(r, [&](rill::detail::Site&, const Sum& sum) {
      frames += sum.frames;
      bytes += sum.bytes;
      t.total_allocations += sum.total;
    });
  }
  t.live_frames = static_cast<std::size_t>(std::max<std::int64_t>(frames, 0));
  t.live_bytes = static_cast<std::size_t>(std::max<std::int64_t>(bytes, 0));
  return t;
}

void set_large_frame_threshold(std::size_t bytes) noexcept {
  rill::detail::g_threshold.store(bytes, std::memory_order_relaxed);
}

std::size_t large_frame_threshold() noexcept {
  return rill::detail::g_threshold.load(std::memory_order_relaxed);
}

void set_large_frame_hook(void (*hook)(const SiteStats&)) noexcept {
  rill::detail::g_hook.store(hook, std::memory_order_release);
}

}  // namespace rill::frames
