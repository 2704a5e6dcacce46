// examples/demo_server/handlers.hpp: the endpoints of demo_server. Each pitfall from the field
// sits next to its fix in handlers.cpp; rill-lint flags every pitfall and none of the fixes.
#pragma once

#include <rill/rill.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "http.hpp"

namespace demo {

/// Shared state of the service. Created once in main() before the accept loop, destroyed after
/// the runtime has shut down; every handler borrows it. Thread-safe as documented per member.
struct App {
  /// File served by /config and /config_async.
  std::string config_path;
  /// bcrypt work factor of /hash and /hash_offloaded (10 in the demo: `$2b$10$`).
  int bcrypt_cost = 10;
  /// Bounds concurrent /hash_offloaded jobs on the blocking pool (see docs/demo.md: on a 2-core
  /// machine one permit leaves a core to the workers). Thread-safe (rill::sync::Semaphore).
  std::unique_ptr<rill::sync::Semaphore> hash_permits;
  /// Bound of /fanout_bounded's for_each_concurrent.
  std::size_t fanout_limit = 16;
  /// Largest n accepted by /fanout and /fanout_bounded.
  int fanout_max_items = 100000;
  /// The /counter state, guarded by counter_mu.
  std::mutex counter_mu;
  std::uint64_t counter = 0;
  /// Requests answered so far (all endpoints).
  std::atomic<std::uint64_t> requests{0};
};

/// Routes one request to its handler and returns the reply. Never throws: a handler's exception
/// becomes a 500 reply with the exception's message. Unknown paths: 404; a known path with the
/// wrong method: 405 with an Allow header. HEAD is routed as GET (the caller sends no body).
rill::Task<http::Response> route(App& app, http::Request req);

}  // namespace demo
