// Fixture for rill-blocking-call: a TU with many helper functions. The search keeps a summary per
// function; a search started from one helper's call scans more functions while that helper's
// summary is in use, so the summaries must stay where they are when their table grows (the test
// runs with MALLOC_PERTURB_ set, which makes a read of a moved summary fail loudly).
#include <coroutine>

#include <unistd.h>

#include "include/task_stub.hpp"

// A chain of 200 helpers that never block: searching it scans every one of them.
#define CHAIN1(N, NEXT) \
  int c##N(int v) { return v > 0 ? c##NEXT(v - 1) : 0; }
int c200(int v) { return v; }
#define CHAIN10(A, B)                                                                           \
  CHAIN1(A##9, B##0) CHAIN1(A##8, A##9) CHAIN1(A##7, A##8) CHAIN1(A##6, A##7) CHAIN1(A##5, A##6) \
  CHAIN1(A##4, A##5) CHAIN1(A##3, A##4) CHAIN1(A##2, A##3) CHAIN1(A##1, A##2) CHAIN1(A##0, A##1)
CHAIN10(19, 20) CHAIN10(18, 19) CHAIN10(17, 18) CHAIN10(16, 17) CHAIN10(15, 16) CHAIN10(14, 15)
CHAIN10(13, 14) CHAIN10(12, 13) CHAIN10(11, 12) CHAIN10(10, 11) CHAIN10(9, 10) CHAIN10(8, 9)
CHAIN10(7, 8) CHAIN10(6, 7) CHAIN10(5, 6) CHAIN10(4, 5) CHAIN10(3, 4) CHAIN10(2, 3) CHAIN10(1, 2)
CHAIN1(9, 10) CHAIN1(8, 9) CHAIN1(7, 8) CHAIN1(6, 7) CHAIN1(5, 6) CHAIN1(4, 5) CHAIN1(3, 4)
CHAIN1(2, 3) CHAIN1(1, 2) CHAIN1(0, 1)

void nap() { usleep(100); }
void quiet() { c0(3); }

// The chain is searched first (edge 0), the blocking leaf afterwards (edge 1).
void helper(int n) {
  c0(n);
  nap();
}
// Its first edge leads into the chain only through another function's summary.
void outer(int n) {
  quiet();
  helper(n);
}

// ============================== must flag ===================================================

rill::Task run(int n) {
  outer(n);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' reached through call to 'outer' in coroutine 'run'
  co_return;
}

// ============================== must not flag ===============================================

rill::Task count(int n) {
  c0(n);
  quiet();
  co_return;
}
