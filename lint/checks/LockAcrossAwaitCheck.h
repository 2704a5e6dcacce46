// rill-lock-across-await: a synchronous lock that may be held when a coroutine suspends.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>
#include <llvm/ADT/DenseSet.h>

#include <string>
#include <vector>

namespace rill::lint {

/// The lock vocabulary used by LockAcrossAwaitCheck: built-in defaults merged with the rules
/// files (Rules::LockTypes, LockMethods, UnlockMethods, MutexTypes, AsyncSafeTypes) and the
/// check's own options. All names are fully qualified without a leading "::" (classes) or
/// unqualified (methods).
struct LockVocabulary {
  /// RAII guard classes that own a lock while alive (std::lock_guard, std::unique_lock, ...).
  std::vector<std::string> LockTypes;
  /// Synchronous mutex classes whose lock()/unlock() calls are tracked (std::mutex, ...).
  std::vector<std::string> MutexTypes;
  /// Method names that acquire (lock, lock_shared, try_lock, ...).
  std::vector<std::string> LockMethods;
  /// Method names that release (unlock, unlock_shared).
  std::vector<std::string> UnlockMethods;
  /// Guard classes that are safe across co_await (rill::sync::MutexGuard, ...); never flagged.
  std::vector<std::string> AsyncSafeTypes;
};

/// Flags a synchronous lock that may still be held when a coroutine suspends (`co_await`,
/// `co_yield`; not the implicit initial/final suspends). The analysis is a forward dataflow
/// over the clang::CFG of each coroutine body (functions, member functions, template
/// instantiations, coroutine lambdas) tracking the set of held locks per program point:
/// RAII guards (std::lock_guard/unique_lock/scoped_lock/shared_lock, CTAD forms, guards in
/// if/for/switch init statements, std::optional<guard>, user structs with a guard member,
/// `[[clang::scoped_lockable]]` classes, guard temporaries) and manual `m.lock()` ... `m.unlock()`
/// on std mutexes or `[[clang::capability]]` classes. A lock is released by unlock()/release(),
/// moving the guard away, optional::reset()/`= std::nullopt`, or its destructor at scope end.
///
/// Diagnostic: a warning at the guard declaration (or at the lock() call) saying the lock "is
/// held" (held on every path reaching a suspension point) or "may be held" (on some paths), with
/// one note per suspension point reached while it is held.
///
/// Options: `LockTypes`, `MutexTypes`, `AsyncSafeTypes` (';'-separated qualified names added to
/// the defaults and rules). Like clang-tidy's misc-coroutine-hostile-raii and
/// cppcoreguidelines-no-suspend-with-lock, but flow-sensitive and wider. Thread-compatible: one
/// instance per clang-tidy run.
class LockAcrossAwaitCheck : public clang::tidy::ClangTidyCheck {
 public:
  /// Standard clang-tidy check constructor; loads the rules (reports a configuration error if a
  /// rules file is broken and continues with the built-in rules).
  LockAcrossAwaitCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  /// Matches every function definition whose body is a coroutine body.
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  /// Runs the held-lock dataflow on one coroutine and emits diagnostics.
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  /// Coroutines need C++20.
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override;
  /// Writes LockTypes / MutexTypes / AsyncSafeTypes back to the configuration.
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  std::string ExtraLockTypes;
  std::string ExtraMutexTypes;
  std::string ExtraAsyncSafeTypes;
  LockVocabulary Vocab;
  /// Raw encodings of locations already reported (template instantiations share a pattern).
  llvm::DenseSet<unsigned> Reported;
};

}  // namespace rill::lint
