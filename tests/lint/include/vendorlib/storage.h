// A third-party library header for rill-blocking-call-include-paths.cpp: the fixture includes it
// once through -I and once through -isystem; its blocking helpers are followed either way.
#pragma once
#include <unistd.h>

namespace vendorlib {
inline void flush_to_disk(int fd) { ::fsync(fd); }
class Journal {
 public:
  explicit Journal(int fd) : fd_(fd) {}
  void append(const char* rec, unsigned long n) {
    ::write(fd_, rec, n);
    flush_to_disk(fd_);
  }
  unsigned long size() const { return size_; }

 private:
  int fd_;
  unsigned long size_ = 0;
};
inline int checksum(const char* p, unsigned long n) {
  int s = 0;
  for (unsigned long i = 0; i < n; ++i) s += p[i];
  return s;
}
}  // namespace vendorlib
