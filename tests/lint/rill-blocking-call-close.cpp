// Fixture for rill-blocking-call's close(2) policy: close returns at once for sockets without
// SO_LINGER, pipes and local files, so it is reported only with the Strict option (see
// rill-blocking-call-close-strict.cpp); the rest of file I/O stays reported.
#include <coroutine>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace app {
struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
struct tick {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};

// A socket wrapper like asio's basic_socket::close / cinatra's close_socket.
struct socket {
  int fd = -1;
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

task close_socket_after_use(socket& s) {
  co_await tick{};
  s.close();  // ok: close of a socket without SO_LINGER does not wait
}

task close_raw_fd(int fd) {
  co_await tick{};
  ::close(fd);  // ok: not reported by default (Strict-only)
}

task open_is_still_blocking(const char* path) {
  int fd = ::open(path, O_RDONLY);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: blocking file I/O 'open'
  co_await tick{};
  ::close(fd);  // ok: Strict-only
}
}  // namespace app
