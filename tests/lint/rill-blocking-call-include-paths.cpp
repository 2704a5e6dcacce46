// Fixture for rill-blocking-call: a library's inline helpers are followed the same whether its
// headers come with -I (the default run) or -isystem (run SYS: the same directory given with
// -isystem too, which makes clang treat it as a system directory). Only the standard library and
// compiler internals are not followed (their blocking entry points are in the rules).
// FIXTURE-COMPILE-ARGS: -std=c++20 -Iinclude
// FIXTURE-RUN-SYS: --extra-arg=-isystem --extra-arg=include
#include <coroutine>
#include <string>

#include <vendorlib/storage.h>

#include "include/task_stub.hpp"

rill::Task next_record();

rill::Task persist(vendorlib::Journal& journal, int fd, const std::string& rec) {
  journal.append(rec.data(), rec.size());
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: blocking socket/fd I/O 'write' reached through call to 'vendorlib::Journal::append' in coroutine 'persist'
  vendorlib::flush_to_disk(fd);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fsync' reached through call to 'vendorlib::flush_to_disk' in coroutine 'persist'
  int sum = vendorlib::checksum(rec.data(), rec.size());  // ok: computes only
  unsigned long n = journal.size();                       // ok
  std::string copy = rec;                                 // ok: std is not followed
  (void)sum;
  (void)n;
  co_await next_record();
}
