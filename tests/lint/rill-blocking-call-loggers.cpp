// Fixture for rill-blocking-call and logging libraries. A blocking call reached only through a
// logging library's entry point (rules: logging_functions; here easylog's file appender that rolls
// its file, and a spdlog-like logger that writes synchronously in one mode) is the logging
// category: with the option Logging off (the default) it is not reported, and blocking next to a
// log statement still is; with Logging on (run ON) it is reported at each log statement, naming
// the logging call, with the logging fix, console logging is reported too, and a path outside
// the logging library is still preferred when a call reaches both.
// FIXTURE-RUN-ON: '--config={CheckOptions: {rill-blocking-call.Logging: true}}'
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "include/task_stub.hpp"

// ---- An easylog-like logger (yalantinglibs): asynchronous by default; in synchronous mode the
// appender writes the file itself and rolls it when it is full.
namespace easylog {
struct record_t {
  std::string msg;
  record_t& ref() { return *this; }
};
class appender {
 public:
  void write_record(record_t& r) {
    if (size_ > max_size_) roll_log_files();
    size_ += r.msg.size();
    file_.write(r.msg.data(), static_cast<std::streamsize>(r.msg.size()));
  }
  void roll_log_files() {
    file_.close();
    file_.open("app.log");
  }

 private:
  std::ofstream file_;
  std::size_t size_ = 0, max_size_ = 1 << 20;
};
template <std::size_t Id = 0>
class logger {
 public:
  static logger& instance() {
    static logger l;
    return l;
  }
  void operator+=(record_t& r) {
    if (async_)
      enqueue(r);
    else
      appender_.write_record(r);
  }

 private:
  void enqueue(record_t&) {}
  bool async_ = true;
  appender appender_;
};
}  // namespace easylog
#define ELOG(text) easylog::logger<>::instance() += easylog::record_t{text}.ref()

// ---- A spdlog-like logger.
namespace spdlog {
class logger {
 public:
  void info(const std::string& msg) {
    if (sync_) file_ << msg << '\n';
  }

 private:
  bool sync_ = false;
  std::ofstream file_;
};
inline logger& default_logger() {
  static logger l;
  return l;
}
inline void info(const std::string& msg) { default_logger().info(msg); }
}  // namespace spdlog

// ---- fmt's print (declarations are enough: the rules name fmt::print).
namespace fmt {
template <typename... T>
void print(const char* format, T&&... args);
template <typename... T>
void print(FILE* f, const char* format, T&&... args);
}  // namespace fmt

rill::Task next_request();

void on_error(const std::string& what) { spdlog::info("error: " + what); }

void persist(const std::string& state) {
  ELOG("saving state");
  std::ofstream out("state.txt");
  out << state;
}

class Server {
 public:
  Server() : worker_([] {}) {}
  ~Server() {
    ELOG("server will quit");
    stop();
  }
  void stop() {
    if (worker_.joinable()) worker_.join();
  }

 private:
  std::thread worker_;
};

// ============================== logging: reported only with Logging on ======================

rill::Task handle() {
  ELOG("request");  // off: the file appender is the logger's business
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ofstream::write' reached through logging call 'easylog::logger<>::operator+=' in coroutine 'handle'; the logger does this when it writes synchronously; configure it to log asynchronously (or set Logging: false to accept logging) [rill-blocking-call]
  spdlog::info("request done");
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ofstream::operator<<' reached through logging call 'spdlog::info' in coroutine 'handle'
  on_error("timeout");  // off: blocking only inside the logging library
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ofstream::operator<<' reached through call to 'on_error' (logging call 'spdlog::info') in coroutine 'handle'
  printf("request %d\n", 1);  // off: console logging
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking console logging 'printf' in coroutine 'handle'
  co_await next_request();
}

// Console logging: one policy for every form (stdio on stdout/stderr, iostreams, fmt).
rill::Task console_forms() {
  fprintf(stderr, "warning: %s\n", "slow");  // off
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking console logging 'fprintf(stderr)' in coroutine 'console_forms'
  std::cerr << "request " << 1 << '\n';  // off
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:13: warning: blocking console logging 'std::cerr
  fmt::print(stderr, "request {}\n", 1);  // off
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking console logging 'fmt::print(stderr)' in coroutine 'console_forms'
  fmt::print("request {}\n", 1);  // off
  // CHECK-MESSAGES-ON: :[[@LINE-1]]:3: warning: blocking console logging 'fmt::print' in coroutine 'console_forms'
  co_await next_request();
}

// ============================== must flag in both runs: a path outside the logging library ====

rill::Task save(std::string state) {
  persist(state);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ofstream' reached through call to 'persist' in coroutine 'save'; use rill::fs or move it into rill::spawn_blocking [rill-blocking-call]
  co_await next_request();
}

rill::Task serve_once() {
  Server server;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: blocking thread join 'std::thread::join' reached through call to 'Server::~Server' in coroutine 'serve_once'
  co_await next_request();
}

// fmt::print to a real file is file I/O, not console logging: reported in both runs.
rill::Task write_report(FILE* report) {
  fmt::print(report, "total {}\n", 1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fmt::print' in coroutine 'write_report'
  co_await next_request();
}
