// Exact coroutine frame sizes: `rill-lint --frame-report` (a `-fstack-usage` for coroutines).
//
// Each translation unit is compiled by clang (its own compile command, plus `-O0 -c -o /dev/null`)
// with an optimization record for LLVM's CoroSplit pass; CoroSplit's remark
// "Split 'f' (frame_size=N, align=A)" (the same one `-Rpass=coro-split` prints) carries the exact
// size of every coroutine frame LLVM lays out. Mirrors GCC/clang's -fstack-usage report, for
// coroutine frames.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <clang/Tooling/CompilationDatabase.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

namespace rill::lint {

/// One coroutine frame as laid out by LLVM's CoroSplit pass.
struct CoroutineFrame {
  /// Demangled function name, e.g. "serve(rill::net::TcpStream)".
  std::string Function;
  /// Mangled (linkage) name as in the remark, e.g. "_Z5serveN4rill3net9TcpStreamE".
  std::string MangledName;
  /// Absolute path of the file containing the coroutine's definition ("" if unknown).
  std::string File;
  /// 1-based line of the definition (0 if unknown).
  unsigned Line = 0;
  /// Frame size in bytes (header, promise, spilled locals, padding).
  uint64_t FrameSize = 0;
  /// Frame alignment in bytes.
  uint64_t Align = 0;
};

/// Options of the exact mode.
struct FrameReportOptions {
  /// Compiler to run; empty = "clang++-19" from PATH (falling back to "clang++"). Must be a
  /// clang (the remark is LLVM's); the TU's own compiler from the database is not used, so a
  /// g++-built database still works.
  std::string Compiler;
  /// Optimization level appended after the TU's own flags ("-O0": the level the rill-large-frame
  /// estimate is calibrated for). Set to "" to keep the TU's own level.
  std::string OptLevel = "-O0";
  /// Print JSON (an array of objects with function, mangled, file, line, frame_size, align)
  /// instead of the text table.
  bool JSON = false;
};

/// Compiles the translation unit described by \p Cmd (output discarded) and returns the frames of
/// every coroutine it defines, in remark order. Errors (compiler not found, compilation failed --
/// the message then contains the compiler's diagnostics --, unreadable record) are returned as
/// llvm::Error. Thread-safe (uses unique temporary files); blocking (runs a subprocess).
llvm::Expected<std::vector<CoroutineFrame>> measureCoroutineFrames(
    const clang::tooling::CompileCommand& Cmd, const FrameReportOptions& Opts = {});

/// The `--frame-report` mode: for each file in \p Files (or every file of \p DB when empty), takes
/// its first compile command from \p DB, measures its coroutine frames, and prints all frames of
/// all TUs to \p OS sorted by size, largest first (a frame seen in several TUs, e.g. an inline
/// coroutine in a header, is printed once). Text format, one line per coroutine:
///   `<frame_size> <align> <file>:<line> <function>` under a header line.
/// Problems go to \p Err as "error: ..." lines (a TU that fails to compile is reported with the
/// compiler's output and the others are still measured).
/// Returns 0 when every TU was measured, 2 on input errors (no compile command for a file, a TU
/// that fails to compile, compiler missing); frames that were measured are printed either way.
int runFrameReport(const clang::tooling::CompilationDatabase& DB, llvm::ArrayRef<std::string> Files,
                   llvm::raw_ostream& OS, llvm::raw_ostream& Err,
                   const FrameReportOptions& Opts = {});

}  // namespace rill::lint
