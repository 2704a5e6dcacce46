#include <rill/rill.hpp>

#include <unistd.h>

rill::Task<int> stalls() {
  sleep(1);  // blocks the worker thread: rill-blocking-call
  co_return 1;
}
