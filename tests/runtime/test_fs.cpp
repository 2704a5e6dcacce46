// Tests for rill::fs on both backends (io_uring opcodes vs the blocking pool).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <rill/fs.hpp>
#include <rill/rill.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {
class Fs : public ::testing::TestWithParam<rill::IoBackend> {
 protected:
  void SetUp() override {
    dir_ = "/tmp/rill-fs-" + std::to_string(::getpid()) +
           (GetParam() == rill::IoBackend::Epoll ? "-e" : "-a");
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};
INSTANTIATE_TEST_SUITE_P(Fs, Fs, ::testing::Values(rill::IoBackend::Auto, rill::IoBackend::Epoll),
                         [](const auto& i) {
                           return i.param == rill::IoBackend::Epoll ? "epoll" : "auto";
                         });
const std::error_code kNoEnt(ENOENT, std::system_category());
}  // namespace

TEST_P(Fs, WriteReadRenameRemove) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).io_backend(GetParam()).build();
  rt.block_on([](std::string dir) -> rill::Task<void> {
    EXPECT_TRUE(co_await rill::fs::create_dir_all(dir + "/a/b/c"));
    EXPECT_TRUE(co_await rill::fs::create_dir_all(dir + "/a/b/c/"));  // exists: fine
    auto md = co_await rill::fs::metadata(dir + "/a/b");
    EXPECT_TRUE(md && md->is_dir && !md->is_file);
    std::string big(300'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
      big[i] = static_cast<char>(i * 13 + 7);
    const std::string p = dir + "/a/b/c/file.bin";
    EXPECT_TRUE(co_await rill::fs::write(p, big));
    auto back = co_await rill::fs::read_to_string(p);
    EXPECT_TRUE(back);
    EXPECT_TRUE(back && *back == big);
    auto fm = co_await rill::fs::metadata(p);
    EXPECT_TRUE(fm && fm->is_file && fm->len == big.size());
    EXPECT_TRUE(co_await rill::fs::rename(p, dir + "/moved.bin"));
    auto gone = co_await rill::fs::metadata(p);
    EXPECT_EQ(gone.error(), kNoEnt);
    EXPECT_TRUE(co_await rill::fs::remove_file(dir + "/moved.bin"));
    auto again = co_await rill::fs::remove_file(dir + "/moved.bin");
    EXPECT_EQ(again.error(), kNoEnt);
    auto missing = co_await rill::fs::read(dir + "/nope");
    EXPECT_EQ(missing.error(), kNoEnt);
    EXPECT_TRUE(co_await rill::fs::remove_dir(dir + "/a/b/c"));
    auto notdir = co_await rill::fs::create_dir_all(dir + "/a/b");
    EXPECT_TRUE(notdir);
  }(dir_));
}

TEST_P(Fs, FileReadAtWriteAtSyncMetadata) {
  auto rt = rill::Builder::new_current_thread().io_backend(GetParam()).build();
  rt.block_on([](std::string dir) -> rill::Task<void> {
    EXPECT_TRUE(co_await rill::fs::create_dir_all(dir));
    const std::string p = dir + "/f.txt";
    auto f =
        co_await rill::fs::OpenOptions().read(true).write(true).create_new(true).mode(0640).open(p);
    EXPECT_TRUE(f);
    EXPECT_TRUE(co_await f->write_all(std::span<const char>("hello world", 11)));
    EXPECT_TRUE(co_await f->write_at(std::span<const char>("W", 1), 6));
    EXPECT_TRUE(co_await f->sync_all());
    EXPECT_TRUE(co_await f->sync_data());
    char buf[16] = {};
    auto n = co_await f->read_at(std::span<char>(buf, 5), 6);
    EXPECT_TRUE(n && *n == 5);
    EXPECT_EQ(std::string(buf, 5), "World");
    auto md = co_await f->metadata();
    EXPECT_TRUE(md && md->len == 11 && md->permissions == (0640 & ~0022u) && md->nlink == 1);
    auto dup = co_await rill::fs::OpenOptions().write(true).create_new(true).open(p);
    EXPECT_EQ(dup.error(), std::error_code(EEXIST, std::system_category()));
    auto noacc = co_await rill::fs::OpenOptions().open(p);
    EXPECT_EQ(noacc.error(), std::error_code(EINVAL, std::system_category()));
    // Sequential reads at the file position.
    auto r = co_await rill::fs::File::open(p);
    EXPECT_TRUE(r);
    std::string seq;
    for (;;) {
      auto k = co_await r->read(std::span<char>(buf, 4));
      if (!k || *k == 0) break;
      seq.append(buf, *k);
    }
    EXPECT_EQ(seq, "hello World");
    auto ap = co_await rill::fs::OpenOptions().append(true).open(p);
    EXPECT_TRUE(co_await ap->write_all(std::span<const char>("!", 1)));
    EXPECT_EQ(*co_await rill::fs::read_to_string(p), "hello World!");
  }(dir_));
}

// fs::read reads until a read returns 0, in requests of 16 KiB doubling up to 2 MiB, each of
// which reads on inside the driver until full or at the end: sizes on both sides of the first
// request and across the doubling; an empty file; a file whose metadata size is not its content
// (/proc).
TEST_P(Fs, ReadWholeFilesOfAnySize) {
  auto rt = rill::Builder::new_current_thread().io_backend(GetParam()).build();
  rt.block_on([](std::string dir) -> rill::Task<void> {
    EXPECT_TRUE(co_await rill::fs::create_dir_all(dir));
    for (std::size_t size :
         {std::size_t{0}, std::size_t{1}, std::size_t{4096}, std::size_t{16 << 10},
          std::size_t{(16 << 10) + 1}, std::size_t{(1 << 16) + 3}, std::size_t{(600 << 10) + 5}}) {
      std::string bytes(size, '\0');
      for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<char>(i % 251);
      const std::string p = dir + "/r" + std::to_string(size);
      EXPECT_TRUE(co_await rill::fs::write(p, bytes));
      auto back = co_await rill::fs::read(p);
      EXPECT_TRUE(back);
      if (back) {
        EXPECT_EQ(back->size(), size);
        EXPECT_TRUE(std::equal(back->begin(), back->end(), bytes.begin(), bytes.end(),
                               [](std::byte a, char b) { return a == static_cast<std::byte>(b); }));
      }
    }
    auto proc = co_await rill::fs::read_to_string("/proc/self/status");  // statx size: 0
    EXPECT_TRUE(proc && proc->find("Pid:") != std::string::npos);
    auto isdir = co_await rill::fs::read(dir);
    EXPECT_EQ(isdir.error(), std::error_code(EISDIR, std::system_category()));
  }(dir_));
}

namespace {
bool fd_open(int fd) {
  return ::fcntl(fd, F_GETFD) >= 0;
}
std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}
}  // namespace

// A File dropped in a task is closed (on io_uring: by a close request on the worker's ring, not
// awaited): by the time block_on returns on a current_thread runtime, and soon after on a
// multi_thread worker, which submits it with its next tick or park.
TEST_P(Fs, DroppedFileIsClosed) {
  for (int threads : {0, 2}) {
    auto rt = threads == 0 ? rill::Builder::new_current_thread().io_backend(GetParam()).build()
                           : rill::Builder::new_multi_thread()
                                 .worker_threads(threads)
                                 .io_backend(GetParam())
                                 .build();
    const int fd = rt.block_on([](std::string dir) -> rill::Task<int> {
      EXPECT_TRUE(co_await rill::fs::create_dir_all(dir));
      EXPECT_TRUE(co_await rill::fs::write(dir + "/c", "x"));
      auto f = co_await rill::fs::File::open(dir + "/c");
      EXPECT_TRUE(f);
      const int raw = f ? f->as_raw_fd() : -1;
      EXPECT_TRUE(fd_open(raw));
      co_return raw;  // `f` is dropped here
    }(dir_));
    ASSERT_GE(fd, 0);
    if (threads == 0) {
      EXPECT_FALSE(fd_open(fd));
    } else {
      // Counts, not a time limit: the worker submits the close with its next tick or park.
      for (int i = 0; i < 5000 && fd_open(fd); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      EXPECT_FALSE(fd_open(fd));
    }
  }
}

// fs::read dropped at every stage (before its open, during it, during its reads): the kernel's
// requests finish into memory the operations own, and every one is freed.
TEST_P(Fs, ReadCancelledLosesNothing) {
  const std::size_t fds_before = open_fds();
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).io_backend(GetParam()).build();
  rt.block_on([](std::string dir) -> rill::Task<void> {
    EXPECT_TRUE(co_await rill::fs::create_dir_all(dir));
    EXPECT_TRUE(co_await rill::fs::write(dir + "/big", std::string(1 << 20, 'b')));
    EXPECT_TRUE(co_await rill::fs::write(dir + "/small", std::string(100, 's')));
    for (int round = 0; round < 50; ++round) {
      std::vector<rill::JoinHandle<void>> hs;
      for (int i = 0; i < 8; ++i) {
        const std::size_t size = i % 2 ? 100 : (1u << 20);
        hs.push_back(rill::spawn([](std::string p, std::size_t size) -> rill::Task<void> {
          auto r = co_await rill::fs::read(std::move(p));
          EXPECT_TRUE(r && r->size() == size)
              << (r ? std::to_string(r->size()) : r.error().message());
        }(dir + (i % 2 ? "/small" : "/big"), size)));
      }
      for (int i = 0; i < round % 8; ++i)
        co_await rill::yield_now();
      for (auto& h : hs)
        h.abort();
      for (auto& h : hs) {
        try {
          co_await h;
        } catch (const rill::JoinError& e) {
          EXPECT_TRUE(e.is_cancelled());
        }
      }
    }
    auto r = co_await rill::fs::read(dir + "/big");  // still readable, whole
    EXPECT_TRUE(r && r->size() == (1u << 20));
  }(dir_));
  std::move(rt).shutdown_timeout(std::chrono::seconds(10));
  EXPECT_EQ(rill::detail::io_orphaned_ops(), 0u);
  EXPECT_EQ(open_fds(), fds_before);  // every file closed, whoever ended up owning its fd
}
