// rill/net/lookup.hpp: host name resolution on the blocking pool. Mirrors tokio::net::lookup_host.
#pragma once

#include <string>
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

}  // namespace rill::net
