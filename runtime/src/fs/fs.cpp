// fs/fs.cpp: rill::fs on the driver's operations (io_uring opcodes, or the blocking pool).
#include "rill/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "io/op.hpp"

namespace rill::fs {

namespace {

std::error_code sys(int e) {
  return {e, std::system_category()};
}

std::chrono::system_clock::time_point to_tp(const statx_timestamp& t) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec)));
}

Metadata from_statx(const struct statx& s) {
  Metadata m;
  m.len = s.stx_size;
  m.permissions = s.stx_mode & 07777;
  m.is_file = S_ISREG(s.stx_mode);
  m.is_dir = S_ISDIR(s.stx_mode);
  m.is_symlink = S_ISLNK(s.stx_mode);
  m.inode = s.stx_ino;
  m.nlink = s.stx_nlink;
  m.modified = to_tp(s.stx_mtime);
  m.accessed = to_tp(s.stx_atime);
  if (s.stx_mask & STATX_BTIME) m.created = to_tp(s.stx_btime);
  return m;
}

Task<io::Result<Metadata>> stat_impl(rill::detail::IoHandle* h, std::string path, bool follow) {
  io::RawOp op(rill::detail::io_statx(h, path.c_str(), follow));
  const std::int64_t r = co_await op;
  if (r < 0) co_return Unexpected{rill::detail::io_error(r)};
  struct statx s;
  std::memcpy(&s, op.data(), sizeof s);
  co_return from_statx(s);
}

Task<io::Result<File>> open_impl(std::string path, int flags, unsigned mode) {
  io::RawOp op(rill::detail::io_openat(path.c_str(), flags, mode));
  const std::int64_t fd = co_await op;
  if (fd < 0) co_return Unexpected{rill::detail::io_error(fd)};
  auto h = rill::detail::make_handle(static_cast<int>(fd), false, false);
  if (!h) co_return Unexpected{h.error()};
  co_return File(std::move(*h));
}

constexpr std::size_t kFirstRead = 16 << 10;
constexpr std::size_t kMaxRead = 2 << 20;

/// The result of a finished read op: its bytes appended to `*out` and their count, or the error.
io::Result<std::size_t> append_read(rill::detail::IoOp* op, std::int64_t r,
                                    std::vector<std::byte>* out) {
  if (r < 0) return Unexpected{rill::detail::io_error(r)};
  const std::byte* d = rill::detail::io_op_data(op);
  out->insert(out->end(), d, d + r);
  return static_cast<std::size_t>(r);
}

/// Awaitable io_read_to_end of up to `cap` bytes at the file position, appended to `*out` when
/// the awaiting coroutine resumes (a cancelled one appends nothing; the operation owns its
/// buffer until the kernel is done). Yields the bytes read: fewer than `cap` only at the end.
class ReadToEnd : public rill::detail::IoLeaf {
 public:
  ReadToEnd(rill::detail::IoHandle* h, std::size_t cap, std::vector<std::byte>* out) noexcept
      : h_(h), cap_(cap), out_(out) {}
  bool await_ready() { return start(rill::detail::io_read_to_end(h_, cap_)); }
  io::Result<std::size_t> await_resume() { return append_read(op_, result(), out_); }

 private:
  rill::detail::IoHandle* h_;
  std::size_t cap_;
  std::vector<std::byte>* out_;
};

/// Awaitable io_open_read: opens `path` and reads up to `cap` bytes, appended to `*out` when the
/// awaiting coroutine resumes. Yields the bytes read (fewer than `cap` only at the end); fd()
/// then hands over the opened fd (-1 when the open failed), which the caller must close. A
/// cancelled one appends nothing and its operation closes the fd.
class OpenRead : public rill::detail::IoLeaf {
 public:
  OpenRead(const std::string* path, std::size_t cap, std::vector<std::byte>* out) noexcept
      : path_(path), cap_(cap), out_(out) {}
  bool await_ready() { return start(rill::detail::io_open_read(path_->c_str(), cap_)); }
  io::Result<std::size_t> await_resume() {
    const std::int64_t r = result();
    fd_ = std::exchange(op_->fd, -1);
    return append_read(op_, r, out_);
  }
  int fd() const noexcept { return fd_; }

 private:
  const std::string* path_;
  std::size_t cap_;
  std::vector<std::byte>* out_;
  int fd_ = -1;
};

/// Closes an fd fs::read owns: on the worker's ring when it can, else close(2).
void close_fd(int fd) noexcept {
  if (fd >= 0 && !rill::detail::close_on_ring(fd)) ::close(fd);
}

}  // namespace

Task<io::Result<File>> OpenOptions::open(std::string path) const {
  int flags;
  const bool w = write_ || append_;
  if (read_ && w)
    flags = O_RDWR;
  else if (w)
    flags = O_WRONLY;
  else if (read_)
    flags = O_RDONLY;
  else
    return
        [](std::error_code e) -> Task<io::Result<File>> { co_return Unexpected{e}; }(sys(EINVAL));
  if (append_) flags |= O_APPEND;
  if (truncate_ && w) flags |= O_TRUNC;
  if (create_new_)
    flags |= O_CREAT | O_EXCL;
  else if (create_)
    flags |= O_CREAT;
  return open_impl(std::move(path), flags, mode_);
}

Task<io::Result<File>> File::open(std::string path) {
  return OpenOptions().read(true).open(std::move(path));
}
Task<io::Result<File>> File::create(std::string path) {
  return OpenOptions().write(true).create(true).truncate(true).open(std::move(path));
}
Task<io::Result<Metadata>> File::metadata() const {
  if (!h_)
    return [](std::error_code e) -> Task<io::Result<Metadata>> {
      co_return Unexpected{e};
    }(sys(EBADF));
  return stat_impl(h_.get(), std::string(), true);
}

Task<io::Result<std::vector<std::byte>>> read(std::string path) {
  // No metadata first: a stat is no io_uring fast path (IORING_OP_STATX always runs on the
  // kernel's worker threads) and a size says nothing about /proc, /sys or pipes anyway. Each
  // request reads on inside the driver until its buffer is full or a read returns 0, so a
  // result short of the buffer means the end of the file. The first one also opens the file
  // (the driver submits its read from the open's CQE), so a small file costs one operation and
  // one resume here. Buffers grow from 16 KiB, doubling up to 2 MiB.
  std::vector<std::byte> out;
  OpenRead first(&path, kFirstRead, &out);
  auto n0 = co_await first;
  if (!n0 || *n0 < kFirstRead) {
    close_fd(first.fd());
    if (!n0) co_return Unexpected{n0.error()};
    co_return out;
  }
  auto h = rill::detail::make_handle(first.fd(), false, false);  // closes the fd on failure
  if (!h) co_return Unexpected{h.error()};
  for (std::size_t want = kFirstRead * 2;; want = std::min(want * 2, kMaxRead)) {
    ReadToEnd r(h->get(), want, &out);
    auto n = co_await r;
    if (!n) co_return Unexpected{n.error()};
    if (*n < want) break;
  }
  co_return out;
}

Task<io::Result<std::string>> read_to_string(std::string path) {
  auto bytes = co_await read(std::move(path));
  if (!bytes) co_return Unexpected{bytes.error()};
  co_return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

Task<io::Result<void>> write(std::string path, std::string contents) {
  auto f = co_await File::create(std::move(path));
  if (!f) co_return Unexpected{f.error()};
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t at = 0; at < contents.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, contents.size() - at);
    auto r = co_await f->write_all(std::span<const char>(contents.data() + at, n));
    if (!r) co_return r;
  }
  co_return io::Result<void>();
}

Task<io::Result<void>> create_dir(std::string path) {
  co_return co_await io::UnitOp(rill::detail::io_mkdir(path.c_str(), 0777));
}

Task<io::Result<void>> create_dir_all(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  if (path.empty()) co_return io::Result<void>();
  auto r = co_await create_dir(path);
  if (r) co_return r;
  if (r.error() == sys(EEXIST)) {
    auto md = co_await metadata(path);
    if (md && md->is_dir) co_return io::Result<void>();
    co_return r;
  }
  if (r.error() != sys(ENOENT)) co_return r;
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) co_return r;
  auto parent = co_await create_dir_all(path.substr(0, slash));
  if (!parent) co_return parent;
  r = co_await create_dir(path);
  if (!r && r.error() == sys(EEXIST)) co_return io::Result<void>();  // raced with another creator
  co_return r;
}

Task<io::Result<void>> remove_file(std::string path) {
  co_return co_await io::UnitOp(rill::detail::io_unlink(path.c_str(), false));
}
Task<io::Result<void>> remove_dir(std::string path) {
  co_return co_await io::UnitOp(rill::detail::io_unlink(path.c_str(), true));
}
Task<io::Result<void>> rename(std::string from, std::string to) {
  co_return co_await io::UnitOp(rill::detail::io_rename(from.c_str(), to.c_str()));
}
Task<io::Result<Metadata>> metadata(std::string path) {
  return stat_impl(nullptr, std::move(path), true);
}
Task<io::Result<Metadata>> symlink_metadata(std::string path) {
  return stat_impl(nullptr, std::move(path), false);
}

}  // namespace rill::fs
