// Hierarchical timer wheel for the rill time driver.
//
// Mirrors tokio/src/runtime/time/wheel/{mod.rs,level.rs}: 6 levels of 64 slots, a slot of
// level L spans 64^L ticks (1 tick = 1 ms, the driver's choice), a 64-bit occupied bitmap per
// level gives the next non-empty slot in O(1), and entries are cascaded to lower levels as the
// wheel advances over the slot they sit in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace rill::detail {

/// An intrusive timer registration owned by the caller (typically embedded in a sleep future).
///
/// The wheel never allocates or frees entries; it only links them into its slot lists through
/// `prev`/`next`. An entry must outlive its registration: remove() it (or let it fire) before
/// destroying it. Not thread-safe; guarded by whatever guards the owning TimerWheel.
/// Mirrors tokio::runtime::time::TimerShared's wheel-facing part.
struct TimerEntry {
  /// `where` value of an entry that is not linked into any wheel.
  static constexpr std::uint16_t kNone = 0xFFFF;

  /// Absolute deadline in ticks (milliseconds on the driver's clock). Set before insert();
  /// do not change it while linked (remove, change, insert instead).
  std::uint64_t deadline = 0;
  /// Internal: previous entry in the list the entry is linked into.
  TimerEntry* prev = nullptr;
  /// Internal: next entry in the list the entry is linked into.
  TimerEntry* next = nullptr;
  /// Internal: level*64+slot while in a slot, a pending/processing marker, or kNone.
  std::uint16_t where = kNone;

  /// True while the entry is registered with a wheel (not yet fired nor removed).
  bool linked() const { return where != kNone; }
};

/// A hashed hierarchical timing wheel with O(1) insert, O(1) cancel and O(1) amortised
/// advance per tick, as in Tokio (tokio/src/runtime/time/wheel/mod.rs).
///
/// Time is measured in abstract ticks (the runtime uses 1 tick = 1 ms). The wheel covers
/// 64^6 ticks (~2.2 years of milliseconds) ahead of elapsed(); later deadlines are placed on
/// the top level like Tokio and cycle around it until they are in range, so they still fire
/// exactly at their deadline, never early.
///
/// Not thread-safe: the owner (the time driver) serialises all calls. No member allocates,
/// and none throws.
class TimerWheel {
 public:
  /// Number of levels (tokio: NUM_LEVELS).
  static constexpr unsigned kLevels = 6;
  /// Slots per level (tokio: LEVEL_MULT).
  static constexpr unsigned kSlots = 64;
  /// Ticks covered by the whole wheel: 64^6 (tokio: MAX_DURATION).
  static constexpr std::uint64_t kMaxDuration = std::uint64_t{1} << (6 * kLevels);

  /// Creates an empty wheel whose clock starts at `now` ticks (elapsed() == now).
  explicit TimerWheel(std::uint64_t now = 0) noexcept;
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  /// Unlinks all still-registered entries (they are left with linked() == false, so a later
  /// remove() on them is a harmless no-op); O(n). Precondition: every entry still linked is
  /// alive (remove() or fire entries before freeing them, or destroy the wheel first).
  ~TimerWheel();

  /// Registers `e` to fire at `e->deadline`. O(1). If `e` is already linked into this wheel
  /// it is first removed (so re-inserting with a new deadline moves it). An entry whose
  /// deadline is <= elapsed() goes to a pending list that the next advance() fires first.
  /// Precondition: `e` is not linked into a *different* wheel.
  void insert(TimerEntry* e) noexcept;

  /// Unregisters `e` in O(1); a no-op when `e` is not linked. Safe to call from inside an
  /// advance() callback, for any entry (including ones due in the same advance()).
  void remove(TimerEntry* e) noexcept;

  /// Exact earliest deadline among registered entries, i.e. the smallest `now` for which
  /// advance(now) fires something; elapsed() when the pending list is non-empty; nullopt when
  /// empty. Cost: O(1) bitmap work plus a scan of one slot's list when the earliest entry
  /// sits above level 0 (entries more than 64 ticks away); use next_wakeup() on hot paths
  /// that can tolerate an early wake-up.
  std::optional<std::uint64_t> next_expiration() const noexcept;

  /// O(1) conservative variant of next_expiration() (Tokio's Wheel::next_expiration): the tick
  /// at which the next slot must be processed. Always <= next_expiration(); equal when the
  /// earliest entry is within 64 ticks. advance(next_wakeup()) may only cascade, firing
  /// nothing. nullopt when empty.
  std::optional<std::uint64_t> next_wakeup() const noexcept;

  /// Moves elapsed() to `now` (a `now` below elapsed() is treated as elapsed(); time never
  /// goes backwards) and fires, in deadline order per slot, every entry with deadline <= now:
  /// each one is unlinked (linked() == false) before `fire(TimerEntry*)` is called. `fire`
  /// may insert or remove any entry, including re-inserting the fired one; entries it inserts
  /// with a deadline <= now fire within this same call. Returns the number of calls to fire.
  /// Exceptions thrown by `fire` propagate; the wheel stays consistent (the throwing entry
  /// already counts as fired).
  template <class F>
  std::size_t advance(std::uint64_t now, F&& fire) {
    std::size_t fired = 0;
    while (TimerEntry* e = poll(now)) {
      ++fired;
      fire(e);
    }
    return fired;
  }

  /// Unlinks and returns the next entry due at or before `now`, cascading as needed; when
  /// none is left, sets elapsed() to max(elapsed(), now) and returns nullptr. The building
  /// block of advance() (tokio: Wheel::poll).
  TimerEntry* poll(std::uint64_t now) noexcept;

  /// The wheel's current tick: the last `now` passed to advance() (or the constructor).
  std::uint64_t elapsed() const noexcept { return elapsed_; }
  /// True when no entry is registered.
  bool empty() const noexcept { return size_ == 0; }
  /// Number of registered entries.
  std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::uint16_t kPending = kLevels * kSlots;         // deadline <= elapsed
  static constexpr std::uint16_t kProcessing = kLevels * kSlots + 1;  // slot being expired

  struct Expiration {
    unsigned level;
    unsigned slot;
    std::uint64_t deadline;
  };

  TimerEntry*& head_for(std::uint16_t where) noexcept;
  void push(std::uint16_t where, TimerEntry* e) noexcept;
  void unlink(TimerEntry* e) noexcept;
  void place(TimerEntry* e) noexcept;
  std::optional<Expiration> next_slot() const noexcept;
  std::uint64_t slot_deadline(unsigned level, unsigned slot) const noexcept;

  std::uint64_t elapsed_;
  std::size_t size_ = 0;
  std::array<std::uint64_t, kLevels> occupied_{};
  std::array<std::array<TimerEntry*, kSlots>, kLevels> slots_{};
  TimerEntry* pending_ = nullptr;
  TimerEntry* pending_tail_ = nullptr;
  TimerEntry* processing_ = nullptr;
};

}  // namespace rill::detail
