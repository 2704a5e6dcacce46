// rill-lint's change scope for pull requests (--changed-since REF): which lines changed since the
// merge base with a git ref, and which translation units include a changed file.
#pragma once

#include <clang/Tooling/CompilationDatabase.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/VirtualFileSystem.h>

#include <string>
#include <utility>
#include <vector>

namespace rill::lint::tool {

/// Added or changed lines per file (absolute, normalized paths), as 1-based inclusive ranges.
struct ChangedLines {
  std::string MergeBase;  ///< the merge-base commit the diff is taken against
  std::string RepoRoot;   ///< `git rev-parse --show-toplevel`
  llvm::StringMap<std::vector<std::pair<unsigned, unsigned>>> Files;

  /// True when \p File (absolute) has an added or changed line \p Line.
  bool contains(llvm::StringRef File, unsigned Line) const;
  bool containsFile(llvm::StringRef File) const { return Files.count(File) != 0; }
};

/// Runs git in \p Dir: the merge base of HEAD and \p Ref, then `git diff -U0 <base>` (the
/// working tree against the merge base, as clang-tidy-diff and reviewdog's filter-mode=added do)
/// parsed into added/changed line ranges. Deleted-only hunks add no lines; deleted files are
/// absent. Errors (not a git repository, unknown ref, git missing) name the command.
llvm::Expected<ChangedLines> changedLinesSince(llvm::StringRef Ref, llvm::StringRef Dir);

/// Parses `git diff -U0` output (exposed for tests). Paths are joined to \p RepoRoot.
llvm::StringMap<std::vector<std::pair<unsigned, unsigned>>> parseUnifiedDiff(
    llvm::StringRef Diff, llvm::StringRef RepoRoot);

/// The files each TU reads (absolute, real paths), by running only the preprocessor with the
/// TU's compile command. System headers are included only when \p WithSystemHeaders. A TU that
/// fails to preprocess gets the files read so far (at least its main file).
std::vector<std::vector<std::string>> scanIncludes(
    const clang::tooling::CompilationDatabase& DB, llvm::ArrayRef<std::string> Files,
    bool WithSystemHeaders);

/// Runs a program and captures its stdout; Err gets stderr on failure. Exit status in Status.
bool runCapture(llvm::ArrayRef<llvm::StringRef> Argv, std::string& Out, std::string& Err,
                llvm::StringRef Dir = {});

}  // namespace rill::lint::tool
