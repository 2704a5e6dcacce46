// Coroutine frame allocation entry points used by rill's promise types.
//
// A promise routes its frame through here. Recommended form (works for coroutines with any
// parameters, including member coroutines):
//   template <class... Args>
//   static void* operator new(std::size_t n, rill::detail::FrameSite where = {}, Args&&...) {
//     return rill::detail::frame_alloc(n, where);
//   }
//   static void operator delete(void* p, std::size_t n) noexcept { rill::detail::frame_free(p, n);
//   }
// Clang evaluates the source_location default argument inside the coroutine, so `where` names
// the coroutine function. The plain form
//   static void* operator new(std::size_t n, std::source_location w =
//   std::source_location::current())
// only compiles for coroutines *without* parameters: clang 19 first tries
// operator new(n, params...), finds the one-extra-argument candidate, and hard-errors
// ("no viable conversion from 'int' to 'std::source_location'") instead of falling back to
// operator new(n). FrameSite accepts (and ignores) the first coroutine argument and the pack
// swallows the rest. The accounting is exposed by rill/frames.hpp.
#pragma once

#include "rill/detail/compiler.hpp"

#include <cstddef>
#include <cstdint>
#include <source_location>
#include <type_traits>

namespace rill::detail {

/// The allocation site of a coroutine frame, captured as a default argument of the promise's
/// operator new (see the file comment). Converts from anything (the coroutine's first
/// parameter, or `*this` for member coroutines, which it ignores) and records the
/// std::source_location of the point where the conversion happens, i.e. the coroutine.
/// Trivially copyable; no allocation; thread-safe.
struct FrameSite {
  /// The coroutine whose frame is being allocated (function_name(), file_name(), line()).
  std::source_location location;

  /// Captures the location of the caller (the coroutine when used as a default argument).
  FrameSite(std::source_location where = std::source_location::current()) noexcept  // NOLINT
      : location(where) {}

  /// Same, ignoring `first` (the coroutine's first parameter passed by the compiler).
  /// Excludes FrameSite itself so that copies keep the original location.
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, FrameSite>)
  FrameSite(T&& /*first*/,  // NOLINT(google-explicit-constructor)
            std::source_location where = std::source_location::current()) noexcept
      : location(where) {}
};

/// Allocates `n` bytes for a coroutine frame or task cell attributed to the site `where`
/// (function_name() + file_name() + line(); the strings must have static storage duration,
/// as source_location's do).
///
/// The block is aligned to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16). It comes from a per-thread
/// size-class cache (64-byte classes up to 1 KiB, 256-byte classes up to 4 KiB, powers of two
/// up to 64 KiB, each including a 16-byte header), refilled from a process-wide depot of free
/// blocks that other threads returned (up to 4 MiB), then from ::operator new; larger blocks
/// come from ::operator new. Thread-safe and lock-free on the fast path (a per-thread cache hit
/// for the site and the size class); the depot takes a mutex once per batch of blocks. Throws std::bad_alloc when the system allocator fails (nothing is recorded
/// then). May call the large-frame hook (rill/frames.hpp) before returning.
void* frame_alloc(std::size_t n, std::source_location where);

/// Same as frame_alloc(n, site.location).
void* frame_alloc(std::size_t n, FrameSite site);

/// Like frame_alloc(n, where), for compilers whose source_location default argument does not
/// name the coroutine (GCC 12): the site is the caller's return address (pass
/// __builtin_return_address(0)), symbolized lazily with dladdr()/abi::__cxa_demangle when a
/// snapshot is taken. nullptr is accepted and recorded as an "<unknown>" site.
void* frame_alloc(std::size_t n, const void* return_address);

/// Frees a block returned by either frame_alloc overload, on any thread (the block goes to
/// the calling thread's cache; a full batch of the cache moves to the shared depot, or back to
/// the system when the depot is at its budget).
/// `n` must be the size passed to frame_alloc (checked in debug builds); nullptr is a no-op.
/// Never throws.
void frame_free(void* p, std::size_t n) noexcept;

/// Number of blocks frame_alloc has obtained from ::operator new since the process started
/// (every thread; blocks reused from a cache or the depot are not counted). For tests and
/// diagnostics of the cache's hit rate. Thread-safe; relaxed (may lag other threads slightly).
std::uint64_t frame_blocks_from_system() noexcept;

}  // namespace rill::detail
