// AcceptBackoff: how the examples' accept loops ride out descriptor exhaustion. Shared by
// echo_server and demo_server.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <system_error>

namespace examples {

/// Accept failures for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) come in
/// episodes. The loop sleeps after each (10 ms doubling to 500 ms, as hyper's accept loop
/// sleeps: the pending connection stays in the backlog, so retrying at once would spin, and
/// the cap keeps the loop serving within half a second of descriptors coming back). The log
/// says when an episode starts and when it ends (the first accept after a second without
/// failures), nothing in between. One per accept loop; not thread-safe.
class AcceptBackoff {
 public:
  explicit AcceptBackoff(std::string_view who) : who_(who) {}

  /// True for the errors above; other accept errors (e.g. ECONNABORTED) are transient.
  static bool is_exhaustion(const std::error_code& e) {
    const int v = e.value();
    return e.category() == std::system_category() &&
           (v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM);
  }
  /// After a failed accept for lack of resources: logs if an episode starts; returns how long
  /// to sleep before the next accept.
  std::chrono::milliseconds on_exhausted(const std::error_code& e) {
    if (failures_++ == 0) {
      fmt::print(stderr, "{}: accept failed: {}; backing off until it recovers\n", who_,
                 e.message());
      started_ = std::chrono::steady_clock::now();
    }
    last_failure_ = std::chrono::steady_clock::now();
    const auto d = delay_;
    delay_ = std::min<std::chrono::milliseconds>(delay_ * 2, std::chrono::milliseconds(500));
    return d;
  }
  /// After a successful accept: ends the episode once a second passed without failures.
  void on_accepted() {
    delay_ = std::chrono::milliseconds(10);
    if (failures_ == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_failure_ < std::chrono::seconds(1)) return;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(last_failure_ - started_).count();
    fmt::print(stderr, "{}: accepting again ({} failed accepts over {} ms)\n", who_, failures_,
               ms);
    failures_ = 0;
  }

 private:
  std::string_view who_;
  std::uint64_t failures_ = 0;  ///< in the current episode; 0: none
  std::chrono::milliseconds delay_{10};
  std::chrono::steady_clock::time_point started_, last_failure_;
};

}  // namespace examples
