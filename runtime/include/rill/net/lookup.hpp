// rill/net/lookup.hpp: host name resolution on the blocking pool. Mirrors tokio::net::lookup_host.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rill/io.hpp"
#include "rill/net/addr.hpp"
#include "rill/task.hpp"

namespace rill::net {

/// Resolves "host:port" ("localhost:80", "[::1]:80", "example.org:443") to socket addresses with
/// getaddrinfo(3) on the runtime's blocking pool (it may block on DNS). Numeric addresses skip
/// the pool. Errors: io::Errc::invalid_address for a malformed string (no port); a name that
/// does not resolve yields std::errc::host_unreachable; EAI_SYSTEM yields its errno. Mirrors
/// tokio::net::lookup_host.
Task<io::Result<std::vector<SocketAddr>>> lookup_host(std::string host_port);

namespace detail {
/// Internal (synchronous binds): resolves "host:port" like lookup_host, but on the calling
/// thread; on a multi_thread worker it first hands the worker's tasks to another thread
/// (block_in_place), on a current_thread runtime or outside a runtime getaddrinfo runs inline.
io::Result<std::vector<SocketAddr>> resolve_in_place(std::string_view host_port);
}  // namespace detail

}  // namespace rill::net
