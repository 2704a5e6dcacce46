// Compile-fail cases for [[nodiscard]]: each CASE_* discards an awaitable or a Result, which
// check_nodiscard.sh compiles with -Werror=unused-result and expects to be refused. Without a
// CASE_* macro, the same code used correctly must compile cleanly (the control).
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

rill::Task<void> body(rill::net::TcpStream& s, rill::sync::mpsc::Sender<int>& tx,
                      rill::sync::mpsc::Receiver<int>& rx, rill::fs::File& f) {
  char buf[8];
#if defined(CASE_SLEEP)
  rill::sleep(5ms);  // a forgotten co_await: the sleep never happens
#elif defined(CASE_SEND)
  tx.send(1);  // a forgotten co_await: nothing is sent
#elif defined(CASE_RECV)
  rx.recv();
#elif defined(CASE_READ)
  s.read(std::span<char>(buf));
#elif defined(CASE_WRITE)
  s.write_all("x");
#elif defined(CASE_FILE_WRITE)
  f.write_all("x");
#elif defined(CASE_IO_RESULT)
  co_await s.write_all("x");  // the io::Result (an error) is dropped
#elif defined(CASE_RESULT)
  parse();
#elif defined(CASE_IO_RESULT_SYNC)
  configure();
#elif defined(CASE_TIMEOUT)
  rill::timeout(1s, rill::sleep(5ms));
#elif defined(CASE_YIELD)
  rill::yield_now();
#else
  co_await rill::sleep(5ms);
  (void)co_await tx.send(1);
  (void)co_await rx.recv();
  (void)co_await s.read(std::span<char>(buf));
  if (auto r = co_await s.write_all("x"); !r) co_return;
  (void)co_await f.write_all("x");
  (void)parse();
  (void)configure();
  (void)co_await rill::timeout(1s, rill::sleep(5ms));
  co_await rill::yield_now();
#endif
  co_return;
}
