// rill-discarded-awaitable implementation: statements of compound statements and of the bodies
// of if/loops whose value is an awaitable class.
#include "checks/DiscardedAwaitableCheck.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>

#include "analysis/Coroutine.h"
#include "analysis/Rules.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace rill::lint {

namespace {

/// Finds a member named \p Name in RD or its bases (depth-limited).
bool hasMemberNamed(const CXXRecordDecl* RD, llvm::StringRef Name, unsigned Depth = 0) {
  RD = RD ? RD->getDefinition() : nullptr;
  if (!RD || Depth > 4) return false;
  for (const Decl* D : RD->decls()) {
    const auto* ND = llvm::dyn_cast<NamedDecl>(D);
    if (!ND) continue;
    if (const auto* FT = llvm::dyn_cast<FunctionTemplateDecl>(ND)) ND = FT->getTemplatedDecl();
    if (ND->getIdentifier() && ND->getName() == Name) return true;
    if (Name == "operator co_await")
      if (const auto* FD = llvm::dyn_cast<FunctionDecl>(ND);
          FD && FD->getOverloadedOperator() == OO_Coawait)
        return true;
  }
  for (const CXXBaseSpecifier& B : RD->bases())
    if (hasMemberNamed(B.getType()->getAsCXXRecordDecl(), Name, Depth + 1)) return true;
  return false;
}

/// The nested promise_type of a coroutine return type, or null.
const CXXRecordDecl* promiseOf(const CXXRecordDecl* RD) {
  RD = RD ? RD->getDefinition() : nullptr;
  if (!RD) return nullptr;
  for (const Decl* D : RD->decls()) {
    const auto* ND = llvm::dyn_cast<NamedDecl>(D);
    if (!ND || !ND->getIdentifier() || ND->getName() != "promise_type") continue;
    if (const auto* TD = llvm::dyn_cast<TypedefNameDecl>(ND))
      return TD->getUnderlyingType()->getAsCXXRecordDecl();
    if (const auto* R = llvm::dyn_cast<CXXRecordDecl>(ND)) return R;
  }
  return nullptr;
}

/// An eager coroutine type: its promise's initial_suspend returns std::suspend_never.
bool isEagerTask(const CXXRecordDecl* Promise) {
  Promise = Promise ? Promise->getDefinition() : nullptr;
  if (!Promise) return false;
  for (const CXXMethodDecl* M : Promise->methods())
    if (M->getIdentifier() && M->getName() == "initial_suspend")
      if (const CXXRecordDecl* R = M->getReturnType()->getAsCXXRecordDecl())
        return qualifiedRecordName(R) == "std::suspend_never";
  return false;
}

}  // namespace

DiscardedAwaitableCheck::DiscardedAwaitableCheck(llvm::StringRef Name,
                                                 clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      IgnoredTypesOption(Options.get("IgnoredTypes", "")),
      IgnoredFunctionsOption(Options.get("IgnoredFunctions", "")),
      IgnoredTypes(splitRuleNames(IgnoredTypesOption)),
      IgnoredFunctions(splitRuleNames(IgnoredFunctionsOption)) {
  std::string Err;
  RulesPtr = getRules(*Context, &Err);
  if (!Err.empty()) configurationDiag("%0") << Err;
}

void DiscardedAwaitableCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "IgnoredTypes", IgnoredTypesOption);
  Options.store(Opts, "IgnoredFunctions", IgnoredFunctionsOption);
}

void DiscardedAwaitableCheck::registerMatchers(MatchFinder* Finder) {
  // Statements whose value is discarded: the children of a block, and the unbraced bodies of
  // if/for/while/do.
  auto Discarded = expr(unless(isInstantiationDependent())).bind("e");
  Finder->addMatcher(compoundStmt(forEach(Discarded)), this);
  Finder->addMatcher(ifStmt(anyOf(hasThen(Discarded), hasElse(Discarded))), this);
  Finder->addMatcher(forStmt(hasBody(Discarded)), this);
  Finder->addMatcher(whileStmt(hasBody(Discarded)), this);
  Finder->addMatcher(cxxForRangeStmt(hasBody(Discarded)), this);
  Finder->addMatcher(doStmt(hasBody(Discarded)), this);
}

void DiscardedAwaitableCheck::check(const MatchFinder::MatchResult& Result) {
  const auto* E = Result.Nodes.getNodeAs<Expr>("e");
  if (!E) return;
  const Expr* V = E->IgnoreImplicit()->IgnoreParens();
  if (const auto* EWC = llvm::dyn_cast<ExprWithCleanups>(V)) V = EWC->getSubExpr();
  V = V->IgnoreImplicit()->IgnoreParens();
  // Only the results of calls and constructions: a co_await / explicit (void) cast / variable
  // reference is not a discarded operation.
  const FunctionDecl* Callee = nullptr;
  if (const auto* CE = llvm::dyn_cast<CallExpr>(V))
    Callee = CE->getDirectCallee();
  else if (!llvm::isa<CXXConstructExpr, CXXTemporaryObjectExpr>(V))
    return;
  // A reference result (vec.emplace_back(task), a getter) refers to an awaitable stored
  // elsewhere: only a prvalue, destroyed at the end of the statement, is lost.
  if (!V->isPRValue()) return;
  if (Callee && Callee->getReturnType()->isReferenceType()) return;
  QualType T = V->getType();
  if (T.isNull() || T->isVoidType() || T->isReferenceType() || T->isPointerType()) return;
  const CXXRecordDecl* RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition()) return;
  std::string TypeName = qualifiedRecordName(RD);
  if (llvm::is_contained(IgnoredTypes, TypeName)) return;
  if (Callee) {
    std::string FN = qualifiedNameForRules(Callee);
    if (Rules::contains(RulesPtr->SpawnFunctions, FN) ||
        Rules::contains(RulesPtr->OffloadFunctions, FN) || llvm::is_contained(IgnoredFunctions, FN))
      return;
  }
  bool Awaiter = hasMemberNamed(RD, "await_ready") && hasMemberNamed(RD, "await_suspend") &&
                 hasMemberNamed(RD, "await_resume");
  bool CoAwait = hasMemberNamed(RD, "operator co_await");
  const CXXRecordDecl* Promise = promiseOf(RD);
  bool LazyTask = Promise && !isEagerTask(Promise);
  if (!Awaiter && !CoAwait && !LazyTask) return;
  if (Promise && isEagerTask(Promise)) return;  // an eager task already runs
  SourceLocation Loc = Result.SourceManager->getExpansionLoc(V->getBeginLoc());
  if (!Reported.insert(Loc.getRawEncoding()).second) return;
  PrintingPolicy P(Result.Context->getLangOpts());
  P.SuppressTagKeyword = true;
  std::string What = Callee ? "the result of '" + Callee->getQualifiedNameAsString() + "'"
                            : std::string("a temporary");
  // A generator (a lazy coroutine type that is a range, not an awaitable: std::generator,
  // cppcoro::generator, async_simple's Generator) is iterated, not awaited.
  if (LazyTask && !Awaiter && !CoAwait && hasMemberNamed(RD, "begin")) {
    diag(Loc,
         "%0 is a generator of type '%1' that is discarded without being iterated; its body never "
         "runs (iterate it, or drop the call)")
        << What << T.getCanonicalType().getUnqualifiedType().getAsString(P);
    return;
  }
  diag(Loc,
       "%0 is an awaitable of type '%1' that is discarded without co_await; the operation never "
       "runs (co_await it, or spawn it to run detached)")
      << What << T.getCanonicalType().getUnqualifiedType().getAsString(P);
}

}  // namespace rill::lint
