// rill/result.hpp: a small value-or-error type for operations whose failure is an expected outcome
// (a timeout that elapsed, a channel that closed). Mirrors the shape of C++23 std::expected, which
// C++20 lacks; the names follow it so code migrates by renaming.
#pragma once

#include "rill/detail/compiler.hpp"

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace rill {

/// Thrown by Result::value() when the Result holds an error. what() describes the error held:
/// its message() (std::error_code), its what() (rill::Elapsed, exceptions), or its numeric value
/// (enums, integers); other error types are not described. Mirrors std::bad_expected_access
/// (which carries the error itself; read Result::error() before calling value() for that).
class BadResultAccess : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
/// The text BadResultAccess carries for an error `e`.
template <class E>
std::string describe_error(const E& e) {
  std::string s = "rill::Result holds an error";
  if constexpr (requires { e.message(); }) {
    s += ": ";
    s += e.message();
  } else if constexpr (requires { e.what(); }) {
    s += ": ";
    s += e.what();
  } else if constexpr (std::is_enum_v<E>) {
    s += ": " + std::to_string(static_cast<long long>(e));
  } else if constexpr (std::is_integral_v<E>) {
    s += ": " + std::to_string(e);
  }
  return s;
}
}  // namespace detail

/// Tag wrapper that constructs a Result in the error state: `return rill::Unexpected{Elapsed{}};`.
/// Mirrors std::unexpected.
template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected(E) -> Unexpected<E>;

/// Either a value of type T or an error of type E. Value semantics; not thread-safe to mutate
/// concurrently (like any value type). Mirrors std::expected<T, E> (C++23) and Rust's Result.
template <class T, class E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  /// Holds a value.
  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  Result(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
  /// Holds an error.
  template <class G>
  Result(Unexpected<G> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

  /// True when a value is held.
  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; throws BadResultAccess when an error is held.
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & noexcept { return *std::get_if<0>(&v_); }
  T&& operator*() && noexcept { return std::move(*std::get_if<0>(&v_)); }
  T* operator->() noexcept { return std::get_if<0>(&v_); }

  /// The error; undefined when a value is held (check has_value() first).
  E& error() & noexcept { return *std::get_if<1>(&v_); }
  const E& error() const& noexcept { return *std::get_if<1>(&v_); }

  /// The value, or `fallback` when an error is held.
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) throw BadResultAccess(detail::describe_error(*std::get_if<1>(&v_)));
  }
  std::variant<T, E> v_;
};

/// Result<void, E>: success carries no value.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;
  Result() = default;
  template <class G>
  Result(Unexpected<G> e) : err_(std::in_place, std::move(e.error)) {}
  bool has_value() const noexcept { return !err_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// Throws BadResultAccess when an error is held.
  void value() const {
    if (err_) throw BadResultAccess(detail::describe_error(*err_));
  }
  /// The error; undefined when a value is held.
  E& error() & noexcept { return *err_; }
  const E& error() const& noexcept { return *err_; }

 private:
  std::optional<E> err_;
};

}  // namespace rill
