// rill-large-frame: a coroutine whose frame is larger than a threshold.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/Regex.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace rill::lint {

/// Flags a coroutine whose estimated frame (the heap allocation made when it is called) exceeds
/// `FrameSizeThreshold` bytes (default 16384, clippy's large_futures default). The estimate is
/// computed from the AST by estimateCoroutineFrame() (lint/analysis/FrameLayout.h), calibrated
/// against clang-19 at -O0 (within 10% for frames >= 1 KiB; `rill-lint --frame-report` prints the
/// exact sizes). The warning, at the coroutine's name, gives the estimate; one note per biggest
/// contributor (up to `MaxContributors`, default 3, each >= 1/16 of the frame or >= 1 KiB) says
/// how many bytes it adds. Options: FrameSizeThreshold (bytes), MaxContributors.
/// Like clippy's large_futures and GCC's -Wframe-larger-than=. Thread-compatible.
class LargeFrameCheck : public clang::tidy::ClangTidyCheck {
 public:
  /// Standard clang-tidy check constructor; reads the options.
  LargeFrameCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  /// Matches every function definition whose body is a coroutine body.
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  /// Estimates one coroutine's frame and reports it when above the threshold.
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  /// Coroutines need C++20.
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override;
  /// Writes FrameSizeThreshold / MaxContributors back to the configuration.
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  uint64_t FrameSizeThreshold;
  unsigned MaxContributors;
  /// Diagnostics already emitted (location, name, size): template instantiations with identical
  /// frames (e.g. a generic lambda's) share one report.
  llvm::StringSet<> Reported;
  /// For the reporting filters (header filter, system headers), read per translation unit.
  clang::tidy::ClangTidyContext* TidyContext;
  /// True when a diagnostic at \p Loc could be shown: clang-tidy keeps a diagnostic when it or
  /// one of its notes is in the main file or in a header passing the header filter. Checked
  /// before the (costly) estimate, so coroutines in other headers are skipped.
  bool mayReportAt(clang::SourceLocation Loc, const clang::SourceManager& SM) const;
  /// The compiled header filters (pattern, regex), cached across translation units.
  mutable std::optional<std::pair<std::string, llvm::Regex>> HeaderFilter, ExcludeHeaderFilter;
};

}  // namespace rill::lint
