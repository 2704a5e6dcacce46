// Coroutine frame accounting: which coroutine functions hold how much memory.
//
// Every rill coroutine frame and task cell is allocated through rill::detail::frame_alloc
// (see rill/detail/frame_alloc.hpp), which records the allocation against its *site*: the
// coroutine function (std::source_location of the promise's operator new, or a symbolized
// return address as a fallback). This header is the public, read-only view of those counters,
// in the spirit of tokio-console's per-task memory view and of clippy's `large_futures` lint
// (whose 16 KiB default threshold we reuse for the large-frame hook).
#pragma once

#include "rill/detail/compiler.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rill::frames {

/// Accounting for one allocation site (one coroutine function).
///
/// Sites are identified by (function, file, line); sites with equal strings (e.g. the same
/// inline coroutine seen from two shared objects) are merged in snapshot().
struct SiteStats {
  /// Function signature as reported by std::source_location::function_name() (e.g.
  /// "rill::Task<int> my_coro(int)"), or the demangled symbol for return-address sites
  /// ("0x..." when it cannot be symbolized).
  std::string function;
  /// Source file of the coroutine definition; for return-address sites, the shared object
  /// path from dladdr() (may be empty).
  std::string file;
  /// Line of the coroutine definition; 0 for return-address sites.
  unsigned line = 0;
  /// Frame size in bytes as requested by the compiler (excluding the allocator's 16-byte
  /// header); the largest request seen when a site's requests differ.
  std::size_t frame_size = 0;
  /// Frames currently allocated and not yet freed.
  std::size_t live = 0;
  /// Bytes (as requested) of the frames currently live.
  std::size_t live_bytes = 0;
  /// Highest number of simultaneously live frames observed. Exact when a site's frames are
  /// allocated and freed by one thread; otherwise approximate, see snapshot().
  std::size_t peak_live = 0;
  /// Frames ever allocated at this site.
  std::uint64_t total = 0;
  /// True when frame_size is above the large-frame threshold in effect at snapshot time
  /// (never when the threshold is 0).
  bool large = false;
};

/// Returns the accounting of every site that ever allocated a frame, sorted by live_bytes
/// descending, then frame_size descending (then function name, for a stable order).
///
/// Thread-safety: callable from any thread at any time; takes the registry mutex (it does not
/// block allocating threads, which keep per-thread counters and never take that mutex on
/// their fast path). Counters are read with relaxed atomics, so frames allocated or freed
/// concurrently with the call may or may not be included; once all threads are quiescent the
/// numbers are exact, except peak_live across threads: each thread batches its per-site
/// live-count changes and publishes them to a shared per-site counter every 16 net
/// allocations/frees (and at thread exit); at every allocation the peak is updated with
/// (published count + this thread's unpublished delta). The result is exact for sites used by
/// a single thread and otherwise within ±15 × (number of other threads touching the site) of
/// the true peak; it is never reported below the live count seen by a snapshot. When sites
/// with equal strings are merged, their peak_live values are added (an upper bound).
/// Allocates the returned vector; may throw std::bad_alloc.
std::vector<SiteStats> snapshot();

/// Sums over all sites.
struct Totals {
  /// Frames currently allocated and not yet freed.
  std::size_t live_frames = 0;
  /// Requested bytes of those frames (excluding the allocator's headers).
  std::size_t live_bytes = 0;
  /// Frames ever allocated.
  std::uint64_t total_allocations = 0;
};

/// Returns the sums over all sites; same consistency guarantees as snapshot(). Thread-safe;
/// takes the registry mutex; allocates a temporary per-site array (may throw std::bad_alloc).
Totals totals();

/// Sets the large-frame threshold in bytes (default 16384, clippy's `large_futures`
/// default); 0 disables large-frame reporting. Thread-safe (relaxed atomic); affects
/// allocations made after the call.
void set_large_frame_threshold(std::size_t bytes) noexcept;

/// Returns the current large-frame threshold in bytes (0 = disabled). Thread-safe.
std::size_t large_frame_threshold() noexcept;

/// Installs `hook` (nullptr removes it), called once per site the first time that site
/// allocates a frame of more than large_frame_threshold() bytes. It runs synchronously on the
/// allocating thread, before the allocation returns, with no allocator lock held; the
/// SiteStats it receives has function/file/line, frame_size = the offending request, large =
/// true and total/live counting that allocation as seen by that thread. It must not throw.
/// A site whose first large allocation happens while no hook is installed is still marked
/// and will not be reported later. Thread-safe (atomic pointer).
void set_large_frame_hook(void (*hook)(const SiteStats&)) noexcept;

}  // namespace rill::frames
