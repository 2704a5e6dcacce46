// Hierarchical timer wheel; see wheel.hpp. Algorithm follows tokio/src/runtime/time/wheel.
#include "time/wheel.hpp"

#include <bit>
#include <cassert>

namespace rill::detail {

namespace {

constexpr unsigned kBitsPerLevel = 6;
constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kBitsPerLevel) - 1;

// Ticks covered by one slot of `level`: 64^level.
constexpr std::uint64_t slot_range(unsigned level) {
  return std::uint64_t{1} << (kBitsPerLevel * level);
}
// Ticks covered by the whole of `level`: 64^(level+1).
constexpr std::uint64_t level_range(unsigned level) {
  return std::uint64_t{1} << (kBitsPerLevel * (level + 1));
}

// The level an entry due at `when` belongs to, seen from `elapsed`: the level of the most
// significant bit in which the two differ (tokio: level_for). Far deadlines clamp to the top.
unsigned level_for(std::uint64_t elapsed, std::uint64_t when) {
  std::uint64_t masked = (elapsed ^ when) | kSlotMask;
  if (masked >= TimerWheel::kMaxDuration) masked = TimerWheel::kMaxDuration - 1;
  const unsigned significant = 63u - static_cast<unsigned>(std::countl_zero(masked));
  return significant / kBitsPerLevel;
}

// The slot after the one holding `elapsed` on `level`: scanning the occupied bitmap from there
// visits slots in deadline order. Only the top level can hold entries in elapsed's own slot
// (clamped far deadlines); they are a full rotation away, hence visited last.
unsigned first_slot_after(std::uint64_t elapsed, unsigned level) {
  return static_cast<unsigned>((elapsed / slot_range(level) + 1) % 64);
}

unsigned slot_for(std::uint64_t when, unsigned level) {
  return static_cast<unsigned>((when >> (kBitsPerLevel * level)) & kSlotMask);
}

}  // namespace

TimerWheel::TimerWheel(std::uint64_t now) noexcept : elapsed_(now) {}

TimerWheel::~TimerWheel() {
  // Leave every still-registered entry in a sane "not linked" state so owners that outlive
  // the wheel do not call remove() on dangling lists.
  auto drain = [](TimerEntry* e) {
    while (e) {
      TimerEntry* next = e->next;
      e->prev = e->next = nullptr;
      e->where = TimerEntry::kNone;
      e = next;
    }
  };
  for (auto& level : slots_)
    for (TimerEntry* head : level)
      drain(head);
  drain(pending_);
  drain(processing_);
}

TimerEntry*& TimerWheel::head_for(std::uint16_t where) noexcept {
  if (where == kPending) return pending_;
  if (where == kProcessing) return processing_;
  return slots_[where / kSlots][where % kSlots];
}

void TimerWheel::push(std::uint16_t where, TimerEntry* e) noexcept {
  e->where = where;
  if (where == kPending) {
    // FIFO so that entries inserted already-expired fire in insertion order.
    e->next = nullptr;
    e->prev = pending_tail_;
    if (pending_tail_)
      pending_tail_->next = e;
    else
      pending_ = e;
    pending_tail_ = e;
    return;
  }
  TimerEntry*& head = head_for(where);
  e->prev = nullptr;
  e->next = head;
  if (head) head->prev = e;
  head = e;
  if (where < kPending) occupied_[where / kSlots] |= std::uint64_t{1} << (where % kSlots);
}

void TimerWheel::unlink(TimerEntry* e) noexcept {
  const std::uint16_t where = e->where;
  if (e->prev) {
    e->prev->next = e->next;
  } else {
    TimerEntry*& head = head_for(where);
    head = e->next;
    if (!head && where < kPending)
      occupied_[where / kSlots] &= ~(std::uint64_t{1} << (where % kSlots));
  }
  if (e->next)
    e->next->prev = e->prev;
  else if (where == kPending)
    pending_tail_ = e->prev;
  e->prev = e->next = nullptr;
  e->where = TimerEntry::kNone;
}

// Links `e` where it belongs relative to elapsed_ (does not touch size_).
void TimerWheel::place(TimerEntry* e) noexcept {
  if (e->deadline <= elapsed_) {
    push(kPending, e);
    return;
  }
  const unsigned level = level_for(elapsed_, e->deadline);
  const unsigned slot = slot_for(e->deadline, level);
  push(static_cast<std::uint16_t>(level * kSlots + slot), e);
}

void TimerWheel::insert(TimerEntry* e) noexcept {
  if (e->linked()) remove(e);
  place(e);
  ++size_;
}

void TimerWheel::remove(TimerEntry* e) noexcept {
  if (!e->linked()) return;
  unlink(e);
  --size_;
}

// Start tick of `slot` on `level`, the first such tick after elapsed_ (tokio:
// Level::next_expiration). Only the top level can wrap (far deadlines are clamped into it).
std::uint64_t TimerWheel::slot_deadline(unsigned level, unsigned slot) const noexcept {
  const std::uint64_t level_start = elapsed_ & ~(level_range(level) - 1);
  std::uint64_t deadline = level_start + slot * slot_range(level);
  if (deadline <= elapsed_) {
    assert(level == kLevels - 1);
    deadline += level_range(level);
  }
  return deadline;
}

std::optional<TimerWheel::Expiration> TimerWheel::next_slot() const noexcept {
  for (unsigned level = 0; level < kLevels; ++level) {
    const std::uint64_t occ = occupied_[level];
    if (occ == 0) continue;
    const unsigned start = first_slot_after(elapsed_, level);
    const unsigned zeros = static_cast<unsigned>(std::countr_zero(std::rotr(occ, start)));
    const unsigned slot = (zeros + start) % kSlots;
    return Expiration{level, slot, slot_deadline(level, slot)};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> TimerWheel::next_wakeup() const noexcept {
  if (pending_ || processing_) return elapsed_;
  if (auto exp = next_slot()) return exp->deadline;
  return std::nullopt;
}

std::optional<std::uint64_t> TimerWheel::next_expiration() const noexcept {
  if (pending_) return elapsed_;
  std::optional<std::uint64_t> best;
  if (processing_) {
    // Only observable from inside an advance() callback.
    for (const TimerEntry* e = processing_; e; e = e->next)
      if (!best || e->deadline < *best) best = e->deadline;
  }
  auto exp = next_slot();
  if (!exp) return best;
  if (exp->level == 0) {
    // A level-0 slot holds exactly one tick.
    return best ? std::min(*best, exp->deadline) : exp->deadline;
  }
  // Entries of levels 1..4 are due inside their slot's range, and every lower level is empty,
  // so the earliest slot holds the minimum. On the top level a slot may also hold clamped far
  // deadlines, so keep scanning slots in rotation order until the next slot starts after the
  // best deadline found.
  const unsigned level = exp->level;
  const unsigned start = first_slot_after(elapsed_, level);
  std::uint64_t occ = std::rotr(occupied_[level], start);
  while (occ != 0) {
    const unsigned zeros = static_cast<unsigned>(std::countr_zero(occ));
    occ &= occ - 1;
    const unsigned slot = (zeros + start) % kSlots;
    if (best && slot_deadline(level, slot) > *best) break;
    for (const TimerEntry* e = slots_[level][slot]; e; e = e->next)
      if (!best || e->deadline < *best) best = e->deadline;
  }
  return best;
}

TimerEntry* TimerWheel::poll(std::uint64_t now) noexcept {
  if (now < elapsed_) now = elapsed_;
  for (;;) {
    if (TimerEntry* e = pending_) {
      unlink(e);
      --size_;
      return e;
    }
    while (TimerEntry* e = processing_) {
      unlink(e);
      if (e->deadline <= elapsed_) {
        --size_;
        return e;
      }
      // Cascade: re-place relative to the slot's start tick, one or more levels lower
      // (or around the top level again for clamped far deadlines).
      place(e);
    }
    auto exp = next_slot();
    if (!exp || exp->deadline > now) {
      elapsed_ = now;
      return nullptr;
    }
    // Take the whole slot before firing anything, as Tokio does, so callbacks that insert
    // into this slot cannot make us loop; remove() still finds entries via kProcessing.
    elapsed_ = exp->deadline;
    TimerEntry*& head = slots_[exp->level][exp->slot];
    for (TimerEntry* e = head; e; e = e->next)
      e->where = kProcessing;
    processing_ = head;
    head = nullptr;
    occupied_[exp->level] &= ~(std::uint64_t{1} << exp->slot);
  }
}

}  // namespace rill::detail
