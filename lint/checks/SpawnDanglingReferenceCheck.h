// rill-spawn-dangling-reference: a spawned task that refers to the spawner's locals.
#pragma once

#include <clang-tidy/ClangTidyCheck.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>

#include <memory>
#include <string>
#include <vector>

namespace rill::lint {

/// Flags a spawn (rill::spawn, JoinSet::spawn, TaskTracker::spawn, task::Builder::spawn,
/// spawn_blocking, ...) whose task refers to storage of the spawner that dies before the task
/// may run: a reference, pointer or view parameter (std::string_view, std::span, a class with a
/// reference member) of the spawned coroutine bound to a local, a by-value parameter or a
/// temporary of the spawner; `this` of a member coroutine called on a local object; a lambda
/// that captures such locals by reference; a capturing coroutine lambda called on a temporary
/// closure. A spawned task outlives its spawner (Tokio requires 'static; C++ compiles it).
///
/// Not reported: statics and globals, the spawner's reference parameters (their referent belongs
/// to the caller), copies and moves into by-value parameters, `this` of the spawner, and a
/// spawn whose JoinHandle (or JoinSet / TaskTracker / vector of handles) is co_awaited later in
/// the scope of the referent (`co_await rill::spawn(f(x))`, `co_await h`,
/// `co_await set.join_next()`, `co_await rill::join_all(std::move(hs))`).
///
/// Options:
///  - SpawnFunctions (string, default: rill's spawn functions and spawn_blocking): ';'-separated
///    qualified names of functions and methods whose first argument is a task (or callable)
///    that outlives the call.
///  - ViewTypes (string, default "std::basic_string_view;std::span"): ';'-separated qualified
///    class names that refer to storage they do not own.
///  - JoinMethods (string, default "join;join_all;join_next;wait;shutdown"): methods of the
///    handle / set / tracker that, co_awaited, wait for the spawned tasks.
///  - TaskOwners (string, default "rill::Runtime;rill::runtime::Runtime"): classes whose
///    destructor destroys the tasks spawned on them; a spawn on a local of such a class declared
///    after the referent is not reported.
///
/// Thread-compatible (one instance per clang-tidy run).
class SpawnerParents;

class SpawnDanglingReferenceCheck : public clang::tidy::ClangTidyCheck {
 public:
  SpawnDanglingReferenceCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context);
  bool isLanguageVersionSupported(const clang::LangOptions& LangOpts) const override {
    return LangOpts.CPlusPlus;
  }
  void registerMatchers(clang::ast_matchers::MatchFinder* Finder) override;
  void check(const clang::ast_matchers::MatchFinder::MatchResult& Result) override;
  ~SpawnDanglingReferenceCheck() override;
  void onStartOfTranslationUnit() override;
  void onEndOfTranslationUnit() override;
  void storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) override;

 private:
  std::string SpawnFunctionsOption;
  std::string ViewTypesOption;
  std::string JoinMethodsOption;
  std::string TaskOwnersOption;
  std::vector<std::string> SpawnFunctions;
  std::vector<std::string> ViewTypes;
  std::vector<std::string> JoinMethods;
  std::vector<std::string> TaskOwners;
  /// Raw encodings of locations already reported (template instantiations share locations).
  llvm::DenseSet<unsigned> Reported;

  /// A function or lambda whose traversal has begun, with its extent (expansion locations).
  struct Scope {
    clang::FileID File;
    unsigned Begin = 0, End = 0;
    const clang::FunctionDecl* Fn = nullptr;  ///< the function, or the lambda's call operator
  };
  /// The functions and lambdas around the node being matched, outermost first: the matchers
  /// see them before their bodies, so the spawner is found without ASTContext::getParents()
  /// (whose first call maps the parents of the whole translation unit).
  std::vector<Scope> Scopes;
  /// Per-spawner parent maps (see SpawnDanglingReferenceCheck.cpp), for the current TU.
  llvm::DenseMap<const clang::FunctionDecl*, std::unique_ptr<SpawnerParents>> ParentsOf;

  void openScope(const clang::SourceManager& SM, clang::SourceRange R,
                 const clang::FunctionDecl* Fn);
  /// The innermost open function or lambda whose body contains \p Call, or null.
  const clang::FunctionDecl* spawnerOf(clang::ASTContext& Ctx, const clang::CallExpr* Call);
  /// Drops the innermost scopes that do not hold offset \p Off of \p File (they have ended).
  void closeScopesBefore(clang::FileID File, unsigned Off);
  const SpawnerParents& parentsOf(clang::ASTContext& Ctx, const clang::FunctionDecl* Fn);
};

}  // namespace rill::lint
