// rill/fs.hpp: asynchronous file-system access. On the io_uring backend every operation is an
// io_uring request (OPENAT, READ, WRITE, FSYNC, STATX, MKDIRAT, UNLINKAT, RENAMEAT, CLOSE) when
// the kernel supports the opcode; otherwise (and on the epoll backend) the blocking syscall runs on
// the runtime's blocking pool, like Tokio does for every fs call. Mirrors tokio::fs.
//
// Paths are taken by value (std::string) so a lazily started coroutine never reads a dangling
// path. Errors are std::error_code values (errno, or io::Errc) in io::Result.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rill/io.hpp"
#include "rill/task.hpp"

namespace rill::fs {

/// File metadata from statx(2). Times are wall-clock (system_clock). Mirrors std::fs::Metadata.
struct Metadata {
  std::uint64_t len = 0;          ///< size in bytes
  std::uint32_t permissions = 0;  ///< mode bits & 07777
  bool is_file = false;
  bool is_dir = false;
  bool is_symlink = false;
  std::uint64_t inode = 0;
  std::uint32_t nlink = 0;
  std::chrono::system_clock::time_point modified{}, accessed{}, created{};  ///< created: btime
};

class File;

/// Options for File::open, chained like Tokio's: `OpenOptions().write(true).create(true)
/// .open("x")`. A plain value. Mirrors tokio::fs::OpenOptions.
class OpenOptions {
 public:
  OpenOptions& read(bool on) noexcept {
    read_ = on;
    return *this;
  }
  OpenOptions& write(bool on) noexcept {
    write_ = on;
    return *this;
  }
  /// Writes go to the end of the file (implies write).
  OpenOptions& append(bool on) noexcept {
    append_ = on;
    return *this;
  }
  /// Truncates an existing file to 0 bytes (needs write).
  OpenOptions& truncate(bool on) noexcept {
    truncate_ = on;
    return *this;
  }
  /// Creates the file if missing (needs write or append).
  OpenOptions& create(bool on) noexcept {
    create_ = on;
    return *this;
  }
  /// Creates the file and fails with EEXIST if it exists.
  OpenOptions& create_new(bool on) noexcept {
    create_new_ = on;
    return *this;
  }
  /// Permission bits for a created file (default 0666, minus the umask).
  OpenOptions& mode(unsigned m) noexcept {
    mode_ = m;
    return *this;
  }
  /// Opens `path`. Errors: ENOENT, EACCES, EEXIST, EISDIR, EINVAL (no access mode chosen).
  Task<io::Result<File>> open(std::string path) const;

 private:
  bool read_ = false, write_ = false, append_ = false, truncate_ = false, create_ = false,
       create_new_ = false;
  unsigned mode_ = 0666;
};

/// An open file. Move-only; the destructor closes it without waiting (on an io_uring worker, by a
/// close request its ring submits with its next tick; elsewhere close(2)); an operation still in
/// the kernel keeps the fd open until it completes. Call sync_all() first when durability
/// matters. One operation at a time on the shared file position
/// (read()/write_all()); read_at/write_at may run concurrently. Mirrors tokio::fs::File.
class File {
 public:
  File() noexcept = default;
  explicit File(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;

  /// Opens for reading. Mirrors File::open.
  static Task<io::Result<File>> open(std::string path);
  /// Opens for writing, creating or truncating. Mirrors File::create.
  static Task<io::Result<File>> create(std::string path);

  /// Reads up to buf.size() bytes at the file position (0 at end of file). Mirrors read.
  io::ReadOp read(std::span<std::byte> buf) noexcept {
    return io::ReadOp(h_.get(), buf, false, -1);
  }
  io::ReadOp read(std::span<char> buf) noexcept { return read(std::as_writable_bytes(buf)); }
  /// Reads up to buf.size() bytes at `offset` without moving the file position (pread).
  io::ReadOp read_at(std::span<std::byte> buf, std::uint64_t offset) noexcept {
    return io::ReadOp(h_.get(), buf, false, static_cast<std::int64_t>(offset));
  }
  io::ReadOp read_at(std::span<char> buf, std::uint64_t offset) noexcept {
    return read_at(std::as_writable_bytes(buf), offset);
  }
  /// One write of `buf` (copied at once) at the file position; yields the bytes written (a
  /// regular file takes them all). Mirrors AsyncWriteExt::write on tokio::fs::File.
  io::WriteOp<false> write(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<false>(h_.get(), buf, -1);
  }
  io::WriteOp<false> write(std::span<const char> buf) noexcept { return write(std::as_bytes(buf)); }
  io::WriteOp<false> write(std::string_view s) noexcept { return write(io::text_bytes(s)); }
  io::WriteOp<false> write(const std::string& s) noexcept { return write(io::text_bytes(s)); }
  template <std::size_t N>
  io::WriteOp<false> write(const char (&s)[N]) noexcept {
    return write(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<false> write(char (&buf)[N]) noexcept {
    return write(std::span<const char>(buf));
  }
  /// Writes all of `buf` (copied at once) at the file position. Mirrors write_all.
  io::WriteOp<true> write_all(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<true>(h_.get(), buf, -1);
  }
  io::WriteOp<true> write_all(std::span<const char> buf) noexcept {
    return write_all(std::as_bytes(buf));
  }
  /// Text overloads: exactly the characters (a string literal writes no terminating NUL; a
  /// non-const `char` array writes all its elements, like a span).
  io::WriteOp<true> write_all(std::string_view s) noexcept { return write_all(io::text_bytes(s)); }
  io::WriteOp<true> write_all(const std::string& s) noexcept {
    return write_all(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<true> write_all(const char (&s)[N]) noexcept {
    return write_all(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<true> write_all(char (&buf)[N]) noexcept {
    return write_all(std::span<const char>(buf));
  }
  /// Writes all of `buf` at `offset` (pwrite) without moving the file position.
  io::WriteOp<true> write_at(std::span<const std::byte> buf, std::uint64_t offset) noexcept {
    return io::WriteOp<true>(h_.get(), buf, static_cast<std::int64_t>(offset));
  }
  io::WriteOp<true> write_at(std::span<const char> buf, std::uint64_t offset) noexcept {
    return write_at(std::as_bytes(buf), offset);
  }
  /// Text overloads of write_at (see write_all).
  io::WriteOp<true> write_at(std::string_view s, std::uint64_t offset) noexcept {
    return write_at(io::text_bytes(s), offset);
  }
  io::WriteOp<true> write_at(const std::string& s, std::uint64_t offset) noexcept {
    return write_at(io::text_bytes(s), offset);
  }
  template <std::size_t N>
  io::WriteOp<true> write_at(const char (&s)[N], std::uint64_t offset) noexcept {
    return write_at(io::text_bytes(s), offset);
  }
  template <std::size_t N>
  io::WriteOp<true> write_at(char (&buf)[N], std::uint64_t offset) noexcept {
    return write_at(std::span<const char>(buf), offset);
  }
  /// fsync(2) / fdatasync(2). Mirrors sync_all / sync_data.
  io::UnitOp sync_all() { return io::UnitOp(rill::detail::io_fsync(h_.get(), false)); }
  io::UnitOp sync_data() { return io::UnitOp(rill::detail::io_fsync(h_.get(), true)); }
  /// statx(2) of the open file. Mirrors File::metadata.
  Task<io::Result<Metadata>> metadata() const;
  int as_raw_fd() const noexcept { return rill::detail::handle_fd(h_.get()); }

 private:
  std::shared_ptr<rill::detail::IoHandle> h_;
};

/// Reads a whole file: opens it and reads until a read returns 0 (no metadata is asked for, so
/// /proc files and pipes read whole too), in requests of 16 KiB doubling up to 2 MiB that each
/// keep reading until full or at the end; the first one opens the file too (one operation and
/// one resume for a file under 16 KiB). Errors: those of open and read (ENOENT, EACCES,
/// EISDIR, ...). Cancel-safe in the sense that dropping it leaves nothing behind (the file is
/// closed once the kernel is done with it). Mirrors tokio::fs::read.
Task<io::Result<std::vector<std::byte>>> read(std::string path);
/// Reads a whole file as text (bytes as they are; no UTF-8 check). Mirrors read_to_string.
Task<io::Result<std::string>> read_to_string(std::string path);
/// Creates or truncates `path` and writes `contents` (copied into the coroutine). Mirrors
/// tokio::fs::write.
Task<io::Result<void>> write(std::string path, std::string contents);
/// Creates one directory (mode 0777 minus umask). EEXIST if it exists. Mirrors create_dir.
Task<io::Result<void>> create_dir(std::string path);
/// Creates a directory and its missing parents; an existing directory is fine. Mirrors
/// create_dir_all.
Task<io::Result<void>> create_dir_all(std::string path);
/// Removes a file (or symlink). Mirrors remove_file.
Task<io::Result<void>> remove_file(std::string path);
/// Removes an empty directory. Mirrors remove_dir.
Task<io::Result<void>> remove_dir(std::string path);
/// Renames (atomically replacing `to` on the same file system). Mirrors rename.
Task<io::Result<void>> rename(std::string from, std::string to);
/// Metadata of `path`, following symlinks / not following them. Mirrors metadata /
/// symlink_metadata.
Task<io::Result<Metadata>> metadata(std::string path);
Task<io::Result<Metadata>> symlink_metadata(std::string path);

}  // namespace rill::fs
