// Fixture for rill-blocking-call: calls in unevaluated operands never run. A requires-expression
// that only asks whether a call is well-formed (`if constexpr (requires(P& p) { p.run(); })`, a
// server starting its pool's thread only when the pool has run()), sizeof, noexcept, decltype
// and typeid of a non-polymorphic operand name calls without making them; the same calls
// evaluated are reported.
#include <coroutine>
#include <cstddef>
#include <typeinfo>

#include <unistd.h>

#include "include/task_stub.hpp"

// A pool whose run() blocks the calling thread until the pool stops.
struct Pool {
  void run() { usleep(1000); }
};

template <typename P>
struct Server {
  P pool;
  bool threaded = false;
  // Asks whether the pool can run (a requirement), does not run it.
  void start() {
    if constexpr (requires(P& p) { p.run(); }) threaded = true;
  }
  // Runs the pool on the calling thread when it can.
  void run_inline() {
    if constexpr (requires(P& p) { p.run(); }) pool.run();
  }
};

int blocking_int() {
  usleep(1);
  return 1;
}
struct Base {
  virtual ~Base() = default;
};
struct Derived : Base {};
Base& blocking_base() {
  usleep(1);
  static Derived d;
  return d;
}

// ============================== must flag ===================================================

rill::Task evaluated() {
  Server<Pool> s;
  s.run_inline();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking sleep 'usleep' reached through call to 'Server<Pool>::run_inline' in coroutine 'evaluated'
  int v = blocking_int();
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: blocking sleep 'usleep' reached through call to 'blocking_int' in coroutine 'evaluated'
  // typeid of a polymorphic glvalue evaluates its operand.
  const std::type_info& t = typeid(blocking_base());
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: blocking sleep 'usleep' reached through call to 'blocking_base' in coroutine 'evaluated'
  (void)v;
  (void)t;
  co_return;
}

// ============================== must not flag ===============================================

rill::Task unevaluated() {
  Server<Pool> s;
  s.start();
  std::size_t n = sizeof(blocking_int());
  bool nothrow = noexcept(blocking_int());
  using R = decltype(blocking_int());
  R r = 0;
  decltype(usleep(1)) u = 0;
  const std::type_info& t = typeid(blocking_int());
  (void)n;
  (void)nothrow;
  (void)r;
  (void)u;
  (void)t;
  co_return;
}
