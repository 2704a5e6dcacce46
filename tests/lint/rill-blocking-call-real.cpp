// Fixture for rill-blocking-call on code written for another coroutine runtime (no rill in the
// translation unit): argument-aware rules, paths that never return, constant arguments, console
// logging policy, std::future through its base class, console input, other runtimes' blocking
// bridges, and fix texts that do not name rill. Must-flag and must-not-flag cases side by side.
#include <coroutine>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <exception>
#include <future>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// ---- A minimal libcoro-like runtime (namespace coro) ------------------------------------------
namespace coro {
struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
void sync_wait(task t);
struct poll_awaitable {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() { return 1; }
};
poll_awaitable poll(int fd);
}  // namespace coro

extern "C" {
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
int PQisBusy(PGconn* conn);
int PQconsumeInput(PGconn* conn);
PGresult* PQgetResult(PGconn* conn);
}

using coro::task;

// ============================== argument-aware rules =========================================

task file_locks(int fd) {
  flock(fd, LOCK_EX | LOCK_NB);  // ok: non-blocking attempt
  int op = LOCK_SH;
  op |= LOCK_NB;
  flock(fd, op);  // ok: the flag comes through a local variable
  flock(fd, LOCK_EX);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file lock 'flock' in coroutine 'file_locks'; use flock(fd, op | LOCK_NB) and retry, or move it to a blocking thread pool [rill-blocking-call]
  co_return;
}

task sockets(int fd, char* buf, unsigned long n) {
  recv(fd, buf, n, MSG_DONTWAIT);  // ok
  send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);  // ok
  recv(fd, buf, n, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking socket/fd I/O 'recv' in coroutine 'sockets'; use the runtime's async I/O or await readiness on a non-blocking fd [rill-blocking-call]
  co_return;
}

task nonblocking_fds(const char* path, char* buf) {
  int pipe_fd = open(path, O_RDONLY | O_NONBLOCK);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: blocking file I/O 'open' in coroutine 'nonblocking_fds'
  read(pipe_fd, buf, 16);  // ok: opened with O_NONBLOCK
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  recv(s, buf, 16, 0);  // ok: created with SOCK_NONBLOCK
  int fds[2];
  pipe2(fds, O_NONBLOCK);
  write(fds[1], buf, 1);  // ok
  int other = dup(0);
  read(other, buf, 16);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking socket/fd I/O 'read' in coroutine 'nonblocking_fds'
  co_return;
}

// A connection class whose fd is made non-blocking in view (fcntl F_SETFL with O_NONBLOCK): its
// recv helper handles EAGAIN like every readiness-based network layer.
struct Connection {
  int fd_ = -1;
  void make_nonblocking() {
    int flags = fcntl(fd_, F_GETFL, 0);
    fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }
  int native_handle() const { return fd_; }
  long read_some(char* b, unsigned long n) { return ::recv(native_handle(), b, n, 0); }
  long read_or_eagain(int fd, char* b, unsigned long n) {
    long r = ::read(fd, b, n);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return r;
  }
};

task connection_loop(Connection& c, int raw_fd, char* buf) {
  co_await coro::poll(c.native_handle());
  c.read_some(buf, 16);                // ok: fd_ is set O_NONBLOCK in view
  c.read_or_eagain(raw_fd, buf, 16);   // ok: the helper handles EAGAIN
  co_return;
}

// A libcoro-like client: the fd is made non-blocking in another translation unit; the helpers
// call recv/send and return a status, and the coroutine handles the would-block status
// (`status.try_again()`) by awaiting readiness and retrying: the recv -> EAGAIN -> poll pattern
// split over two functions, so the socket calls in the helpers are non-blocking.
namespace net {
struct io_status {
  enum class kind { ok, closed, would_block_or_try_again, error } type;
  bool try_again() const { return type == kind::would_block_or_try_again; }
};
io_status make_io_status_from_native(int err);  // maps EAGAIN; defined in another TU
class client {
 public:
  task read_some(char* b, unsigned long n) {
    io_status st = recv(b, n);  // ok: the caller handles the would-block status
    if (st.try_again()) {
      co_await coro::poll(fd_);
      recv(b, n);  // ok
    }
    co_return;
  }
  task write_some(const char* b, unsigned long n) {
    if (send(b, n).try_again()) co_await coro::poll(fd_);  // ok
    co_return;
  }
  task write_unchecked(const char* b, unsigned long n) {
    send(b, n);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking socket/fd I/O 'send' reached through call to 'net::client::send' in coroutine 'net::client::write_unchecked'
    co_return;
  }

 private:
  io_status recv(char* b, unsigned long n) {
    long r = ::recv(fd_, b, n, 0);
    if (r > 0) return {io_status::kind::ok};
    return make_io_status_from_native(errno);
  }
  io_status send(const char* b, unsigned long n) {
    long r = ::send(fd_, b, n, 0);
    if (r >= 0) return {io_status::kind::ok};
    return make_io_status_from_native(errno);
  }
  int fd_ = -1;
};
}  // namespace net

// std::errc's would-block value in the coroutine; a read three calls away is not covered.
long read_raw(int fd, char* b) { return ::read(fd, b, 1); }
long read_level2(int fd, char* b) { return read_raw(fd, b); }
long read_level3(int fd, char* b) { return read_level2(fd, b); }
task errc_loop(int fd, char* b) {
  std::error_code ec(static_cast<int>(read_raw(fd, b)), std::generic_category());
  if (ec == std::errc::resource_unavailable_try_again) co_await coro::poll(fd);  // ok: guarded
  read_level2(fd, b);  // ok: two levels below the function that handles it
  read_level3(fd, b);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking socket/fd I/O 'read' reached through call to 'read_level3' in coroutine 'errc_loop'
  co_return;
}

// sendfile on a non-blocking socket still reads its input file synchronously.
task send_file(int sock, int file_fd, off_t* off, char* buf) {
  long n = ::sendfile(sock, file_fd, off, 65536);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: blocking file I/O 'sendfile' in coroutine 'send_file'; move it to a blocking thread pool (the file read blocks even on a non-blocking socket) [rill-blocking-call]
  if (n < 0 && errno == EAGAIN) co_await coro::poll(sock);
  send(sock, buf, 1, 0);  // ok: the same function handles EAGAIN
  co_return;
}

task polls(pollfd* fds) {
  poll(fds, 1, 0);  // ok: zero timeout
  poll(fds, 1, -1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking readiness wait 'poll' in coroutine 'polls'; await readiness through the runtime's reactor instead of polling [rill-blocking-call]
  co_return;
}

task reaps(pid_t pid) {
  int st = 0;
  waitpid(pid, &st, WNOHANG);  // ok
  waitpid(pid, &st, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking process control 'waitpid' in coroutine 'reaps'; poll with WNOHANG or move it to a blocking thread pool [rill-blocking-call]
  co_return;
}

task libpq_async(PGconn* conn, PGconn* other) {
  PQconsumeInput(conn);
  if (PQisBusy(conn) == 0) PQgetResult(conn);  // ok: libpq's async protocol
  PQgetResult(other);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous database call 'PQgetResult' in coroutine 'libpq_async'
  co_return;
}

task futures(std::future<int>& f, std::future<int>& g, std::shared_future<int>& sf) {
  using namespace std::chrono_literals;
  if (f.wait_for(0s) == std::future_status::ready) f.get();  // ok: polled, ready
  g.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking wait on std::future 'std::future::wait' in coroutine 'futures'
  g.wait_for(std::chrono::seconds(5));
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking wait on std::future 'std::future::wait_for' in coroutine 'futures'
  sf.wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking wait on std::future 'std::shared_future::wait' in coroutine 'futures'
  g.wait_until(std::chrono::steady_clock::now() + 1s);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking wait on std::future 'std::future::wait_until' in coroutine 'futures'
  sf.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking wait on std::future 'std::shared_future::get' in coroutine 'futures'
  sf.wait_for(0s);  // ok: a zero timeout only polls
  if (sf.wait_for(0ms) == std::future_status::ready) sf.get();  // ok: polled, ready
  co_return;
}

// ============================== console: logging policy, input ===============================

task console(std::string& line, FILE* file) {
  printf("request %d\n", 1);                  // ok: console logging (Logging is off)
  fprintf(stderr, "warning: %s\n", "x");      // ok: the same policy for stderr
  std::cerr << "request " << 1 << '\n';       // ok
  fputs("x", stdout);                          // ok
  fprintf(file, "data\n");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fprintf' in coroutine 'console'
  std::cin >> line;
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: blocking console input 'std::cin >>' in coroutine 'console'; read stdin on a blocking thread pool [rill-blocking-call]
  std::getline(std::cin, line);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking console input 'std::getline(std::cin)' in coroutine 'console'
  std::istringstream in("a b");
  in >> line;                  // ok: a string stream does no I/O
  std::getline(in, line);      // ok
  co_return;
}

// ============================== paths that never return ======================================

// A logging helper that runs a blocking command only on its fatal path, right before exit: the
// summary ignores blocks that end in a [[noreturn]] call, so log() does not "block".
void log_line(int level, const char* msg) {
  if (level >= 3) {
    FILE* p = popen("logger -t app fatal", "w");
    pclose(p);
    std::exit(1);
  }
  (void)msg;
}
[[noreturn]] void die(const char* msg) {
  system(msg);
  std::abort();
}
void check_or_throw(bool ok) {
  if (!ok) {
    sleep(1);
    throw std::runtime_error("bad");
  }
}
void check_or_die(bool ok) {
  if (!ok) die("dump-core");
}
void check_or_terminate(bool ok) {
  if (!ok) {
    usleep(100);
    std::terminate();
  }
}
// A helper that blocks on its normal path is still blocking, even next to a fatal path.
void flush_or_abort(bool ok) {
  if (!ok) std::abort();
  sync();
}

// Constant and default arguments fold into the callee's branches.
void save(bool sync_to_disk = false) {
  if (sync_to_disk) sync();
}
enum class Mode { Fast, Durable };
void store(Mode m) {
  if (m == Mode::Durable) sync();
}

task uses_helpers(int level, bool flag) {
  log_line(1, "ok");       // ok: the popen is on a path ending in exit
  log_line(level, "any");  // ok: the same for any level
  check_or_throw(flag);    // ok: the sleep is on a throw-only path
  check_or_die(flag);      // ok: die() is [[noreturn]]
  check_or_terminate(flag);  // ok: the usleep is on a path ending in std::terminate
  flush_or_abort(flag);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'sync' reached through call to 'flush_or_abort' in coroutine 'uses_helpers'
  save();                  // ok: default argument false
  store(Mode::Fast);       // ok: constant argument
  save(true);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'sync' reached through call to 'save' in coroutine 'uses_helpers'; move it to a blocking thread pool (off the coroutine's executor) [rill-blocking-call]
  store(Mode::Durable);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'sync' reached through call to 'store' in coroutine 'uses_helpers'
  save(flag);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'sync' reached through call to 'save' in coroutine 'uses_helpers'
  co_return;
}

// ============================== other runtimes' blocking bridges ==============================

// async_simple, folly and asio, declared with their real shapes.
namespace async_simple::coro {
template <typename T = void>
struct Lazy {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
template <typename T>
void syncAwait(Lazy<T>&& lazy);
}  // namespace async_simple::coro
namespace folly::coro {
template <typename T = void>
struct Task {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
template <typename T>
void blockingWait(Task<T>&& t);
}  // namespace folly::coro
namespace asio {
class io_context {
 public:
  std::size_t run();
  std::size_t run_one();
  std::size_t poll();
};
}  // namespace asio

async_simple::coro::Lazy<> lazy_work();
folly::coro::Task<> folly_work();
task bridges(asio::io_context& io) {
  async_simple::coro::syncAwait(lazy_work());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking runtime re-entry (deadlock) 'async_simple::coro::syncAwait' in coroutine 'bridges'; co_await the awaitable instead; a synchronous wait inside a coroutine blocks the thread that must run it [rill-blocking-call]
  folly::coro::blockingWait(folly_work());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking runtime re-entry (deadlock) 'folly::coro::blockingWait' in coroutine 'bridges'
  io.run();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking event loop run (deadlock) 'asio::io_context::run' in coroutine 'bridges'
  io.run_one();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking event loop run (deadlock) 'asio::io_context::run_one' in coroutine 'bridges'
  io.poll();  // ok: runs only the handlers that are ready
  co_await lazy_work();  // ok
  co_await folly_work();  // ok
}
void run_io(asio::io_context& io) {
  io.run();  // ok: not in a coroutine
  async_simple::coro::syncAwait(lazy_work());  // ok
  folly::coro::blockingWait(folly_work());     // ok
}

task inner() { co_return; }
task outer() {
  coro::sync_wait(inner());
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking runtime re-entry (deadlock) 'coro::sync_wait' in coroutine 'outer'
  co_await inner();  // ok
}

int main() {
  coro::sync_wait(outer());  // ok: not in a coroutine
  return 0;
}
