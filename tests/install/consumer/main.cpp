#include <rill/rill.hpp>
rill::Task<int> f() { co_await rill::sleep(std::chrono::milliseconds(1)); co_return 42; }
int main() { auto rt = rill::Builder::new_current_thread().build(); return rt.block_on(f()) == 42 ? 0 : 1; }
