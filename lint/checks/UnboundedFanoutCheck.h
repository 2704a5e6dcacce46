// rill-unbounded-fanout: spawning without a bound on concurrency.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>

#include <llvm/ADT/DenseSet.h>

#include <memory>

namespace rill::lint {

struct Rules;

/// Flags (1) a spawn-like call (rules: spawn_functions) inside a loop whose trip count is not a
/// compile-time constant <= MaxConstantTripCount, unless concurrency is bounded (a semaphore
/// permit moved into the spawned task, a limited JoinSet), also inside a lambda run per element
/// by std::for_each / std::ranges::for_each and a std::thread emplaced into a container per item;
/// (2) a join_all over a container that is filled in such a loop or by std::transform /
/// std::ranges::transform over such a range; (3) the creation of an unbounded channel (also in
/// member initializers); (4) a concurrent algorithm (rill::for_each_concurrent) given a limit of
/// 0, which means no limit. Like Tokio's advice to bound fan-out with a Semaphore / JoinSet and to
/// prefer bounded mpsc channels.
///
/// Options:
///  - MaxConstantTripCount (unsigned, default 16): loops with a constant trip count up to this
///    are considered bounded.
///
/// Not thread-safe (one instance per TU, like every ClangTidyCheck).
class UnboundedFanoutCheck : public clang::tidy::ClangTidyCheck {
 public:
  UnboundedFanoutCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override {
    return LangOpts.CPlusPlus;
  }
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  void onStartOfTranslationUnit() override { Reported.clear(); }
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  std::shared_ptr<const Rules> RulesPtr;
  const unsigned MaxConstantTripCount;
  /// Raw encodings of locations already reported (template instantiations share locations).
  llvm::DenseSet<unsigned> Reported;
};

}  // namespace rill::lint
