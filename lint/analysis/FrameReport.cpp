#include "FrameReport.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <clang/Tooling/ArgumentsAdjusters.h>
#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/Demangle/Demangle.h>
#include <llvm/Remarks/Remark.h>
#include <llvm/Remarks/RemarkFormat.h>
#include <llvm/Remarks/RemarkParser.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>

namespace rill::lint {

namespace {

/// Removes a temporary file when it goes out of scope.
struct TempFile {
  llvm::SmallString<128> Path;
  ~TempFile() {
    if (!Path.empty()) llvm::sys::fs::remove(Path);
  }
};

llvm::Error makeError(const llvm::Twine& Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

llvm::Expected<std::string> findCompiler(const FrameReportOptions& Opts) {
  if (!Opts.Compiler.empty()) {
    if (llvm::sys::path::has_parent_path(Opts.Compiler)) {
      if (llvm::sys::fs::can_execute(Opts.Compiler)) return Opts.Compiler;
      return makeError("compiler '" + Opts.Compiler + "' is not executable");
    }
    if (auto P = llvm::sys::findProgramByName(Opts.Compiler)) return *P;
    return makeError("compiler '" + Opts.Compiler + "' not found in PATH");
  }
  for (const char* Name : {"clang++-19", "clang++"})
    if (auto P = llvm::sys::findProgramByName(Name)) return *P;
  return makeError("clang++-19 not found in PATH (needed for --frame-report)");
}

/// The TU's arguments with its output, dependency-file, syntax-only and remark flags removed.
std::vector<std::string> adjustArgs(const clang::tooling::CompileCommand& Cmd) {
  clang::tooling::CommandLineArguments Args = Cmd.CommandLine;
  Args = clang::tooling::getClangStripOutputAdjuster()(Args, Cmd.Filename);
  Args = clang::tooling::getClangStripDependencyFileAdjuster()(Args, Cmd.Filename);
  std::vector<std::string> Out;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef A = Args[I];
    if (I > 0 &&
        (A == "-fsyntax-only" || A == "-c" || A == "-S" || A == "-E" ||
         A.starts_with("-fsave-optimization-record") || A.starts_with("-foptimization-record-") ||
         A.starts_with("-Rpass") || A == "-fcolor-diagnostics"))
      continue;
    Out.push_back(Args[I]);
  }
  return Out;
}

std::string absolutePath(llvm::StringRef File, llvm::StringRef Dir) {
  llvm::SmallString<256> P(File);
  if (!llvm::sys::path::is_absolute(P)) {
    llvm::SmallString<256> D(Dir);
    llvm::sys::fs::make_absolute(D);  // relative database directory: relative to our cwd
    // Debug locations are relative to a directory clang chose (the working directory or one of
    // its ancestors, sharing a prefix with the file); take the first ancestor where it exists.
    llvm::SmallString<256> First;
    for (llvm::StringRef Cur = D; !Cur.empty(); Cur = llvm::sys::path::parent_path(Cur)) {
      llvm::SmallString<256> Cand(Cur);
      llvm::sys::path::append(Cand, P);
      if (First.empty()) First = Cand;
      if (llvm::sys::fs::exists(Cand)) {
        First = Cand;
        break;
      }
    }
    P = First;
  }
  llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

llvm::Expected<std::vector<CoroutineFrame>> parseRecord(llvm::StringRef Buffer,
                                                        llvm::StringRef Directory) {
  std::vector<CoroutineFrame> Frames;
  if (Buffer.trim().empty()) return Frames;
  auto Parser = llvm::remarks::createRemarkParser(llvm::remarks::Format::YAML, Buffer);
  if (!Parser) return Parser.takeError();
  while (true) {
    llvm::Expected<std::unique_ptr<llvm::remarks::Remark>> R = (*Parser)->next();
    if (!R) {
      llvm::Error E = R.takeError();
      if (E.isA<llvm::remarks::EndOfFileError>()) {
        llvm::consumeError(std::move(E));
        break;
      }
      return std::move(E);
    }
    const llvm::remarks::Remark& Rem = **R;
    if (Rem.PassName != "coro-split") continue;
    CoroutineFrame F;
    F.MangledName = Rem.FunctionName.str();
    bool HaveSize = false;
    for (const llvm::remarks::Argument& A : Rem.Args) {
      if (A.Key == "frame_size") HaveSize = !A.Val.getAsInteger(10, F.FrameSize);
      if (A.Key == "align") (void)A.Val.getAsInteger(10, F.Align);
      if (A.Key == "function") F.MangledName = A.Val.str();
    }
    if (!HaveSize) continue;
    F.Function = llvm::demangle(F.MangledName);
    if (Rem.Loc) {
      F.File = absolutePath(Rem.Loc->SourceFilePath, Directory);
      F.Line = Rem.Loc->SourceLine;
    }
    Frames.push_back(std::move(F));
  }
  return Frames;
}

}  // namespace

llvm::Expected<std::vector<CoroutineFrame>> measureCoroutineFrames(
    const clang::tooling::CompileCommand& Cmd, const FrameReportOptions& Opts) {
  llvm::Expected<std::string> Compiler = findCompiler(Opts);
  if (!Compiler) return Compiler.takeError();
  if (Cmd.CommandLine.empty()) return makeError("empty compile command for " + Cmd.Filename);

  TempFile Record, Stderr;
  if (std::error_code EC =
          llvm::sys::fs::createTemporaryFile("rill-frames", "opt.yaml", Record.Path))
    return makeError("cannot create a temporary file: " + EC.message());
  if (std::error_code EC = llvm::sys::fs::createTemporaryFile("rill-frames", "stderr", Stderr.Path))
    return makeError("cannot create a temporary file: " + EC.message());

  std::vector<std::string> Args = adjustArgs(Cmd);
  std::vector<std::string> Extra;
  if (!Opts.OptLevel.empty()) Extra.push_back(Opts.OptLevel);
  for (const char* A :
       {"-c", "-o", "/dev/null", "-w", "-fno-color-diagnostics", "-fsave-optimization-record=yaml",
        "-foptimization-record-passes=coro-split"})
    Extra.push_back(A);
  Extra.push_back("-foptimization-record-file=" + std::string(Record.Path));
  if (!Cmd.Directory.empty()) {
    Extra.push_back("-working-directory");
    Extra.push_back(Cmd.Directory);
  }
  // Our flags go before a "--" separator (after it everything is an input file).
  auto Sep = std::find(Args.begin() + 1, Args.end(), "--");
  Args.insert(Sep, Extra.begin(), Extra.end());
  Args[0] = *Compiler;

  std::vector<llvm::StringRef> ArgRefs(Args.begin(), Args.end());
  std::optional<llvm::StringRef> Redirects[] = {llvm::StringRef(""), llvm::StringRef(Stderr.Path),
                                                llvm::StringRef(Stderr.Path)};
  std::string ErrMsg;
  bool ExecFailed = false;
  int RC = llvm::sys::ExecuteAndWait(*Compiler, ArgRefs, std::nullopt, Redirects, 0, 0, &ErrMsg,
                                     &ExecFailed);
  if (ExecFailed) return makeError("cannot run " + *Compiler + ": " + ErrMsg);
  if (RC != 0) {
    std::string Output;
    if (auto Buf = llvm::MemoryBuffer::getFile(Stderr.Path)) Output = (*Buf)->getBuffer().str();
    return makeError(Cmd.Filename + ": compilation failed (exit " + llvm::Twine(RC) + ")" +
                     (Output.empty() ? "" : ":\n" + Output));
  }
  auto Buf = llvm::MemoryBuffer::getFile(Record.Path);
  if (!Buf)
    return makeError("cannot read optimization record " + Record.Path + ": " +
                     Buf.getError().message());
  auto Frames = parseRecord((*Buf)->getBuffer(), Cmd.Directory);
  if (!Frames)
    return makeError("cannot parse optimization record for " + Cmd.Filename + ": " +
                     llvm::toString(Frames.takeError()));
  return Frames;
}

int runFrameReport(const clang::tooling::CompilationDatabase& DB, llvm::ArrayRef<std::string> Files,
                   llvm::raw_ostream& OS, llvm::raw_ostream& Err, const FrameReportOptions& Opts) {
  std::vector<std::string> Inputs(Files.begin(), Files.end());
  if (Inputs.empty()) Inputs = DB.getAllFiles();
  int Status = 0;
  if (Inputs.empty()) {
    Err << "error: --frame-report: no input files (give files or a compilation database)\n";
    return 2;
  }
  std::vector<CoroutineFrame> All;
  std::set<std::tuple<std::string, std::string, unsigned>> Seen;
  for (const std::string& File : Inputs) {
    std::vector<clang::tooling::CompileCommand> Cmds = DB.getCompileCommands(File);
    if (Cmds.empty()) {
      Err << "error: --frame-report: no compile command for '" << File << "'\n";
      Status = 2;
      continue;
    }
    if (!llvm::sys::fs::exists(absolutePath(Cmds.front().Filename, Cmds.front().Directory))) {
      Err << "error: --frame-report: no such file '" << File << "'\n";
      Status = 2;
      continue;
    }
    auto Frames = measureCoroutineFrames(Cmds.front(), Opts);
    if (!Frames) {
      Err << "error: --frame-report: " << llvm::toString(Frames.takeError()) << "\n";
      Status = 2;
      continue;
    }
    for (CoroutineFrame& F : *Frames)
      if (Seen.insert({F.MangledName, F.File, F.Line}).second) All.push_back(std::move(F));
  }
  std::sort(All.begin(), All.end(), [](const CoroutineFrame& L, const CoroutineFrame& R) {
    if (L.FrameSize != R.FrameSize) return L.FrameSize > R.FrameSize;
    if (L.File != R.File) return L.File < R.File;
    if (L.Line != R.Line) return L.Line < R.Line;
    if (L.Function != R.Function) return L.Function < R.Function;
    return L.MangledName < R.MangledName;
  });
  if (Opts.JSON) {
    llvm::json::Array Arr;
    for (const CoroutineFrame& F : All)
      Arr.push_back(llvm::json::Object{{"function", F.Function},
                                       {"mangled", F.MangledName},
                                       {"file", F.File},
                                       {"line", static_cast<int64_t>(F.Line)},
                                       {"frame_size", static_cast<int64_t>(F.FrameSize)},
                                       {"align", static_cast<int64_t>(F.Align)}});
    OS << llvm::formatv("{0:2}", llvm::json::Value(std::move(Arr))) << "\n";
  } else {
    OS << llvm::formatv("{0,10} {1,5}  {2}  {3}\n", "frame_size", "align", "location", "function");
    for (const CoroutineFrame& F : All)
      OS << llvm::formatv("{0,10} {1,5}  {2}:{3}  {4}\n", F.FrameSize, F.Align,
                          F.File.empty() ? "<unknown>" : F.File, F.Line, F.Function);
  }
  OS.flush();
  return Status;
}

}  // namespace rill::lint
