// rill-blocking-call: a blocking call (sleep, file I/O, DNS, password hashing, ...) made from a
// coroutine body, directly or through helper functions of the same translation unit.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>

#include <memory>

namespace rill::lint {

struct Rules;
class BlockingAnalysis;

/// Flags calls to blocking functions (from the rules) inside coroutine bodies, except inside
/// callables handed to offload functions (rill::spawn_blocking, rill::block_in_place, ...).
/// Calls to TU-local functions that may block (any depth over the TU's call graph) are reported
/// at the call in the coroutine with one note per hop. Mirrors clang-tidy's check structure;
/// the idea is Tokio's "don't block the executor" rule (tokio::task::spawn_blocking docs).
///
/// Options:
///  - Strict (bool, default false): also report rules marked `strict: true`
///    (e.g. std::mutex::lock).
///  - Transitive (bool, default true): follow calls into functions defined in the TU.
///  - Logging (bool, default false): also report console logging (rules marked
///    `logging: true`: printf, puts, fprintf/fputs/fwrite to stdout/stderr, std::cout/cerr/clog,
///    fmt::print, std::print, syslog) and blocking calls reached through a logging library's
///    entry point (rules: `logging_functions`; spdlog, easylog, glog, ...), named in the message.
///
/// When one call reaches several blocking calls, the most telling is named: a path outside
/// logging libraries first, then the highest rule `priority` (deadlocks, joins and waits, sleeps,
/// ..., file I/O, CPU-heavy work, Strict-only calls, console logging). Socket/fd calls in a
/// function whose caller (at most two calls up) handles would-block results (EAGAIN,
/// `status.try_again()`, ...) are on a non-blocking fd and not reported.
///
/// Not thread-safe (one instance per TU, like every ClangTidyCheck).
class BlockingCallCheck : public clang::tidy::ClangTidyCheck {
 public:
  BlockingCallCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  ~BlockingCallCheck() override;
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override {
    return LangOpts.CPlusPlus20;
  }
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  void onEndOfTranslationUnit() override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  std::shared_ptr<const Rules> RulesPtr;
  const bool Strict;
  const bool Transitive;
  const bool Logging;
  std::unique_ptr<BlockingAnalysis> Analysis;
};

}  // namespace rill::lint
