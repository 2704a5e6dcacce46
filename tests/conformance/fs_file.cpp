// Port of tokio-1.24.2/tests/fs_file.rs. rill's File has no user-space write buffer: write_all
// completes the write, so Tokio's flush() has no counterpart (basic_write omits it). Left out:
// basic_write_and_shutdown (File::shutdown is not in rill), rewind_seek_position (no seek:
// rill's File reads and writes at a position or at its current offset). coop reads with
// read_at(0), Tokio's read + seek(Start(0)).
#include "harness.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

using namespace conformance;
using rill::fs::File;

namespace {
constexpr std::string_view HELLO = "hello world...";

/// tempfile::NamedTempFile: a file that exists and is removed at the end of the test.
struct NamedTempFile {
  std::string path;
  NamedTempFile() {
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir ? dir : "/tmp") + "/rill-conf-XXXXXX";
    int fd = ::mkstemp(path.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
  }
  ~NamedTempFile() { ::unlink(path.c_str()); }
  void write_all(std::string_view s) const { std::ofstream(path, std::ios::binary) << s; }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST(fs_file, basic_read) {
  block_on([]() -> rill::Task<void> {
    NamedTempFile tempfile;
    tempfile.write_all(HELLO);
    auto file = co_await File::open(tempfile.path);
    CO_ASSERT_TRUE(file);
    std::array<char, 1024> buf{};
    auto n = co_await file->read(std::span<char>(buf));
    CO_ASSERT_TRUE(n);
    EXPECT_EQ(*n, HELLO.size());
    EXPECT_EQ(std::string_view(buf.data(), *n), HELLO);
  }());
}

TEST(fs_file, basic_write) {
  block_on([]() -> rill::Task<void> {
    NamedTempFile tempfile;
    auto file = co_await File::create(tempfile.path);
    CO_ASSERT_TRUE(file);
    EXPECT_TRUE(co_await file->write_all(std::span<const char>(HELLO.data(), HELLO.size())));
    EXPECT_EQ(read_all(tempfile.path), HELLO);
  }());
}

TEST(fs_file, coop) {
  block_on([]() -> rill::Task<void> {
    NamedTempFile tempfile;
    tempfile.write_all(HELLO);
    auto task = poll([](std::string path) -> rill::Task<void> {
      auto file = co_await File::open(path);
      CO_ASSERT_TRUE(file);
      std::array<char, 1024> buf{};
      for (;;)
        EXPECT_TRUE(co_await file->read_at(std::span<char>(buf), 0));
    }(tempfile.path));
    // This task resumes (here, on a current_thread runtime) only if the reading task yields.
    co_await settle();
    EXPECT_FALSE(task.is_ready());
    task.h.abort();
    co_await settle();
  }());
}

TEST(fs_file, unix_fd) {
  block_on([]() -> rill::Task<void> {
    NamedTempFile tempfile;
    auto file = co_await File::create(tempfile.path);
    CO_ASSERT_TRUE(file);
    EXPECT_GT(file->as_raw_fd(), 0);
  }());
}
