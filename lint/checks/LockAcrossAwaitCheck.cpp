#include "LockAcrossAwaitCheck.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include <clang/AST/ASTContext.h>
#include <clang/AST/Attr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Analysis/CFG.h>
#include <clang/Lex/Lexer.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringExtras.h>

#include "analysis/Coroutine.h"
#include "analysis/Rules.h"

namespace rill::lint {

using namespace clang;
using namespace clang::ast_matchers;

namespace {

void appendUnique(std::vector<std::string>& To, llvm::ArrayRef<std::string> From) {
  for (const std::string& S : From) {
    llvm::StringRef N = llvm::StringRef(S).trim();
    N.consume_front("::");
    if (N.empty()) continue;
    if (std::find(To.begin(), To.end(), N) == To.end()) To.push_back(N.str());
  }
}

std::vector<std::string> splitList(llvm::StringRef Value) {
  llvm::SmallVector<llvm::StringRef, 8> Parts;
  Value.split(Parts, ';', -1, false);
  std::vector<std::string> Out;
  for (llvm::StringRef P : Parts)
    if (!P.trim().empty()) Out.push_back(P.trim().str());
  return Out;
}

bool contains(const std::vector<std::string>& L, llvm::StringRef S) {
  return std::find(L.begin(), L.end(), S) != L.end();
}

/// What a tracked lock is.
enum class SiteKind { Guard, Manual, Temporary };

/// One place where a lock may be acquired: a guard variable, a lock() call or a guard temporary.
struct Site {
  SiteKind Kind;
  const VarDecl* Var = nullptr;  // Guard
  const Expr* Expr = nullptr;    // Manual: the lock() call; Temporary: the CXXBindTemporaryExpr
  std::string MutexKey;          // Manual: identity of the mutex expression
  std::string MutexText;         // for the message ("m", "this->m", "a, b")
  unsigned MutexCount = 0;
  SourceLocation Loc;
  bool Captured = false;  // a guard captured by a coroutine lambda (held when the body starts)
};

/// Held locks at a program point: site id -> held on every path (true) or some path (false).
using HeldSet = std::map<unsigned, bool>;

HeldSet join(const HeldSet& A, const HeldSet& B) {
  HeldSet Out;
  for (const auto& [K, Must] : A) {
    auto It = B.find(K);
    Out[K] = Must && It != B.end() && It->second;
  }
  for (const auto& [K, Must] : B)
    if (!A.count(K)) Out[K] = false;
  return Out;
}

/// A suspension point reached while a site was held.
struct Hit {
  const clang::Expr* Suspend;
  bool Must;
};

/// The dataflow for one coroutine body.
class HeldLockAnalysis {
 public:
  HeldLockAnalysis(ASTContext& Ctx, const LockVocabulary& V) : Ctx(Ctx), V(V) {}

  /// Runs the analysis; returns false when no CFG could be built.
  bool run(const FunctionDecl* FD, Stmt* Body) {
    CFG::BuildOptions Opts;
    Opts.AddImplicitDtors = true;
    Opts.AddTemporaryDtors = true;
    Opts.AddInitializers = false;
    Opts.setAllAlwaysAdd();
    Cfg = CFG::buildCFG(FD, Body, &Ctx, Opts);
    if (!Cfg) return false;
    // Guard temporaries that the CFG destroys at the end of their full-expression; others are
    // elided into a variable (C++17 guaranteed elision) or lifetime-extended and are tracked
    // through that variable instead.
    for (const CFGBlock* B : *Cfg)
      for (const CFGElement& El : *B)
        if (auto D = El.getAs<CFGTemporaryDtor>()) DestroyedTemps.insert(D->getBindTemporaryExpr());

    // Clang numbers blocks backwards (the entry has the highest id), so descending ids is close
    // to a forward order; the loop below iterates to a fixpoint anyway. (llvm's RPO traversal
    // cannot be used: CFG successor lists contain null entries for pruned edges.)
    std::vector<const CFGBlock*> Order;
    for (const CFGBlock* B : *Cfg)
      if (B) Order.push_back(B);
    std::sort(Order.begin(), Order.end(), [](const CFGBlock* L, const CFGBlock* R) {
      return L->getBlockID() > R->getBlockID();
    });
    llvm::DenseMap<const CFGBlock*, HeldSet> Out;
    llvm::DenseSet<const CFGBlock*> Done;
    bool Changed = true;
    unsigned Rounds = 0;
    while (Changed && Rounds++ < 64) {
      Changed = false;
      for (const CFGBlock* B : Order) {
        std::optional<HeldSet> MaybeIn = inState(B, Out, Done);
        if (!MaybeIn) continue;  // not reached (yet): bottom, contributes nothing to joins
        HeldSet In = std::move(*MaybeIn);
        transferBlock(*B, In, /*Record=*/false);
        auto It = Out.find(B);
        if (!Done.count(B) || It == Out.end() || It->second != In) {
          Out[B] = std::move(In);
          Done.insert(B);
          Changed = true;
        }
      }
    }
    for (const CFGBlock* B : Order) {
      std::optional<HeldSet> In = inState(B, Out, Done);
      if (In) transferBlock(*B, *In, /*Record=*/true);
    }
    return true;
  }

  std::vector<Site> Sites;
  std::map<unsigned, std::vector<Hit>> Hits;

  /// A guard captured by a coroutine lambda (\p VD: the init-capture, or the variable captured
  /// by reference): held when the lambda's body starts (\p Must: on every path to the capture).
  void seedCaptured(const VarDecl* VD, SourceLocation Loc, bool Must, const std::string& Mutex,
                    unsigned MutexCount) {
    unsigned Id = siteFor(VD);
    Sites[Id].Loc = Loc;
    Sites[Id].Captured = true;
    Sites[Id].MutexText = Mutex;
    Sites[Id].MutexCount = MutexCount;
    Entry[Id] = Must;
  }

  /// Probe: the locks held just before any of \p Stmts (a lambda expression and its capture
  /// initializers) is evaluated, as (guard variable -> held on every path). Set before run().
  llvm::DenseSet<const Stmt*> ProbeStmts;
  std::optional<HeldSet> ProbeState;
  /// A guard's mutex text and count, for the message of a captured guard.
  const Site* siteOf(const VarDecl* VD) const {
    auto It = VarSite.find(VD);
    return It == VarSite.end() ? nullptr : &Sites[It->second];
  }
  bool tracked(QualType T) const { return isTrackedType(T); }
  /// The init classification of a capture, exposed for the lambda case.
  bool initHolds(const VarDecl* VD, std::string& Mutex, unsigned& Count) {
    Site Tmp;
    InitResult R = classifyInit(VD->getInit(), Tmp);
    Mutex = Tmp.MutexText;
    Count = Tmp.MutexCount;
    return R.Kind == InitKind::Held;
  }
  /// `std::move(x)` (through the guard's move constructor): the variable x, else null.
  static const VarDecl* movedFrom(const Expr* Init) {
    const Expr* E = strip(Init);
    if (const auto* CE = dyn_cast_or_null<CXXConstructExpr>(E);
        CE && CE->getNumArgs() == 1 && CE->getConstructor()->isMoveConstructor())
      E = CE->getArg(0)->IgnoreParenImpCasts();
    if (const auto* Call = dyn_cast_or_null<CallExpr>(E)) {
      const FunctionDecl* F = Call->getDirectCallee();
      if (F && Call->getNumArgs() == 1 && F->isInStdNamespace() && F->getIdentifier() &&
          (F->getName() == "move" || F->getName() == "forward"))
        E = Call->getArg(0)->IgnoreParenImpCasts();
      else
        return nullptr;
    } else if (!E || !isa<CXXStaticCastExpr>(E)) {
      return nullptr;
    } else {
      E = cast<CXXStaticCastExpr>(E)->getSubExpr()->IgnoreParenImpCasts();
    }
    const auto* DRE = dyn_cast<DeclRefExpr>(E);
    return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  }

 private:
  /// Join of the predecessors' out-states; nullopt when no predecessor has been reached (the
  /// entry block starts with nothing held).
  std::optional<HeldSet> inState(const CFGBlock* B,
                                 const llvm::DenseMap<const CFGBlock*, HeldSet>& Out,
                                 const llvm::DenseSet<const CFGBlock*>& Done) {
    if (B == &Cfg->getEntry()) return Entry;
    bool First = true;
    HeldSet In;
    for (const CFGBlock::AdjacentBlock& P : B->preds()) {
      const CFGBlock* PB = P.getReachableBlock();
      if (!PB || !Done.count(PB)) continue;
      HeldSet S = Out.find(PB)->second;
      refineOnEdge(*PB, B, S);
      In = First ? S : join(In, S);
      First = false;
    }
    if (First) return std::nullopt;
    return In;
  }

  /// Branch refinement: on the edge where `m.try_lock()`, `g.owns_lock()`, `if (g)` or
  /// `opt.has_value()` is false, that lock is not held.
  void refineOnEdge(const CFGBlock& Pred, const CFGBlock* Succ, HeldSet& S) {
    const Stmt* Cond = Pred.getTerminatorCondition(/*StripParens=*/true);
    if (!Cond || Pred.succ_size() != 2) return;
    unsigned Index = 0, Which = 2;
    for (const CFGBlock::AdjacentBlock& A : Pred.succs()) {
      if (A.getReachableBlock() == Succ) Which = Index;
      ++Index;
    }
    if (Which == 2) return;
    bool FalseEdge = Which == 1;
    const auto* E = dyn_cast<Expr>(Cond);
    while (E) {
      E = E->IgnoreParenImpCasts();
      if (const auto* EWC = dyn_cast<ExprWithCleanups>(E)) {
        E = EWC->getSubExpr();
        continue;
      }
      if (const auto* UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_LNot) {
        FalseEdge = !FalseEdge;
        E = UO->getSubExpr();
        continue;
      }
      break;
    }
    if (!FalseEdge) return;
    const auto* MC = dyn_cast_or_null<CXXMemberCallExpr>(E);
    if (!MC || !MC->getMethodDecl()) return;
    const CXXMethodDecl* MD = MC->getMethodDecl();
    bool IsBool =
        isa<CXXConversionDecl>(MD) ||
        (MD->getIdentifier() && (MD->getName() == "owns_lock" || MD->getName() == "has_value" ||
                                 MD->getName().starts_with("try_lock")));
    if (!IsBool) return;
    auto EIt = ExprSite.find(MC);  // manual m.try_lock*()
    if (EIt != ExprSite.end()) {
      S.erase(EIt->second);
      return;
    }
    if (const VarDecl* VD = rootTrackedVar(MC->getImplicitObjectArgument())) S.erase(VarSite[VD]);
  }

  // ---- type classification -------------------------------------------------------------

  bool isAsyncSafe(const CXXRecordDecl* RD) const {
    return RD && matchesQualifiedName(qualifiedRecordName(RD), V.AsyncSafeTypes);
  }
  /// A type a coroutine can await: it has await_ready or operator co_await, or is a coroutine
  /// return type (has a nested promise_type).
  static bool isAwaitableRecord(const CXXRecordDecl* RD, unsigned Depth = 0) {
    RD = RD ? RD->getDefinition() : nullptr;
    if (!RD || Depth > 4) return false;
    // Members inherited from a base count (async_simple's Lazy gets promise_type and
    // operator co_await from LazyBase).
    for (const CXXBaseSpecifier& B : RD->bases())
      if (isAwaitableRecord(B.getType()->getAsCXXRecordDecl(), Depth + 1)) return true;
    for (const Decl* D : RD->decls()) {
      const auto* ND = dyn_cast<NamedDecl>(D);
      if (!ND) continue;
      if (const auto* FT = dyn_cast<FunctionTemplateDecl>(ND)) ND = FT->getTemplatedDecl();
      if (ND->getIdentifier() && (ND->getName() == "await_ready" || ND->getName() == "promise_type"))
        return true;
      if (const auto* FD = dyn_cast<FunctionDecl>(ND);
          FD && FD->getOverloadedOperator() == OO_Coawait)
        return true;
    }
    return false;
  }
  /// An asynchronous mutex: not a known synchronous mutex, and its lock methods return something
  /// to co_await (coro::mutex::lock, async_simple's Mutex::coLock, folly's
  /// coro::Mutex::co_lock). A std guard over such a type does not block: std::unique_lock's
  /// constructor only discards the awaitable.
  bool isAsyncMutexRecord(const CXXRecordDecl* RD) const {
    RD = RD ? RD->getDefinition() : nullptr;
    if (!RD || isMutexRecord(RD)) return false;
    for (const CXXMethodDecl* MD : RD->methods()) {
      if (!MD->getIdentifier()) continue;
      llvm::StringRef N = MD->getName();
      if (!N.contains_insensitive("lock")) continue;
      if (isAwaitableRecord(getRecord(MD->getReturnType()))) return true;
    }
    return false;
  }
  /// A std guard template (std::unique_lock<M>, ...) whose mutex argument is asynchronous.
  bool guardsAsyncMutex(const CXXRecordDecl* RD) const {
    const auto* Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD);
    if (!Spec) return false;
    for (const TemplateArgument& A : Spec->getTemplateArgs().asArray()) {
      if (A.getKind() == TemplateArgument::Type && isAsyncMutexRecord(getRecord(A.getAsType())))
        return true;
      if (A.getKind() == TemplateArgument::Pack)
        for (const TemplateArgument& P : A.pack_elements())
          if (P.getKind() == TemplateArgument::Type &&
              isAsyncMutexRecord(getRecord(P.getAsType())))
            return true;
    }
    return false;
  }
  /// Does \p Body call a lock (or unlock) method of the vocabulary on a synchronous mutex that
  /// is a member of the class (`m_.lock()`, `mu_->lock()`, `pthread_mutex_lock(&mu_)`)?
  bool callsOnMemberMutex(const Stmt* Body, bool Unlock) const {
    if (!Body) return false;
    struct Finder : RecursiveASTVisitor<Finder> {
      const HeldLockAnalysis& A;
      bool Unlock;
      bool Found = false;
      Finder(const HeldLockAnalysis& A, bool U) : A(A), Unlock(U) {}
      static bool isMember(const Expr* E) {
        E = E->IgnoreParenImpCasts();
        if (const auto* UO = dyn_cast<UnaryOperator>(E)) E = UO->getSubExpr()->IgnoreParenImpCasts();
        return isa<MemberExpr>(E);
      }
      bool VisitCXXMemberCallExpr(CXXMemberCallExpr* MC) {
        const CXXMethodDecl* MD = MC->getMethodDecl();
        const Expr* Obj = MC->getImplicitObjectArgument();
        if (!MD || !MD->getIdentifier() || !Obj || !isMember(Obj)) return true;
        QualType T = Obj->getType();
        if (T->isPointerType()) T = T->getPointeeType();
        if (!A.isMutexRecord(getRecord(T))) return true;
        const auto& Names = Unlock ? A.V.UnlockMethods : A.V.LockMethods;
        if (contains(Names, MD->getName())) Found = true;
        return !Found;
      }
      bool VisitCallExpr(CallExpr* CE) {
        const FunctionDecl* FD = CE->getDirectCallee();
        if (!FD || !FD->getIdentifier() || CE->getNumArgs() < 1 || !isMember(CE->getArg(0)))
          return true;
        llvm::StringRef N = FD->getName();
        if (Unlock ? (N == "pthread_mutex_unlock" || N == "pthread_rwlock_unlock")
                   : (N == "pthread_mutex_lock" || N == "pthread_rwlock_wrlock" ||
                      N == "pthread_rwlock_rdlock"))
          Found = true;
        return !Found;
      }
    } F(*this, Unlock);
    F.TraverseStmt(const_cast<Stmt*>(Body));
    return F.Found;
  }
  /// A home-grown RAII guard: a class (not std) whose user-written constructor locks a member
  /// mutex and whose destructor unlocks it, whatever its name.
  bool isHomeGrownGuard(const CXXRecordDecl* RD) const {
    RD = RD ? RD->getDefinition() : nullptr;
    if (!RD || RD->isLambda() || qualifiedRecordName(RD).rfind("std::", 0) == 0) return false;
    const CXXDestructorDecl* D = RD->getDestructor();
    const FunctionDecl* DDef = D ? D->getDefinition() : nullptr;
    if (!DDef || !callsOnMemberMutex(DDef->getBody(), /*Unlock=*/true)) return false;
    for (const CXXConstructorDecl* C : RD->ctors()) {
      if (C->isCopyOrMoveConstructor() || C->isImplicit()) continue;
      const FunctionDecl* CDef = C->getDefinition();
      if (CDef && callsOnMemberMutex(CDef->getBody(), /*Unlock=*/false)) return true;
    }
    return false;
  }
  bool isGuardRecord(const CXXRecordDecl* RD) const {
    if (!RD || isAsyncSafe(RD)) return false;
    if (guardsAsyncMutex(RD)) return false;
    if (matchesQualifiedName(qualifiedRecordName(RD), V.LockTypes)) return true;
    if (isHomeGrownGuardCached(RD)) return true;
    if (RD->hasAttr<ScopedLockableAttr>()) return true;
    if (const auto* Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      if (Spec->getSpecializedTemplate()->getTemplatedDecl()->hasAttr<ScopedLockableAttr>())
        return true;
    return false;
  }
  bool isGuardType(QualType T) const {
    return !T->isReferenceType() && !T->isPointerType() && isGuardRecord(getRecord(T));
  }
  /// std::optional<Guard>.
  bool isOptionalGuard(QualType T) const {
    const auto* Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(getRecord(T));
    if (!Spec || T->isReferenceType() || qualifiedRecordName(Spec) != "std::optional") return false;
    const TemplateArgumentList& Args = Spec->getTemplateArgs();
    return Args.size() == 1 && Args[0].getKind() == TemplateArgument::Type &&
           isGuardType(Args[0].getAsType());
  }
  /// A user class with a (possibly nested or inherited) guard member held by value.
  bool isWrapperRecord(const CXXRecordDecl* RD, unsigned Depth = 0) const {
    if (!RD || Depth > 4 || !RD->hasDefinition() || isAsyncSafe(RD) || isGuardRecord(RD))
      return false;
    RD = RD->getDefinition();
    if (qualifiedRecordName(RD).rfind("std::", 0) == 0) return false;
    for (const FieldDecl* F : RD->fields()) {
      QualType FT = F->getType();
      if (FT->isReferenceType() || FT->isPointerType()) continue;
      if (isGuardType(FT) || isOptionalGuard(FT)) return true;
      if (isWrapperRecord(getRecord(FT), Depth + 1)) return true;
    }
    for (const CXXBaseSpecifier& B : RD->bases())
      if (isGuardRecord(getRecord(B.getType())) ||
          isWrapperRecord(getRecord(B.getType()), Depth + 1))
        return true;
    return false;
  }
  bool isTrackedType(QualType T) const {
    if (T.isNull() || T->isReferenceType() || T->isPointerType()) return false;
    return isGuardType(T) || isOptionalGuard(T) || isWrapperRecord(getRecord(T));
  }
  bool isMutexRecord(const CXXRecordDecl* RD) const {
    if (!RD) return false;
    if (matchesQualifiedName(qualifiedRecordName(RD), V.MutexTypes)) return true;
    return RD->hasAttr<CapabilityAttr>();
  }

  // ---- expression helpers ---------------------------------------------------------------

  static const Expr* strip(const Expr* E) {
    while (E) {
      const Expr* Prev = E;
      E = E->IgnoreParenImpCasts();
      if (const auto* EWC = dyn_cast<ExprWithCleanups>(E)) E = EWC->getSubExpr();
      if (const auto* MTE = dyn_cast<MaterializeTemporaryExpr>(E)) E = MTE->getSubExpr();
      if (const auto* BTE = dyn_cast<CXXBindTemporaryExpr>(E)) E = BTE->getSubExpr();
      if (const auto* FC = dyn_cast<CXXFunctionalCastExpr>(E)) E = FC->getSubExpr();
      if (const auto* CE = dyn_cast<CXXConstructExpr>(E))
        if (CE->isElidable() && CE->getNumArgs() == 1) E = CE->getArg(0);
      if (E == Prev) break;
    }
    return E;
  }

  /// `std::move(x)` / `static_cast<T&&>(x)` / `x` -> the local variable x, if it is tracked.
  const VarDecl* movedVar(const Expr* E, bool RequireMove) const {
    E = E ? E->IgnoreParenImpCasts() : nullptr;
    bool IsMove = false;
    if (const auto* Call = dyn_cast_or_null<CallExpr>(E)) {
      const auto* Callee = Call->getDirectCallee();
      if (Callee && Call->getNumArgs() == 1 && Callee->isInStdNamespace() &&
          (Callee->getName() == "move" || Callee->getName() == "forward")) {
        E = Call->getArg(0)->IgnoreParenImpCasts();
        IsMove = true;
      }
    } else if (const auto* SC = dyn_cast_or_null<CXXStaticCastExpr>(E)) {
      if (SC->getType()->isRValueReferenceType() || SC->isXValue()) {
        E = SC->getSubExpr()->IgnoreParenImpCasts();
        IsMove = true;
      }
    }
    if (RequireMove && !IsMove) return nullptr;
    const auto* DRE = dyn_cast_or_null<DeclRefExpr>(E);
    const auto* VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    return VD && VarSite.count(VD) ? VD : nullptr;
  }

  std::string text(const Expr* E) const {
    if (!E) return {};
    CharSourceRange R = CharSourceRange::getTokenRange(E->getSourceRange());
    llvm::StringRef T = Lexer::getSourceText(R, Ctx.getSourceManager(), Ctx.getLangOpts());
    if (T.empty() || R.getBegin().isMacroID()) {
      std::string S;
      llvm::raw_string_ostream OS(S);
      E->printPretty(OS, nullptr, PrintingPolicy(Ctx.getLangOpts()));
      return S;
    }
    return T.str();
  }

  /// Identity of a mutex expression (decl-based so `m` and `(m)` agree).
  std::string mutexKey(const Expr* E) const {
    E = E->IgnoreParenImpCasts();
    if (const auto* DRE = dyn_cast<DeclRefExpr>(E))
      return "d" + std::to_string(reinterpret_cast<uintptr_t>(DRE->getDecl()->getCanonicalDecl()));
    if (const auto* ME = dyn_cast<MemberExpr>(E))
      return mutexKey(ME->getBase()) + "." +
             std::to_string(reinterpret_cast<uintptr_t>(ME->getMemberDecl()));
    if (isa<CXXThisExpr>(E)) return "this";
    if (const auto* UO = dyn_cast<UnaryOperator>(E))
      if (UO->getOpcode() == UO_Deref) return "*" + mutexKey(UO->getSubExpr());
    return "t" + text(E);
  }

  /// The local variable at the root of `w.g.h` (a tracked wrapper), or null.
  const VarDecl* rootTrackedVar(const Expr* E) const {
    E = E->IgnoreParenImpCasts();
    while (const auto* ME = dyn_cast<MemberExpr>(E))
      E = ME->getBase()->IgnoreParenImpCasts();
    const auto* DRE = dyn_cast<DeclRefExpr>(E);
    const auto* VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    return VD && VarSite.count(VD) ? VD : nullptr;
  }

  /// Collects mutex-like arguments of a guard constructor for the message.
  void describeMutexes(const CXXConstructExpr* CE, Site& S) const {
    std::vector<std::string> Names;
    for (const Expr* A : CE->arguments()) {
      const CXXRecordDecl* RD = getRecord(A->getType());
      if (RD) {
        std::string N = qualifiedRecordName(RD);
        if (N == "std::defer_lock_t" || N == "std::try_to_lock_t" || N == "std::adopt_lock_t" ||
            N == "std::in_place_t")
          continue;
      }
      // Mutexes are passed by reference or pointer; skip values (durations, time points).
      if (!A->isGLValue() && !A->getType()->isPointerType()) continue;
      if (isa<CXXDefaultArgExpr>(A)) continue;
      const Expr* Shown = A->IgnoreParenImpCasts();
      if (const auto* UO = dyn_cast<UnaryOperator>(Shown); UO && UO->getOpcode() == UO_AddrOf)
        Shown = UO->getSubExpr();
      Names.push_back(text(Shown));
    }
    if (S.MutexText.empty()) {
      S.MutexCount = Names.size();
      S.MutexText = llvm::join(Names, "', '");
    }
  }

  enum class InitKind { NotHeld, Held, Transfer };
  struct InitResult {
    InitKind Kind = InitKind::NotHeld;
    const VarDecl* From = nullptr;
  };

  /// Does the initializer of a tracked object acquire a lock? Fills the site's mutex text.
  InitResult classifyInit(const Expr* Init, Site& S, unsigned Depth = 0) {
    InitResult R;
    if (!Init || Depth > 6) return R;
    if (const VarDecl* From = movedVar(Init, /*RequireMove=*/true)) {
      R.Kind = InitKind::Transfer;
      R.From = From;
      return R;
    }
    const Expr* E = strip(Init);
    // `auto lk = co_await m.lock();`: a lock obtained by suspending is an asynchronous lock; it
    // is acquired after (not across) that co_await and is safe to hold across later ones.
    if (isa<CoawaitExpr, DependentCoawaitExpr, CoyieldExpr>(E)) return R;
    if (const VarDecl* From = movedVar(E, /*RequireMove=*/true)) {
      R.Kind = InitKind::Transfer;
      R.From = From;
      return R;
    }
    if (const auto* CE = dyn_cast<CXXConstructExpr>(E)) {
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      QualType T = CE->getType();
      if (Ctor->isCopyOrMoveConstructor() && CE->getNumArgs() >= 1) {
        if (const VarDecl* From = movedVar(CE->getArg(0), /*RequireMove=*/false)) {
          R.Kind = InitKind::Transfer;
          R.From = From;
          return R;
        }
        return classifyInit(CE->getArg(0), S, Depth + 1);
      }
      if (isGuardType(T)) {
        if (CE->getNumArgs() == 0) return R;
        describeMutexes(CE, S);  // also for deferred locks, which may be locked later
        for (const Expr* A : CE->arguments()) {
          const CXXRecordDecl* RD = getRecord(A->getType());
          if (RD && qualifiedRecordName(RD) == "std::defer_lock_t") return R;
        }
        // A guard constructed from another guard prvalue (e.g. optional's converting ctor).
        if (CE->getNumArgs() == 1 && isTrackedType(CE->getArg(0)->getType()))
          return classifyInit(CE->getArg(0), S, Depth + 1);
        describeMutexes(CE, S);
        R.Kind = InitKind::Held;
        return R;
      }
      if (isOptionalGuard(T)) {
        if (CE->getNumArgs() == 0) return R;
        const CXXRecordDecl* A0 = getRecord(CE->getArg(0)->getType());
        if (A0 && qualifiedRecordName(A0) == "std::nullopt_t") return R;
        if (A0 && qualifiedRecordName(A0) == "std::in_place_t") {
          describeMutexes(CE, S);
          R.Kind = InitKind::Held;
          return R;
        }
        return classifyInit(CE->getArg(0), S, Depth + 1);
      }
      // Wrapper: constructed with arguments -> its guard member holds them.
      if (CE->getNumArgs() > 0) {
        for (const Expr* A : CE->arguments()) {
          if (isTrackedType(A->getType())) {
            InitResult Inner = classifyInit(A, S, Depth + 1);
            if (Inner.Kind != InitKind::NotHeld) return Inner;
          }
        }
        describeMutexes(CE, S);
        R.Kind = InitKind::Held;
        return R;
      }
      // Default-constructed wrapper: look at member initializers and in-class initializers.
      for (const CXXCtorInitializer* CI : Ctor->inits()) {
        if (!CI->getMember() || !isTrackedType(CI->getMember()->getType())) continue;
        if (classifyInit(CI->getInit(), S, Depth + 1).Kind == InitKind::Held) {
          R.Kind = InitKind::Held;
          return R;
        }
      }
      return R;
    }
    if (const auto* ILE = dyn_cast<InitListExpr>(E)) {
      for (const Expr* I : ILE->inits()) {
        if (!isTrackedType(I->getType())) continue;
        InitResult Inner = classifyInit(I, S, Depth + 1);
        if (Inner.Kind != InitKind::NotHeld) return Inner;
      }
      return R;
    }
    if (const auto* PLE = dyn_cast<CXXParenListInitExpr>(E)) {
      for (const Expr* I : PLE->getInitExprs()) {
        if (!isTrackedType(I->getType())) continue;
        InitResult Inner = classifyInit(I, S, Depth + 1);
        if (Inner.Kind != InitKind::NotHeld) return Inner;
      }
      return R;
    }
    if (const auto* DIE = dyn_cast<CXXDefaultInitExpr>(E))
      return classifyInit(DIE->getExpr(), S, Depth + 1);
    if (const auto* Call = dyn_cast<CallExpr>(E)) {
      // A factory returning a guard by value (`auto g = make_lock(m)`): assume it holds.
      if (isGuardType(Call->getType()) || isWrapperRecord(getRecord(Call->getType()))) {
        if (S.MutexText.empty() && Call->getNumArgs() >= 1) {
          S.MutexText = text(Call->getArg(0));
          S.MutexCount = 1;
        }
        R.Kind = InitKind::Held;
      }
      return R;
    }
    return R;
  }

  unsigned siteFor(const VarDecl* VD) {
    auto It = VarSite.find(VD);
    if (It != VarSite.end()) return It->second;
    Site S;
    S.Kind = SiteKind::Guard;
    S.Var = VD;
    S.Loc = VD->getLocation();
    Sites.push_back(S);
    return VarSite[VD] = Sites.size() - 1;
  }
  unsigned siteFor(const Expr* E, SiteKind K) {
    auto It = ExprSite.find(E);
    if (It != ExprSite.end()) return It->second;
    Site S;
    S.Kind = K;
    S.Expr = E;
    S.Loc = E->getExprLoc();
    Sites.push_back(S);
    return ExprSite[E] = Sites.size() - 1;
  }

  void applyInit(unsigned Id, const InitResult& R, HeldSet& State,
                 llvm::DenseMap<const VarDecl*, std::optional<bool>>& Pending) {
    if (R.Kind == InitKind::Held) {
      State[Id] = true;
    } else if (R.Kind == InitKind::Transfer) {
      std::optional<bool> From;
      auto PIt = Pending.find(R.From);
      if (PIt != Pending.end()) {
        From = PIt->second;
      } else {
        auto SIt = State.find(VarSite[R.From]);
        if (SIt != State.end()) From = SIt->second;
      }
      State.erase(VarSite[R.From]);
      if (From) {
        State[Id] = *From;
        Site& Dst = Sites[Id];
        const Site& Src = Sites[VarSite[R.From]];
        if (Dst.MutexText.empty()) {
          Dst.MutexText = Src.MutexText;
          Dst.MutexCount = Src.MutexCount;
        }
      } else {
        State.erase(Id);
      }
    } else {
      State.erase(Id);
    }
  }

  /// `std::unique_lock g(m, std::adopt_lock)` takes over a lock acquired by a manual m.lock():
  /// from here on the guard is what holds it.
  void releaseAdopted(const Expr* Init, HeldSet& State) {
    const auto* CE = dyn_cast_or_null<CXXConstructExpr>(strip(Init));
    if (!CE || CE->getNumArgs() < 2) return;
    bool Adopt = false;
    for (const Expr* A : CE->arguments())
      if (const CXXRecordDecl* RD = getRecord(A->getType()))
        Adopt |= qualifiedRecordName(RD) == "std::adopt_lock_t";
    if (!Adopt) return;
    for (const Expr* A : CE->arguments()) {
      if (!isMutexRecord(getRecord(A->getType()))) continue;
      std::string Key = mutexKey(A);
      for (auto It = State.begin(); It != State.end();) {
        const Site& Si = Sites[It->first];
        if (Si.Kind == SiteKind::Manual && Si.MutexKey == Key)
          It = State.erase(It);
        else
          ++It;
      }
    }
  }

  // ---- transfer --------------------------------------------------------------------------

  void transferBlock(const CFGBlock& B, HeldSet& State, bool Record) {
    // Guards moved out by std::move(g) earlier in the same full-expression: their held state,
    // available to the declaration / assignment that receives them.
    llvm::DenseMap<const VarDecl*, std::optional<bool>> Pending;
    for (const CFGElement& El : B) {
      if (auto D = El.getAs<CFGAutomaticObjDtor>()) {
        auto It = VarSite.find(D->getVarDecl());
        if (It != VarSite.end()) State.erase(It->second);
        continue;
      }
      if (auto D = El.getAs<CFGLifetimeEnds>()) {
        auto It = VarSite.find(D->getVarDecl());
        if (It != VarSite.end()) State.erase(It->second);
        continue;
      }
      if (auto D = El.getAs<CFGTemporaryDtor>()) {
        auto It = ExprSite.find(D->getBindTemporaryExpr());
        if (It != ExprSite.end()) State.erase(It->second);
        continue;
      }
      auto CS = El.getAs<CFGStmt>();
      if (!CS) continue;
      const Stmt* S = CS->getStmt();
      transferStmt(S, State, Pending, Record);
    }
  }

  void transferStmt(const Stmt* S, HeldSet& State,
                    llvm::DenseMap<const VarDecl*, std::optional<bool>>& Pending, bool Record) {
    if (Record && !ProbeState && ProbeStmts.count(S)) ProbeState = State;
    if (isSuspensionPoint(S)) {
      if (Record)
        for (const auto& [Id, Must] : State)
          Hits[Id].push_back({cast<clang::Expr>(S), Must});
      return;
    }
    if (const auto* DS = dyn_cast<DeclStmt>(S)) {
      for (const Decl* D : DS->decls()) {
        const auto* VD = dyn_cast<VarDecl>(D);
        if (!VD || !VD->hasLocalStorage() || !isTrackedType(VD->getType())) continue;
        unsigned Id = siteFor(VD);
        InitResult R = classifyInit(VD->getInit(), Sites[Id]);
        applyInit(Id, R, State, Pending);
        releaseAdopted(VD->getInit(), State);
      }
      return;
    }
    // The guard is moved out here: std::move(g) / std::forward(g), or static_cast<G&&>(g).
    const VarDecl* MovedOut = nullptr;
    if (const auto* Call = dyn_cast<CallExpr>(S))
      MovedOut = movedVar(Call, /*RequireMove=*/true);
    else if (const auto* SC = dyn_cast<CXXStaticCastExpr>(S))
      MovedOut = movedVar(SC, /*RequireMove=*/true);
    if (MovedOut) {
      unsigned Id = VarSite[MovedOut];
      auto It = State.find(Id);
      Pending[MovedOut] =
          It == State.end() ? std::optional<bool>() : std::optional<bool>(It->second);
      State.erase(Id);
      return;
    }
    if (const auto* BTE = dyn_cast<CXXBindTemporaryExpr>(S)) {
      if (isGuardType(BTE->getType()) && DestroyedTemps.count(BTE)) {
        unsigned Id = siteFor(BTE, SiteKind::Temporary);
        InitResult R = classifyInit(BTE->getSubExpr(), Sites[Id]);
        applyInit(Id, R, State, Pending);
      }
      return;
    }
    if (const auto* OC = dyn_cast<CXXOperatorCallExpr>(S)) {
      if (OC->getOperator() == OO_Equal && OC->getNumArgs() == 2) {
        const Expr* L = OC->getArg(0)->IgnoreParenImpCasts();
        const auto* DRE = dyn_cast<DeclRefExpr>(L);
        const auto* VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
        if (VD && VarSite.count(VD)) {
          unsigned Id = VarSite[VD];
          const Expr* RHS = OC->getArg(1);
          const CXXRecordDecl* RR = getRecord(RHS->getType());
          if (RR && qualifiedRecordName(RR) == "std::nullopt_t") {
            State.erase(Id);
          } else {
            InitResult R = classifyInit(RHS, Sites[Id]);
            applyInit(Id, R, State, Pending);
          }
        }
      }
      return;
    }
    if (const auto* MC = dyn_cast<CXXMemberCallExpr>(S)) {
      const CXXMethodDecl* MD = MC->getMethodDecl();
      const Expr* Obj = MC->getImplicitObjectArgument();
      if (!MD || !Obj || !MD->getIdentifier()) return;
      llvm::StringRef Name = MD->getName();
      bool Acquire = contains(V.LockMethods, Name) || MD->hasAttr<AcquireCapabilityAttr>() ||
                     MD->hasAttr<TryAcquireCapabilityAttr>();
      bool Release = contains(V.UnlockMethods, Name) || MD->hasAttr<ReleaseCapabilityAttr>();
      QualType ObjT = Obj->getType();
      if (MC->getImplicitObjectArgument()->getType()->isPointerType())
        ObjT = ObjT->getPointeeType();
      // Calls on a tracked guard / optional<guard> / wrapper variable (or a member of it).
      if (const VarDecl* Root = rootTrackedVar(Obj)) {
        unsigned Id = VarSite[Root];
        bool OnOptional = isOptionalGuard(ObjT);
        if (Release || (isGuardType(ObjT) && Name == "release") ||
            (OnOptional && Name == "reset")) {
          State.erase(Id);
        } else if ((Acquire && isGuardType(ObjT)) || (OnOptional && Name == "emplace")) {
          State[Id] = true;
          if (OnOptional && Sites[Id].MutexText.empty() && MC->getNumArgs() >= 1) {
            Sites[Id].MutexText = text(MC->getArg(0));
            Sites[Id].MutexCount = 1;
          }
        }
        return;
      }
      // Manual locking of a mutex object.
      if (isMutexRecord(getRecord(ObjT)) && (Acquire || Release)) {
        std::string Key = mutexKey(Obj);
        if (Acquire) {
          unsigned Id = siteFor(MC, SiteKind::Manual);
          Sites[Id].MutexKey = Key;
          Sites[Id].MutexText = text(Obj);
          Sites[Id].MutexCount = 1;
          State[Id] = true;
        } else {
          for (auto It = State.begin(); It != State.end();) {
            const Site& Si = Sites[It->first];
            if (Si.Kind == SiteKind::Manual && Si.MutexKey == Key)
              It = State.erase(It);
            else
              ++It;
          }
        }
      }
      return;
    }
  }

  bool isHomeGrownGuardCached(const CXXRecordDecl* RD) const {
    auto It = HomeGrown.find(RD);
    if (It != HomeGrown.end()) return It->second;
    bool R = isHomeGrownGuard(RD);
    HomeGrown[RD] = R;
    return R;
  }

  ASTContext& Ctx;
  const LockVocabulary& V;
  HeldSet Entry;  ///< held at the entry block (guards captured by a coroutine lambda)
  mutable llvm::DenseMap<const CXXRecordDecl*, bool> HomeGrown;
  std::unique_ptr<CFG> Cfg;
  llvm::DenseMap<const VarDecl*, unsigned> VarSite;
  llvm::DenseMap<const clang::Expr*, unsigned> ExprSite;
  llvm::DenseSet<const CXXBindTemporaryExpr*> DestroyedTemps;
};

LockVocabulary defaultVocabulary() {
  LockVocabulary V;
  V.LockTypes = {"std::lock_guard", "std::unique_lock", "std::scoped_lock", "std::shared_lock"};
  V.MutexTypes = {"std::mutex",        "std::timed_mutex",        "std::recursive_mutex",
                  "std::shared_mutex", "std::shared_timed_mutex", "std::recursive_timed_mutex"};
  V.LockMethods = {
      "lock",        "try_lock",        "try_lock_for",        "try_lock_until",
      "lock_shared", "try_lock_shared", "try_lock_shared_for", "try_lock_shared_until"};
  V.UnlockMethods = {"unlock", "unlock_shared"};
  V.AsyncSafeTypes = {"rill::sync::MutexGuard",      "rill::sync::OwnedMutexGuard",
                      "rill::sync::RwLockReadGuard", "rill::sync::RwLockWriteGuard",
                      "rill::sync::SemaphorePermit", "rill::sync::OwnedSemaphorePermit"};
  return V;
}

}  // namespace

LockAcrossAwaitCheck::LockAcrossAwaitCheck(llvm::StringRef Name,
                                           clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      ExtraLockTypes(Options.get("LockTypes", "")),
      ExtraMutexTypes(Options.get("MutexTypes", "")),
      ExtraAsyncSafeTypes(Options.get("AsyncSafeTypes", "")),
      Vocab(defaultVocabulary()) {
  std::string Error;
  std::shared_ptr<const Rules> R = getRules(*Context, &Error);
  if (!Error.empty()) configurationDiag("%0") << Error;
  if (R) {
    appendUnique(Vocab.LockTypes, R->LockTypes);
    appendUnique(Vocab.MutexTypes, R->MutexTypes);
    appendUnique(Vocab.LockMethods, R->LockMethods);
    appendUnique(Vocab.UnlockMethods, R->UnlockMethods);
    appendUnique(Vocab.AsyncSafeTypes, R->AsyncSafeTypes);
  }
  appendUnique(Vocab.LockTypes, splitList(ExtraLockTypes));
  appendUnique(Vocab.MutexTypes, splitList(ExtraMutexTypes));
  appendUnique(Vocab.AsyncSafeTypes, splitList(ExtraAsyncSafeTypes));
  // Async-safe wins over a lock type listed in both.
  llvm::erase_if(Vocab.LockTypes,
                 [&](const std::string& T) { return contains(Vocab.AsyncSafeTypes, T); });
  // "release" on a guard means "no longer owned" and is handled per guard; never as an unlock of
  // a mutex (std::unique_lock::release leaves the mutex locked but we stop tracking it).
}

bool LockAcrossAwaitCheck::isLanguageVersionSupported(const LangOptions& LangOpts) const {
  return LangOpts.CPlusPlus20;
}

void LockAcrossAwaitCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "LockTypes", ExtraLockTypes);
  Options.store(Opts, "MutexTypes", ExtraMutexTypes);
  Options.store(Opts, "AsyncSafeTypes", ExtraAsyncSafeTypes);
}

void LockAcrossAwaitCheck::registerMatchers(MatchFinder* Finder) {
  Finder->addMatcher(functionDecl(isDefinition(), hasBody(coroutineBodyStmt())).bind("fn"), this);
}

/// A coroutine lambda that captures a guard holding a lock (`[lk = std::move(lk)]() -> Task<>`,
/// `[&lk]() -> Task<>`) holds it across every suspension of its body: the guard lives in the
/// closure (or the enclosing frame), not in the body. Whether it holds a lock where the lambda
/// is created is found by running the same analysis over the enclosing function up to the
/// lambda expression.
static void seedLambdaCaptures(const FunctionDecl* FD, ASTContext& Ctx,
                               const LockVocabulary& Vocab, HeldLockAnalysis& A) {
  const auto* MD = dyn_cast<CXXMethodDecl>(FD);
  if (!MD || !MD->getParent()->isLambda()) return;
  const CXXRecordDecl* Closure = MD->getParent();
  const auto* Parent = dyn_cast<FunctionDecl>(Closure->getDeclContext());
  if (!Parent || !Parent->hasBody()) return;
  Stmt* ParentBody = Parent->getBody();
  if (const auto* CB = dyn_cast<CoroutineBodyStmt>(ParentBody)) ParentBody = CB->getBody();
  struct Finder : RecursiveASTVisitor<Finder> {
    const CXXRecordDecl* Closure;
    LambdaExpr* Found = nullptr;
    bool VisitLambdaExpr(LambdaExpr* LE) {
      if (LE->getLambdaClass() == Closure) Found = LE;
      return !Found;
    }
  } F{{}, Closure};
  F.TraverseStmt(ParentBody);
  const LambdaExpr* LE = F.Found;
  if (!LE) return;
  // Candidate guards: init-captures of a guard type, and guards captured by reference.
  struct Cand {
    const VarDecl* Var;    // what the body refers to
    const VarDecl* Outer;  // the enclosing function's guard that decides "held"
    bool FreshHeld;        // an init-capture constructing a holding guard
    SourceLocation Loc;
    std::string Mutex;  // FreshHeld: the mutex text
    unsigned Count = 0;
  };
  std::vector<Cand> Cands;
  for (const LambdaCapture& C : LE->captures()) {
    if (!C.capturesVariable()) continue;
    const auto* V = dyn_cast<VarDecl>(C.getCapturedVar());
    if (!V || !A.tracked(V->getType())) continue;
    if (V->isInitCapture()) {
      if (const VarDecl* From = HeldLockAnalysis::movedFrom(V->getInit())) {
        Cands.push_back({V, From, false, C.getLocation(), {}, 0});
        continue;
      }
      std::string Mutex;
      unsigned Count = 0;
      if (A.initHolds(V, Mutex, Count))
        Cands.push_back({V, nullptr, true, C.getLocation(), Mutex, Count});
    } else if (C.getCaptureKind() == LCK_ByRef) {
      Cands.push_back({V, V, false, C.getLocation(), {}, 0});
    }
  }
  if (Cands.empty()) return;
  // The enclosing function's state where the lambda (and its capture initializers) is evaluated.
  HeldLockAnalysis P(Ctx, Vocab);
  struct Collect : RecursiveASTVisitor<Collect> {
    llvm::DenseSet<const Stmt*>& Out;
    explicit Collect(llvm::DenseSet<const Stmt*>& O) : Out(O) {}
    bool VisitStmt(Stmt* S) {
      Out.insert(S);
      return true;
    }
    bool TraverseLambdaExpr(LambdaExpr* L) {
      Out.insert(L);
      for (Expr* Init : L->capture_inits())
        if (Init) TraverseStmt(Init);
      return true;
    }
  } C(P.ProbeStmts);
  C.TraverseStmt(const_cast<LambdaExpr*>(LE));
  if (!P.run(Parent, ParentBody) || !P.ProbeState) return;
  for (const Cand& Ca : Cands) {
    std::optional<bool> Must;
    std::string Mutex;
    unsigned Count = 0;
    if (Ca.FreshHeld) {
      Must = true;
      Mutex = Ca.Mutex;
      Count = Ca.Count;
    } else if (const Site* S = P.siteOf(Ca.Outer)) {
      for (const auto& [Id, M] : *P.ProbeState)
        if (P.Sites[Id].Var == Ca.Outer) Must = M;
      Mutex = S->MutexText;
      Count = S->MutexCount;
    }
    if (Must) A.seedCaptured(Ca.Var, Ca.Loc, *Must, Mutex, Count);
  }
}

void LockAcrossAwaitCheck::check(const MatchFinder::MatchResult& Result) {
  const auto* FD = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  const CoroutineBodyStmt* CBS = getCoroutineBody(FD);
  if (!CBS || !CBS->getBody()) return;
  llvm::SmallVector<const clang::Expr*, 8> Suspends;
  collectSuspensionPoints(CBS->getBody(), Suspends);
  if (Suspends.empty()) return;

  HeldLockAnalysis A(*Result.Context, Vocab);
  seedLambdaCaptures(FD, *Result.Context, Vocab, A);
  if (!A.run(FD, CBS->getBody())) return;

  const SourceManager& SM = *Result.SourceManager;
  std::string Coro = coroutineDisplayName(FD);
  std::vector<unsigned> Ids;
  for (const auto& [Id, H] : A.Hits)
    if (!H.empty()) Ids.push_back(Id);
  std::sort(Ids.begin(), Ids.end(), [&](unsigned L, unsigned R) {
    return SM.isBeforeInTranslationUnit(A.Sites[L].Loc, A.Sites[R].Loc);
  });

  for (unsigned Id : Ids) {
    const Site& S = A.Sites[Id];
    SourceLocation Loc = SM.getExpansionLoc(S.Loc);
    if (!Reported.insert(Loc.getRawEncoding()).second) continue;
    std::vector<Hit> Hits = A.Hits[Id];
    std::sort(Hits.begin(), Hits.end(), [&](const Hit& L, const Hit& R) {
      return SM.isBeforeInTranslationUnit(L.Suspend->getBeginLoc(), R.Suspend->getBeginLoc());
    });
    Hits.erase(std::unique(Hits.begin(), Hits.end(),
                           [](const Hit& L, const Hit& R) { return L.Suspend == R.Suspend; }),
               Hits.end());
    bool Must = std::any_of(Hits.begin(), Hits.end(), [](const Hit& H) { return H.Must; });
    std::string What;
    switch (S.Kind) {
      case SiteKind::Guard:
        What = "lock '" + S.Var->getNameAsString() + "'";
        if (!S.MutexText.empty())
          What += (S.MutexCount > 1 ? " on mutexes '" : " on mutex '") + S.MutexText + "'";
        if (S.Captured) What += " captured by the coroutine lambda";
        break;
      case SiteKind::Temporary:
        What = "temporary lock";
        if (!S.MutexText.empty())
          What += (S.MutexCount > 1 ? " on mutexes '" : " on mutex '") + S.MutexText + "'";
        break;
      case SiteKind::Manual:
        What = "mutex '" + S.MutexText + "' locked here";
        break;
    }
    std::string Fix =
        S.Kind == SiteKind::Manual ? "unlock it before co_await" : "release it before co_await";
    // The advice follows the code: rill's mutex where rill is used, else the runtime's own.
    bool UsesRill = !Result.Context->getTranslationUnitDecl()
                         ->lookup(&Result.Context->Idents.get("rill"))
                         .empty();
    diag(Loc, "%0 %1 held across a suspension point in coroutine '%2'%3; %4 or use %5")
        << What << (Must ? "is" : "may be") << Coro << (Must ? "" : " on some paths") << Fix
        << (UsesRill ? "rill::sync::Mutex" : "the runtime's async mutex");
    for (const Hit& H : Hits) {
      const auto* Suspend = H.Suspend;
      llvm::StringRef Kw = isa<CoyieldExpr>(Suspend) ? "co_yield" : "co_await";
      diag(SM.getExpansionLoc(Suspend->getBeginLoc()), "%0 here while the lock %1 held",
           clang::DiagnosticIDs::Note)
          << Kw << (H.Must ? "is" : "may be");
    }
  }
}

}  // namespace rill::lint
