// --changed-since support for rill-lint (see Changes.h).
#include "tool/Changes.h"

#include <clang/Basic/FileManager.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Serialization/PCHContainerOperations.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Lex/PPCallbacks.h>
#include <clang/Lex/Preprocessor.h>
#include <clang/Tooling/Tooling.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>

namespace rill::lint::tool {

bool ChangedLines::contains(llvm::StringRef File, unsigned Line) const {
  auto It = Files.find(File);
  if (It == Files.end()) return false;
  for (const auto& [Lo, Hi] : It->second)
    if (Line >= Lo && Line <= Hi) return true;
  return false;
}

bool runCapture(llvm::ArrayRef<llvm::StringRef> Argv, std::string& Out, std::string& Err,
                llvm::StringRef Dir) {
  llvm::SmallString<128> OutPath, ErrPath;
  llvm::sys::fs::createTemporaryFile("rill-lint-out", "txt", OutPath);
  llvm::sys::fs::createTemporaryFile("rill-lint-err", "txt", ErrPath);
  std::optional<llvm::StringRef> Redirects[] = {std::nullopt, llvm::StringRef(OutPath),
                                                llvm::StringRef(ErrPath)};
  std::vector<llvm::StringRef> Args(Argv.begin(), Argv.end());
  std::string Program = Args[0].str();
  if (!Dir.empty()) {
    // git -C DIR ...: keep our own working directory untouched (workers share it).
    if (llvm::sys::path::filename(Program) == "git") Args.insert(Args.begin() + 1, {"-C", Dir});
  }
  llvm::ErrorOr<std::string> Found = llvm::sys::findProgramByName(Program);
  std::string ErrMsg;
  int RC = Found ? llvm::sys::ExecuteAndWait(*Found, Args, std::nullopt, Redirects, 0, 0, &ErrMsg)
                 : -1;
  if (auto B = llvm::MemoryBuffer::getFile(OutPath)) Out = (*B)->getBuffer().str();
  if (auto B = llvm::MemoryBuffer::getFile(ErrPath)) Err = (*B)->getBuffer().str();
  llvm::sys::fs::remove(OutPath);
  llvm::sys::fs::remove(ErrPath);
  if (!Found) Err = "cannot find '" + Program + "' in PATH";
  if (RC != 0 && Err.empty()) Err = ErrMsg.empty() ? "exit status " + std::to_string(RC) : ErrMsg;
  return RC == 0;
}

llvm::StringMap<std::vector<std::pair<unsigned, unsigned>>> parseUnifiedDiff(
    llvm::StringRef Diff, llvm::StringRef RepoRoot) {
  llvm::StringMap<std::vector<std::pair<unsigned, unsigned>>> Out;
  std::string Current;
  while (!Diff.empty()) {
    auto [Line, Rest] = Diff.split('\n');
    Diff = Rest;
    if (Line.consume_front("+++ ")) {
      Current.clear();
      if (Line.consume_front("b/")) {
        llvm::SmallString<256> P(RepoRoot);
        llvm::sys::path::append(P, Line.rtrim("\t\r"));
        llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
        Current = std::string(P);
        Out[Current];  // a changed file, even when only lines were deleted
      }
      continue;
    }
    if (Current.empty() || !Line.consume_front("@@ ")) continue;
    // "@@ -a[,b] +c[,d] @@": lines c .. c+d-1 are new (d defaults to 1; d == 0: deletion only).
    size_t Plus = Line.find(" +");
    if (Plus == llvm::StringRef::npos) continue;
    llvm::StringRef New = Line.drop_front(Plus + 2).split(' ').first;
    auto [StartS, CountS] = New.split(',');
    unsigned Start = 0, Count = 1;
    if (StartS.getAsInteger(10, Start)) continue;
    if (!CountS.empty() && CountS.getAsInteger(10, Count)) continue;
    if (Count) Out[Current].emplace_back(Start, Start + Count - 1);
  }
  return Out;
}

llvm::Expected<ChangedLines> changedLinesSince(llvm::StringRef Ref, llvm::StringRef Dir) {
  auto fail = [&](llvm::StringRef What, llvm::StringRef Err) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "--changed-since %s: %s: %s",
                                   Ref.str().c_str(), What.str().c_str(),
                                   Err.trim().str().c_str());
  };
  ChangedLines C;
  std::string Out, Err;
  if (!runCapture({"git", "rev-parse", "--show-toplevel"}, Out, Err, Dir))
    return fail("git rev-parse --show-toplevel failed", Err);
  C.RepoRoot = llvm::StringRef(Out).trim().str();
  if (!runCapture({"git", "merge-base", "HEAD", Ref}, Out, Err, Dir))
    return fail("git merge-base HEAD " + Ref.str() + " failed", Err);
  C.MergeBase = llvm::StringRef(Out).trim().str();
  if (!runCapture({"git", "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames",
                   C.MergeBase},
                  Out, Err, Dir))
    return fail("git diff failed", Err);
  C.Files = parseUnifiedDiff(Out, C.RepoRoot);
  // Untracked files are new in the working tree: every line is added.
  if (runCapture({"git", "ls-files", "--others", "--exclude-standard", "--full-name"}, Out, Err,
                 Dir)) {
    llvm::SmallVector<llvm::StringRef, 16> Lines;
    llvm::StringRef(Out).split(Lines, '\n', -1, false);
    for (llvm::StringRef L : Lines) {
      llvm::SmallString<256> P(C.RepoRoot);
      llvm::sys::path::append(P, L);
      C.Files[P].emplace_back(1, ~0U);
    }
  }
  return C;
}

namespace {
/// Records every file entered by the preprocessor.
class IncludeRecorder : public clang::PPCallbacks {
 public:
  IncludeRecorder(clang::SourceManager& SM, bool System, llvm::StringSet<>& Out)
      : SM(SM), System(System), Out(Out) {}
  void FileChanged(clang::SourceLocation Loc, FileChangeReason Reason,
                   clang::SrcMgr::CharacteristicKind Kind, clang::FileID) override {
    if (Reason != EnterFile) return;
    if (!System && Kind != clang::SrcMgr::C_User) return;
    clang::FileID FID = SM.getFileID(SM.getExpansionLoc(Loc));
    if (clang::OptionalFileEntryRef FE = SM.getFileEntryRefForID(FID)) {
      llvm::StringRef Real = FE->getFileEntry().tryGetRealPathName();
      if (!Real.empty()) Out.insert(Real);
    }
  }

 private:
  clang::SourceManager& SM;
  bool System;
  llvm::StringSet<>& Out;
};

class ScanAction : public clang::PreprocessOnlyAction {
 public:
  ScanAction(bool System, llvm::StringSet<>& Out) : System(System), Out(Out) {}
  bool BeginSourceFileAction(clang::CompilerInstance& CI) override {
    CI.getPreprocessor().addPPCallbacks(
        std::make_unique<IncludeRecorder>(CI.getSourceManager(), System, Out));
    return true;
  }

 private:
  bool System;
  llvm::StringSet<>& Out;
};

class ScanFactory : public clang::tooling::FrontendActionFactory {
 public:
  ScanFactory(bool System, llvm::StringSet<>& Out) : System(System), Out(Out) {}
  std::unique_ptr<clang::FrontendAction> create() override {
    return std::make_unique<ScanAction>(System, Out);
  }

 private:
  bool System;
  llvm::StringSet<>& Out;
};

class IgnoreDiags : public clang::DiagnosticConsumer {};
}  // namespace

std::vector<std::vector<std::string>> scanIncludes(const clang::tooling::CompilationDatabase& DB,
                                                   llvm::ArrayRef<std::string> Files,
                                                   bool WithSystemHeaders) {
  std::vector<std::vector<std::string>> Out;
  for (const std::string& F : Files) {
    llvm::StringSet<> Seen;
    // A physical file system of its own: ClangTool sets the working directory of its file
    // system per compile command, which for the real one is the process's (shared by the
    // lint's worker threads).
    clang::tooling::ClangTool Tool(DB, {F}, std::make_shared<clang::PCHContainerOperations>(),
                                   llvm::vfs::createPhysicalFileSystem());
    IgnoreDiags Quiet;
    Tool.setDiagnosticConsumer(&Quiet);
    ScanFactory Factory(WithSystemHeaders, Seen);
    Tool.run(&Factory);
    std::vector<std::string> Deps;
    llvm::SmallString<256> Main;
    if (llvm::sys::fs::real_path(F, Main)) Main = F;
    Deps.push_back(std::string(Main));
    for (const auto& S : Seen)
      if (S.getKey() != Main) Deps.push_back(S.getKey().str());
    std::sort(Deps.begin() + 1, Deps.end());
    Out.push_back(std::move(Deps));
  }
  return Out;
}

}  // namespace rill::lint::tool
