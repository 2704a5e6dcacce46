#include <rill/rill.hpp>

#include <chrono>

rill::Task<int> answer() {
  co_await rill::sleep(std::chrono::milliseconds(1));
  co_return 42;
}
