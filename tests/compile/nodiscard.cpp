// [[nodiscard]] contract: every line marked `// must warn` discards an awaitable or a Result (a
// forgotten co_await, a dropped error) and must draw -Wunused-result; every other line uses the
// same API correctly and must not. check_nodiscard.sh compiles this file once and compares.
#include <rill/fs.hpp>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>
#include <rill/sync/mpsc.hpp>
#include <rill/sync/oneshot.hpp>

#include <chrono>
#include <span>

using namespace std::chrono_literals;

rill::Result<int, int> parse();
rill::io::Result<void> configure();

rill::Task<void> forgotten(rill::net::TcpStream& s, rill::sync::mpsc::Sender<int>& tx,
                           rill::sync::mpsc::Receiver<int>& rx, rill::fs::File& f) {
  char buf[8];
  rill::sleep(5ms);                      // must warn: the sleep never happens
  tx.send(1);                            // must warn: nothing is sent
  rx.recv();                             // must warn
  s.read(std::span<char>(buf));          // must warn
  s.write_all("x");                      // must warn
  f.write_all("x");                      // must warn
  co_await s.write_all("x");             // must warn: the io::Result (an error) is dropped
  parse();                               // must warn
  configure();                           // must warn
  rill::timeout(1s, rill::sleep(5ms));   // must warn
  rill::select(rx.recv(), rill::sleep(1ms));  // must warn
  rill::yield_now();                     // must warn
  co_return;
}

rill::Task<void> correct(rill::net::TcpStream& s, rill::sync::mpsc::Sender<int>& tx,
                         rill::sync::mpsc::Receiver<int>& rx, rill::fs::File& f) {
  char buf[8];
  co_await rill::sleep(5ms);
  (void)co_await tx.send(1);
  (void)co_await rx.recv();
  (void)co_await s.read(std::span<char>(buf));
  if (auto r = co_await s.write_all("x"); !r) co_return;
  (void)co_await f.write_all("x");
  (void)parse();
  (void)configure();
  (void)co_await rill::timeout(1s, rill::sleep(5ms));
  (void)co_await rill::select(rx.recv(), rill::sleep(1ms));
  co_await rill::yield_now();
}
