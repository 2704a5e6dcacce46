// rill-discarded-awaitable: an awaitable (or lazy task) created and discarded without co_await.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>
#include <llvm/ADT/DenseSet.h>

#include <memory>
#include <string>
#include <vector>

namespace rill::lint {

struct Rules;

/// Flags an expression statement whose value is an awaitable and is thrown away:
/// `rill::sleep(5ms);`, `tx.send(1);`, `s.write_all(buf);`, `fetch(url);` where fetch returns a
/// lazy Task. The operation never happens: the awaitable (or the task's frame) is destroyed
/// unawaited. Rust's "futures do nothing unless you .await" (#[must_use] on Future).
///
/// An awaitable is any class with `await_ready`, `await_suspend` and `await_resume`, a member
/// `operator co_await`, or a coroutine return type (a nested `promise_type`) whose
/// `initial_suspend` does not return std::suspend_never (an eager task already runs).
/// Not reported: spawn-like functions of the rules (their handle may be dropped: the task is
/// detached, as with tokio::spawn), an explicit `(void)` / `static_cast<void>` discard, the
/// types and functions of the options.
///
/// Options:
///  - IgnoredTypes (string, default ""): ';'-separated qualified class names never reported.
///  - IgnoredFunctions (string, default ""): ';'-separated qualified function names whose
///    result may be discarded (added to the rules' spawn_functions).
///
/// Thread-compatible (one instance per clang-tidy run).
class DiscardedAwaitableCheck : public clang::tidy::ClangTidyCheck {
 public:
  DiscardedAwaitableCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override {
    return LangOpts.CPlusPlus20;
  }
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  std::shared_ptr<const Rules> RulesPtr;
  std::string IgnoredTypesOption;
  std::string IgnoredFunctionsOption;
  std::vector<std::string> IgnoredTypes;
  std::vector<std::string> IgnoredFunctions;
  llvm::DenseSet<unsigned> Reported;
};

}  // namespace rill::lint
