// rill-unbounded-fanout implementation: one RecursiveASTVisitor pass per function body with a
// stack of enclosing loops (each classified bounded/unbounded once, when entered).
#include "checks/UnboundedFanoutCheck.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <llvm/ADT/DenseMap.h>

#include <optional>

#include "analysis/Coroutine.h"
#include "analysis/Rules.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace rill::lint {
namespace {

const CXXRecordDecl* recordOf(QualType T) {
  if (T.isNull()) return nullptr;
  if (const auto* PT = T->getAs<PointerType>()) T = PT->getPointeeType();
  T = T.getNonReferenceType();
  if (const auto* RD = T->getAsCXXRecordDecl()) return RD;
  if (const auto* TST = T->getAs<TemplateSpecializationType>())
    if (const auto* TD = TST->getTemplateName().getAsTemplateDecl())
      return llvm::dyn_cast_or_null<CXXRecordDecl>(TD->getTemplatedDecl());
  return nullptr;
}
/// Strips std::move / std::forward, implicit casts, temporaries and parentheses.
const Expr* stripMoves(const Expr* E) {
  while (E) {
    E = E->IgnoreImplicit()->IgnoreParens();
    if (const auto* MT = llvm::dyn_cast<MaterializeTemporaryExpr>(E)) {
      E = MT->getSubExpr();
      continue;
    }
    if (const auto* CE = llvm::dyn_cast<CallExpr>(E)) {
      if (const auto* FD = CE->getDirectCallee())
        if (FD->isInStdNamespace() && (FD->getName() == "move" || FD->getName() == "forward") &&
            CE->getNumArgs() == 1) {
          E = CE->getArg(0);
          continue;
        }
    }
    if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(E))
      if (CE->getNumArgs() == 1 && CE->getConstructor()->isCopyOrMoveConstructor()) {
        E = CE->getArg(0);
        continue;
      }
    return E;
  }
  return E;
}

const VarDecl* referencedVar(const Expr* E) {
  if (const auto* DRE = llvm::dyn_cast_or_null<DeclRefExpr>(stripMoves(E)))
    return llvm::dyn_cast<VarDecl>(DRE->getDecl());
  return nullptr;
}

/// Finds, in an expression tree (including lambda captures and bodies), a reference to a permit
/// variable or a call to a permit-acquiring function.
class PermitFinder : public RecursiveASTVisitor<PermitFinder> {
 public:
  PermitFinder(const Rules& R, const llvm::DenseSet<const VarDecl*>& Permits)
      : R(R), Permits(Permits) {}
  bool Found = false;
  bool VisitDeclRefExpr(DeclRefExpr* DRE) {
    if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
      if (Permits.contains(VD) || isPermitType(VD->getType())) Found = true;
    return !Found;
  }
  bool VisitCallExpr(CallExpr* CE) {
    if (const auto* FD = CE->getDirectCallee())
      if (Rules::contains(R.PermitAcquireFunctions, qualifiedNameForRules(FD))) Found = true;
    return !Found;
  }
  bool TraverseLambdaExpr(LambdaExpr* LE) {
    // Captures (incl. init-captures `p = std::move(permit)`) move the permit into the task.
    for (const LambdaCapture& C : LE->captures())
      if (C.capturesVariable())
        if (const auto* VD = llvm::dyn_cast<VarDecl>(C.getCapturedVar()))
          if (Permits.contains(VD) || isPermitType(VD->getType())) Found = true;
    return Found ? false : RecursiveASTVisitor::TraverseLambdaExpr(LE);
  }
  bool isPermitType(QualType T) const {
    const CXXRecordDecl* RD = recordOf(T);
    return RD && Rules::contains(R.PermitTypes, qualifiedNameForRules(RD));
  }

 private:
  const Rules& R;
  const llvm::DenseSet<const VarDecl*>& Permits;
};

/// The standard algorithm a call invokes, by qualified name: a function (`std::for_each`) or
/// a call of a niebloid object (`std::ranges::for_each`, whose operator() belongs to an internal
/// class). Empty for anything else.
std::string algorithmName(const CallExpr* CE) {
  if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(CE)) {
    if (OC->getOperator() != OO_Call || OC->getNumArgs() == 0) return {};
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(OC->getArg(0)->IgnoreParenImpCasts()))
      if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
        if (std::string N = qualifiedNameForRules(VD); llvm::StringRef(N).starts_with("std::"))
          return N;  // std::ranges::for_each lives in a nested namespace
    return {};
  }
  if (const FunctionDecl* FD = CE->getDirectCallee())
    if (FD->isInStdNamespace() && FD->getIdentifier()) return qualifiedNameForRules(FD);
  return {};
}

/// The arguments of an algorithm call without the niebloid object.
llvm::SmallVector<const Expr*, 6> algorithmArgs(const CallExpr* CE) {
  llvm::SmallVector<const Expr*, 6> Out;
  unsigned Skip = llvm::isa<CXXOperatorCallExpr>(CE) ? 1 : 0;
  for (unsigned I = Skip; I < CE->getNumArgs(); ++I) Out.push_back(CE->getArg(I));
  return Out;
}

bool isForEachAlgorithm(llvm::StringRef N) {
  return N == "std::for_each" || N == "std::for_each_n" || N == "std::ranges::for_each" ||
         N == "std::ranges::for_each_n";
}
bool isTransformAlgorithm(llvm::StringRef N) {
  return N == "std::transform" || N == "std::ranges::transform";
}

/// The lambda an argument is (through temporaries and moves), or null.
const LambdaExpr* lambdaArg(const Expr* E) {
  return llvm::dyn_cast_or_null<LambdaExpr>(stripMoves(E));
}

/// `std::back_inserter(v)` / `std::front_inserter(v)` / `std::inserter(v, it)`: v, else null.
const VarDecl* insertedContainer(const Expr* E) {
  const auto* CE = llvm::dyn_cast_or_null<CallExpr>(stripMoves(E));
  const FunctionDecl* FD = CE ? CE->getDirectCallee() : nullptr;
  if (!FD || !FD->isInStdNamespace() || !FD->getIdentifier() || CE->getNumArgs() == 0)
    return nullptr;
  llvm::StringRef N = FD->getName();
  if (N != "back_inserter" && N != "front_inserter" && N != "inserter") return nullptr;
  return referencedVar(CE->getArg(0));
}

}  // namespace

/// Walks one function body.
class FanoutVisitor : public RecursiveASTVisitor<FanoutVisitor> {
 public:
  FanoutVisitor(UnboundedFanoutCheck& Check, const Rules& R, ASTContext& Ctx, unsigned MaxTrip,
                llvm::DenseSet<unsigned>& Reported, const FunctionDecl* Fn,
                std::string Owner = {})
      : Check(Check), R(R), Ctx(Ctx), MaxTrip(MaxTrip), Reported(Reported),
        Owner(std::move(Owner)) {
    Contexts.push_back({Fn, {}});
  }

  bool TraverseForStmt(ForStmt* S) {
    return traverseLoop(S, [&] { return RecursiveASTVisitor::TraverseForStmt(S); });
  }
  bool TraverseWhileStmt(WhileStmt* S) {
    return traverseLoop(S, [&] { return RecursiveASTVisitor::TraverseWhileStmt(S); });
  }
  bool TraverseDoStmt(DoStmt* S) {
    return traverseLoop(S, [&] { return RecursiveASTVisitor::TraverseDoStmt(S); });
  }
  bool TraverseCXXForRangeStmt(CXXForRangeStmt* S) {
    return traverseLoop(S, [&] { return RecursiveASTVisitor::TraverseCXXForRangeStmt(S); });
  }

  /// A lambda body is its own execution context: loops around the lambda expression do not
  /// repeat what the body does (calls to it are not tracked).
  bool TraverseLambdaExpr(LambdaExpr* LE) {
    for (unsigned I = 0, N = LE->capture_size(); I < N; ++I)
      if (LE->isInitCapture(LE->capture_begin() + I))
        if (Expr* Init = LE->capture_init_begin()[I]) TraverseStmt(Init);
    FnContext Inner{LE->getCallOperator(), {}};
    // A lambda handed to std::for_each / std::ranges::for_each runs once per element: inside it,
    // the algorithm call is the loop (and so are the loops around that call).
    if (auto It = PerElementLambdas.find(LE); It != PerElementLambdas.end()) {
      Inner.Loops = Contexts.back().Loops;
      Inner.Loops.push_back({It->second.first, It->second.second, LE->getBody()});
    }
    Contexts.push_back(std::move(Inner));
    bool Ok = TraverseStmt(LE->getBody());
    Contexts.pop_back();
    return Ok;
  }
  bool TraverseDecl(Decl* D) {
    if (llvm::isa_and_nonnull<CXXRecordDecl, FunctionDecl, FunctionTemplateDecl>(D)) return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool VisitVarDecl(VarDecl* VD) {
    // A permit obtained in the loop body (by type, or from an acquire call).
    static const llvm::DenseSet<const VarDecl*> kNone;
    PermitFinder PF(R, kNone);
    if (PF.isPermitType(VD->getType()))
      Permits.insert(VD);
    else if (const Expr* Init = VD->getInit()) {
      PermitFinder InitPF(R, kNone);
      InitPF.TraverseStmt(const_cast<Expr*>(Init));
      if (InitPF.Found) Permits.insert(VD);
    }
    return true;
  }

  bool VisitCallExpr(CallExpr* CE) {
    const FunctionDecl* FD = CE->getDirectCallee();
    std::string Name;
    if (FD) {
      Name = qualifiedNameForRules(FD);
    } else if (const auto* ULE =
                   llvm::dyn_cast<UnresolvedLookupExpr>(CE->getCallee()->IgnoreImplicit())) {
      for (const NamedDecl* D : ULE->decls()) {
        std::string N = qualifiedNameForRules(D->getUnderlyingDecl());
        if (Rules::contains(R.SpawnFunctions, N) ||
            Rules::contains(R.UnboundedChannelConstructors, N) ||
            Rules::contains(R.JoinAllFunctions, N) ||
            Rules::contains(R.ConcurrentAlgorithms, N)) {
          Name = N;
          break;
        }
      }
    }
    if (Name.empty()) return true;
    if (Rules::contains(R.UnboundedChannelConstructors, Name)) {
      report(CE->getBeginLoc(), [&] {
        Check.diag(CE->getBeginLoc(),
                   "'%0' creates an unbounded channel with no backpressure in '%1'; use a bounded "
                   "channel such as rill::sync::mpsc::channel<T>(capacity)")
            << Name << current();
      });
      return true;
    }
    if (Rules::contains(R.JoinAllFunctions, Name)) {
      checkJoinAll(CE, Name);
      return true;
    }
    if (Rules::contains(R.ConcurrentAlgorithms, Name)) {
      checkConcurrencyLimit(CE, Name);
      return true;
    }
    if (Rules::contains(R.SpawnFunctions, Name)) checkSpawn(CE, Name, CE);
    trackFill(CE);
    return true;
  }

  bool VisitCXXMemberCallExpr(CXXMemberCallExpr* CE) {
    checkEmplacedSpawn(CE);
    trackFill(CE);
    return true;
  }

  /// Calls whose lambda arguments are walked with the call as their loop are found before the
  /// lambdas are traversed (a pre-order visit of the call).
  bool TraverseCallExpr(CallExpr* CE) {
    notePerElementLambdas(CE);
    return RecursiveASTVisitor::TraverseCallExpr(CE);
  }
  bool TraverseCXXOperatorCallExpr(CXXOperatorCallExpr* CE) {
    notePerElementLambdas(CE);
    return RecursiveASTVisitor::TraverseCXXOperatorCallExpr(CE);
  }

  bool VisitCXXConstructExpr(CXXConstructExpr* CE) {
    const CXXConstructorDecl* Ctor = CE->getConstructor();
    if (!Ctor || Ctor->isCopyOrMoveConstructor() || CE->getNumArgs() == 0) return true;
    std::string Name = qualifiedNameForRules(Ctor->getParent());
    if (Rules::contains(R.SpawnFunctions, Name) && !startsAPoolOfThreads())
      checkSpawn(CE, Name, nullptr);
    return true;
  }

 private:
  struct LoopInfo {
    const Stmt* Loop;  ///< a loop statement, or the std::for_each call running a lambda
    bool Unbounded;
    const Stmt* Body = nullptr;  ///< what runs per iteration (null: the loop statement itself)
    const Stmt* scope() const { return Body ? Body : Loop; }
  };
  struct FnContext {
    const FunctionDecl* Fn;
    std::vector<LoopInfo> Loops;
  };

  UnboundedFanoutCheck& Check;
  const Rules& R;
  ASTContext& Ctx;
  unsigned MaxTrip;
  llvm::DenseSet<unsigned>& Reported;
  std::vector<FnContext> Contexts;
  llvm::DenseSet<const VarDecl*> Permits;
  /// Containers filled inside an unbounded loop: var -> (fill location, loop).
  llvm::DenseMap<const VarDecl*, std::pair<SourceLocation, const Stmt*>> FilledInLoop;
  /// Lambdas passed to a for_each algorithm: lambda -> (algorithm call, unbounded).
  llvm::DenseMap<const LambdaExpr*, std::pair<const Stmt*, bool>> PerElementLambdas;
  /// Displayed instead of the function name (a class's member initializers).
  std::string Owner;

  std::string current() const {
    if (!Owner.empty() && Contexts.size() == 1) return Owner;
    const FunctionDecl* Fn = Contexts.back().Fn;
    return Fn ? functionDisplayName(Fn) : std::string("<unknown>");
  }

  template <typename Fn>
  bool traverseLoop(Stmt* Loop, Fn&& Body) {
    Contexts.back().Loops.push_back({Loop, !isSmallConstantLoop(Loop)});
    bool Ok = Body();
    Contexts.back().Loops.pop_back();
    return Ok;
  }

  /// A `for` loop counting up to a number held in a variable or field, or returned by a plain
  /// function (`for (i = 0; i < thread_count; ++i)`, `i < std::thread::hardware_concurrency()`):
  /// the count is a configuration value, not one per input element. A bound taken from a
  /// container (`i < v.size()`) or a range-for is per element.
  static bool countsToAConfiguredNumber(const Stmt* Loop) {
    const auto* FS = llvm::dyn_cast<ForStmt>(Loop);
    if (!FS || !FS->getCond()) return false;
    const auto* BO = llvm::dyn_cast<BinaryOperator>(FS->getCond()->IgnoreParenImpCasts());
    if (!BO || (BO->getOpcode() != BO_LT && BO->getOpcode() != BO_LE && BO->getOpcode() != BO_NE))
      return false;
    const Expr* Bound = BO->getRHS()->IgnoreParenImpCasts();
    if (!BO->getLHS()->getType()->isIntegerType() || !Bound->getType()->isIntegerType())
      return false;
    if (llvm::isa<DeclRefExpr>(Bound) || llvm::isa<MemberExpr>(Bound)) return true;
    const auto* Call = llvm::dyn_cast<CallExpr>(Bound);
    return Call && !llvm::isa<CXXMemberCallExpr>(Call) && Call->getDirectCallee();
  }

  /// Every unbounded loop around this point counts up to a configured number: a thread pool
  /// starting its workers, not a thread per item.
  bool startsAPoolOfThreads() const {
    bool Any = false;
    for (const LoopInfo& L : Contexts.back().Loops) {
      if (!L.Unbounded) continue;
      if (!countsToAConfiguredNumber(L.Loop)) return false;
      Any = true;
    }
    return Any;
  }

  const LoopInfo* unboundedLoop() const {
    for (const LoopInfo& L : llvm::reverse(Contexts.back().Loops))
      if (L.Unbounded) return &L;
    return nullptr;
  }

  template <typename Emit>
  void report(SourceLocation Loc, Emit&& E) {
    if (Reported.insert(Loc.getRawEncoding()).second) E();
  }

  std::optional<llvm::APSInt> constant(const Expr* E) const {
    if (!E || E->isValueDependent() || E->isTypeDependent()) return std::nullopt;
    Expr::EvalResult Res;
    if (E->EvaluateAsInt(Res, Ctx)) return Res.Val.getInt();
    return std::nullopt;
  }

  /// True when a range has a compile-time size <= MaxTrip: a braced list, a C array or a
  /// std::array.
  bool isSmallConstantRange(const Expr* Range) const {
    auto small = [&](const llvm::APSInt& N) {
      return N.isNonNegative() && N.getZExtValue() <= MaxTrip;
    };
    if (!Range) return false;
    Range = Range->IgnoreParenImpCasts();
    if (const auto* MT = llvm::dyn_cast<MaterializeTemporaryExpr>(Range))
      Range = MT->getSubExpr()->IgnoreParenImpCasts();
    if (const auto* IL = llvm::dyn_cast<CXXStdInitializerListExpr>(Range))
      Range = IL->getSubExpr()->IgnoreParenImpCasts();
    if (const auto* MT = llvm::dyn_cast<MaterializeTemporaryExpr>(Range))
      Range = MT->getSubExpr()->IgnoreParenImpCasts();
    if (const auto* ILE = llvm::dyn_cast<InitListExpr>(Range))
      return ILE->getNumInits() <= MaxTrip;
    QualType T = Range->getType().getNonReferenceType();
    if (const auto* CAT = Ctx.getAsConstantArrayType(T))
      return CAT->getSize().getZExtValue() <= MaxTrip;
    if (const auto* RD = recordOf(T))
      if (const auto* Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(RD))
        if (qualifiedNameForRules(Spec) == "std::array" && Spec->getTemplateArgs().size() == 2 &&
            Spec->getTemplateArgs()[1].getKind() == TemplateArgument::Integral)
          return small(Spec->getTemplateArgs()[1].getAsIntegral());
    return false;
  }

  /// The range an algorithm walks: its first argument (ranges form), or the container of a
  /// `c.begin()` / `std::begin(c)` iterator (iterator form).
  static const Expr* algorithmRange(const CallExpr* CE, llvm::StringRef Algo) {
    llvm::SmallVector<const Expr*, 6> Args = algorithmArgs(CE);
    if (Args.empty()) return nullptr;
    const Expr* First = stripMoves(Args[0]);
    if (Algo.starts_with("std::ranges::") &&
        !llvm::isa<CXXMemberCallExpr>(First) && !llvm::isa<CallExpr>(First))
      return First;
    if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(First)) {
      const CXXMethodDecl* M = MC->getMethodDecl();
      if (M && M->getIdentifier() && (M->getName() == "begin" || M->getName() == "cbegin"))
        return MC->getImplicitObjectArgument();
    }
    if (const auto* C = llvm::dyn_cast<CallExpr>(First))
      if (const FunctionDecl* FD = C->getDirectCallee())
        if (FD->isInStdNamespace() && FD->getIdentifier() &&
            (FD->getName() == "begin" || FD->getName() == "cbegin") && C->getNumArgs() == 1)
          return C->getArg(0);
    if (Algo.starts_with("std::ranges::")) return First;
    return nullptr;
  }

  /// True when the loop's trip count is a compile-time constant <= MaxTrip.
  bool isSmallConstantLoop(const Stmt* Loop) const {
    if (const auto* W = llvm::dyn_cast<WhileStmt>(Loop)) {
      auto C = constant(W->getCond());
      return C && C->isZero();
    }
    if (const auto* D = llvm::dyn_cast<DoStmt>(Loop)) {
      auto C = constant(D->getCond());
      return C && C->isZero();
    }
    if (const auto* RF = llvm::dyn_cast<CXXForRangeStmt>(Loop))
      return isSmallConstantRange(RF->getRangeInit());
    const auto* F = llvm::dyn_cast<ForStmt>(Loop);
    if (!F || !F->getCond()) return false;
    // for (T i = A; i < B; ++i) / i <= B / i != B, also with the operands swapped (B > i).
    const VarDecl* IV = nullptr;
    std::optional<llvm::APSInt> Start;
    if (const auto* DS = llvm::dyn_cast_or_null<DeclStmt>(F->getInit()); DS && DS->isSingleDecl()) {
      IV = llvm::dyn_cast<VarDecl>(DS->getSingleDecl());
      if (IV) Start = constant(IV->getInit());
    }
    if (!IV || !Start) return false;
    const auto* Cond = llvm::dyn_cast<BinaryOperator>(F->getCond()->IgnoreParenImpCasts());
    if (!Cond) return false;
    auto isIV = [&](const Expr* E) {
      const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
      return DRE && DRE->getDecl() == IV;
    };
    BinaryOperatorKind Op = Cond->getOpcode();
    std::optional<llvm::APSInt> End;
    if (isIV(Cond->getLHS())) {
      End = constant(Cond->getRHS());
    } else if (isIV(Cond->getRHS())) {
      End = constant(Cond->getLHS());
      Op = BinaryOperator::reverseComparisonOp(Op);
    }
    if (!End) return false;
    // Only unit increments (++i, i++, i += 1) are counted.
    const Expr* Inc = F->getInc();
    bool Unit = false;
    if (const auto* U = llvm::dyn_cast_or_null<UnaryOperator>(Inc))
      Unit = U->isIncrementOp() && isIV(U->getSubExpr());
    else if (const auto* CA = llvm::dyn_cast_or_null<CompoundAssignOperator>(Inc))
      Unit = CA->getOpcode() == BO_AddAssign && isIV(CA->getLHS()) && constant(CA->getRHS()) &&
             *constant(CA->getRHS()) == 1;
    if (!Unit) return false;
    int64_t S = Start->getExtValue(), E = End->getExtValue();
    int64_t Trips;
    if (Op == BO_LT || Op == BO_NE)
      Trips = E - S;
    else if (Op == BO_LE)
      Trips = E - S + 1;
    else
      return false;
    return Trips <= static_cast<int64_t>(MaxTrip);
  }

  /// The JoinSet-like object a member spawn is called on is bounded when we can see it was
  /// constructed with arguments (a limit).
  bool limitedReceiver(const CallExpr* CE) const {
    const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE);
    if (!MC) return false;
    const CXXRecordDecl* RD = MC->getRecordDecl();
    if (!RD || !Rules::contains(R.LimitedSpawners, qualifiedNameForRules(RD))) return false;
    const Expr* Obj = MC->getImplicitObjectArgument()->IgnoreParenImpCasts();
    // A written, non-zero limit argument (JoinSet(std::size_t max_in_flight = 0): a defaulted
    // argument or a literal 0 means unbounded).
    auto isLimit = [&](const Expr* Arg) {
      if (!Arg || llvm::isa<CXXDefaultArgExpr>(Arg)) return false;
      if (auto C = constant(Arg)) return !C->isZero();
      return true;
    };
    auto constructedWithArgs = [&](const Expr* Init) {
      if (!Init) return false;
      Init = Init->IgnoreImplicit();
      if (const auto* C = llvm::dyn_cast<CXXConstructExpr>(Init)) {
        if (C->getConstructor()->isCopyOrMoveConstructor()) return false;
        return llvm::any_of(C->arguments(), isLimit);
      }
      if (const auto* ILE = llvm::dyn_cast<InitListExpr>(Init))
        return llvm::any_of(ILE->inits(), isLimit);
      if (const auto* PLE = llvm::dyn_cast<ParenListExpr>(Init))
        return llvm::any_of(const_cast<ParenListExpr*>(PLE)->exprs(), isLimit);
      return false;
    };
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(Obj))
      if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
        return constructedWithArgs(VD->getInit());
    if (const auto* ME = llvm::dyn_cast<MemberExpr>(Obj))
      if (const auto* FD = llvm::dyn_cast<FieldDecl>(ME->getMemberDecl())) {
        if (constructedWithArgs(FD->getInClassInitializer())) return true;
        if (const auto* Parent = llvm::dyn_cast<CXXRecordDecl>(FD->getParent()))
          for (const CXXConstructorDecl* Ctor : Parent->ctors())
            for (const CXXCtorInitializer* Init : Ctor->inits())
              if (Init->getMember() == FD && Init->isWritten() &&
                  constructedWithArgs(Init->getInit()))
                return true;
      }
    return false;
  }

  /// `set.spawn(...)` in a loop that also drains the same set (`co_await set.join_next()`, e.g.
  /// when it is full) keeps a bounded number in flight.
  bool drainedInLoop(const CallExpr* CE, const Stmt* Loop) const {
    const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE);
    if (!MC || !MC->getRecordDecl() ||
        !Rules::contains(R.LimitedSpawners, qualifiedNameForRules(MC->getRecordDecl())))
      return false;
    const VarDecl* Set = referencedVar(MC->getImplicitObjectArgument());
    const auto* ME =
        llvm::dyn_cast<MemberExpr>(MC->getImplicitObjectArgument()->IgnoreParenImpCasts());
    const ValueDecl* Field = ME ? ME->getMemberDecl() : nullptr;
    if (!Set && !Field) return false;
    struct Finder : RecursiveASTVisitor<Finder> {
      const VarDecl* Set;
      const ValueDecl* Field;
      bool Found = false;
      bool VisitCXXMemberCallExpr(CXXMemberCallExpr* C) {
        const auto* M = C->getMethodDecl();
        if (!M || !M->getIdentifier() ||
            (M->getName() != "join_next" && M->getName() != "join_one"))
          return true;
        const Expr* Obj = C->getImplicitObjectArgument()->IgnoreParenImpCasts();
        if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(Obj); DRE && Set && DRE->getDecl() == Set)
          Found = true;
        if (const auto* ME = llvm::dyn_cast<MemberExpr>(Obj);
            ME && Field && ME->getMemberDecl() == Field)
          Found = true;
        return !Found;
      }
    } F{{}, Set, Field};
    F.TraverseStmt(const_cast<Stmt*>(Loop));
    return F.Found;
  }

  /// The spawned work is finished within the same iteration: a free spawn function is awaited
  /// directly (`co_await rill::spawn(...)`), or its handle / thread is a variable of the loop
  /// body that is awaited or joined in the body (`auto h = spawn(...); co_await h;`,
  /// `std::thread t(f); t.join();`). Then at most one runs at a time.
  static bool finishedInIteration(const Expr* Call, const Stmt* Loop, const Rules& R) {
    // A set's spawn (JoinSet::spawn) returns when the task is registered, not when it is done:
    // awaiting it does not join the task. Other member spawns (rill::task::Builder::spawn,
    // rill::Runtime::spawn) return the task's JoinHandle like rill::spawn.
    if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      const CXXMethodDecl* M = MC->getMethodDecl();
      if (!M || !M->getIdentifier() || !M->getName().starts_with("spawn")) return false;
      if (const CXXRecordDecl* RD = MC->getRecordDecl();
          !RD || Rules::contains(R.LimitedSpawners, qualifiedNameForRules(RD)))
        return false;
    }
    struct Finder : RecursiveASTVisitor<Finder> {
      const Expr* Call;
      const VarDecl* Var = nullptr;
      bool Done = false;
      explicit Finder(const Expr* C) : Call(C) {}
      bool TraverseLambdaExpr(LambdaExpr*) { return true; }
      bool VisitVarDecl(VarDecl* VD) {
        if (VD->getInit() && stripMoves(VD->getInit()) == Call) Var = VD;
        return true;
      }
      bool VisitCoawaitExpr(CoawaitExpr* A) {
        const Expr* Op = stripMoves(A->getOperand());
        if (Op == Call || (Var && referencedVar(A->getOperand()) == Var)) Done = true;
        return !Done;
      }
      bool VisitCXXMemberCallExpr(CXXMemberCallExpr* C) {
        const CXXMethodDecl* M = C->getMethodDecl();
        if (!Var || !M || !M->getIdentifier()) return true;
        llvm::StringRef N = M->getName();
        if ((N == "join" || N == "get" || N == "wait") &&
            referencedVar(C->getImplicitObjectArgument()) == Var)
          Done = true;
        return !Done;
      }
    } F(Call);
    F.TraverseStmt(const_cast<Stmt*>(Loop));
    return F.Done;
  }

  void checkSpawn(const Expr* Call, llvm::StringRef Name, const CallExpr* CE,
                  SourceLocation At = {}) {
    const LoopInfo* L = unboundedLoop();
    if (!L) return;
    const Stmt* Loop = L->Loop;
    if (CE && (limitedReceiver(CE) || drainedInLoop(CE, L->scope()))) return;
    if (finishedInIteration(Call, L->scope(), R)) return;
    PermitFinder PF(R, Permits);
    PF.TraverseStmt(const_cast<Expr*>(Call));
    if (PF.Found) return;
    SourceLocation Loc = At.isValid() ? At : Call->getBeginLoc();
    if (const auto* MC = llvm::dyn_cast_or_null<CXXMemberCallExpr>(CE)) Loc = MC->getExprLoc();
    report(Loc, [&] {
      Check.diag(Loc,
                 "'%0' in a loop without a small constant trip count spawns unbounded "
                 "concurrent work in '%1'; bound it with a rill::sync::Semaphore permit moved "
                 "into each task, a rill::JoinSet constructed with a limit, or "
                 "rill::for_each_concurrent(range, limit, f)")
          << Name << current();
      noteLoop(Loop);
    });
  }

  void noteLoop(const Stmt* Loop) {
    if (const auto* CE = llvm::dyn_cast<CallExpr>(Loop))
      Check.diag(CE->getBeginLoc(), "'%0' runs it for every element of a range without a small "
                 "constant size here", DiagnosticIDs::Note)
          << algorithmName(CE);
    else
      Check.diag(Loop->getBeginLoc(), "loop without a constant bound is here",
                 DiagnosticIDs::Note);
  }

  /// `v.emplace_back(f)` on a container of a spawn-like class (std::thread, std::jthread)
  /// constructs, and so starts, one per call. Emplacing an existing object (a move) starts none.
  void checkEmplacedSpawn(const CXXMemberCallExpr* MC) {
    const CXXMethodDecl* M = MC->getMethodDecl();
    if (!M || !M->getIdentifier() || MC->getNumArgs() == 0) return;
    llvm::StringRef N = M->getName();
    if (N != "emplace_back" && N != "emplace" && N != "emplace_front") return;
    const auto* Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
        recordOf(MC->getImplicitObjectArgument()->getType()));
    if (!Spec || Spec->getTemplateArgs().size() == 0 ||
        Spec->getTemplateArgs()[0].getKind() != TemplateArgument::Type)
      return;
    QualType Elem = Spec->getTemplateArgs()[0].getAsType();
    const CXXRecordDecl* ElemRD = recordOf(Elem);
    if (!ElemRD) return;
    std::string Name = qualifiedNameForRules(ElemRD);
    if (!Rules::contains(R.SpawnFunctions, Name)) return;
    const Expr* First = stripMoves(MC->getArg(0));
    if (MC->getNumArgs() == 1 && recordOf(First->getType()) == ElemRD) return;
    if (startsAPoolOfThreads()) return;
    checkSpawn(MC, Name, nullptr, MC->getExprLoc());
  }

  /// `rill::for_each_concurrent(range, 0, f)`: a limit of 0 means "no limit".
  void checkConcurrencyLimit(const CallExpr* CE, llvm::StringRef Name) {
    const FunctionDecl* FD = CE->getDirectCallee();
    if (!FD) return;
    // The limit: the parameter named `limit` (or `max_in_flight`), else the first integer
    // parameter after the range.
    int Index = -1;
    for (unsigned I = 0; I < FD->getNumParams(); ++I) {
      const ParmVarDecl* P = FD->getParamDecl(I);
      if (P->getIdentifier() && (P->getName() == "limit" || P->getName() == "max_in_flight")) {
        Index = static_cast<int>(I);
        break;
      }
    }
    for (unsigned I = 1; Index < 0 && I < FD->getNumParams(); ++I)
      if (FD->getParamDecl(I)->getType()->isIntegerType()) Index = static_cast<int>(I);
    if (Index < 0 || static_cast<unsigned>(Index) >= CE->getNumArgs()) return;
    const Expr* Arg = CE->getArg(Index);
    if (const auto* DA = llvm::dyn_cast<CXXDefaultArgExpr>(Arg)) Arg = DA->getExpr();
    auto C = constant(Arg);
    if (!C || !C->isZero()) return;
    report(CE->getArg(Index)->getBeginLoc(), [&] {
      Check.diag(CE->getArg(Index)->getBeginLoc(),
                 "'%0' with a limit of 0 runs the work for every element at once in '%1' (0 "
                 "means no limit); pass a positive limit")
          << Name << current();
    });
  }

  /// std::for_each / std::ranges::for_each with a lambda: the lambda body runs once per element
  /// (remembered for TraverseLambdaExpr). std::transform / std::ranges::transform into
  /// `std::back_inserter(v)`: v is filled with one element per input element.
  void notePerElementLambdas(const CallExpr* CE) {
    std::string Algo = algorithmName(CE);
    if (Algo.empty()) return;
    bool ForEach = isForEachAlgorithm(Algo);
    if (!ForEach && !isTransformAlgorithm(Algo)) return;
    bool Unbounded = !isSmallConstantRange(algorithmRange(CE, Algo));
    for (const Expr* A : algorithmArgs(CE)) {
      if (ForEach) {
        if (const LambdaExpr* LE = lambdaArg(A)) PerElementLambdas[LE] = {CE, Unbounded};
      } else if (const VarDecl* V = insertedContainer(A); V && Unbounded) {
        FilledInLoop.try_emplace(V, CE->getBeginLoc(), CE);
      }
    }
  }


  void checkJoinAll(const CallExpr* CE, llvm::StringRef Name) {
    for (const Expr* Arg : CE->arguments()) {
      const VarDecl* VD = referencedVar(Arg);
      if (!VD) continue;
      auto It = FilledInLoop.find(VD);
      if (It == FilledInLoop.end()) continue;
      const auto* ByAlgorithm = llvm::dyn_cast<CallExpr>(It->second.second);
      report(CE->getBeginLoc(), [&] {
        Check.diag(
            CE->getBeginLoc(),
            "'%0' awaits every task in '%1' at once, and '%1' is filled %select{in a loop "
            "without a small constant trip count|by '%4' over a range without a small constant "
            "size}3 in '%2'; use rill::for_each_concurrent(range, limit, f) or a rill::JoinSet "
            "constructed with a limit")
            << Name << VD->getName() << current() << (ByAlgorithm ? 1 : 0)
            << (ByAlgorithm ? algorithmName(ByAlgorithm) : std::string());
        Check.diag(It->second.first, "'%0' is filled here", DiagnosticIDs::Note) << VD->getName();
      });
      return;
    }
  }

  /// Records container fills (push_back, emplace_back, insert, ...) inside unbounded loops.
  void trackFill(const CallExpr* CE) {
    const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE);
    if (!MC || !MC->getMethodDecl()) return;
    llvm::StringRef M = MC->getMethodDecl()->getName();
    if (M != "push_back" && M != "emplace_back" && M != "insert" && M != "emplace" &&
        M != "push_front" && M != "emplace_front" && M != "push")
      return;
    const LoopInfo* L = unboundedLoop();
    if (!L) return;
    if (const VarDecl* VD = referencedVar(MC->getImplicitObjectArgument()))
      FilledInLoop.try_emplace(VD, MC->getExprLoc(), L->Loop);
  }
};

UnboundedFanoutCheck::UnboundedFanoutCheck(llvm::StringRef Name,
                                           clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      MaxConstantTripCount(Options.get("MaxConstantTripCount", 16U)) {
  std::string Err;
  RulesPtr = getRules(*Context, &Err);
  if (!Err.empty()) configurationDiag("%0") << Err;
}

void UnboundedFanoutCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "MaxConstantTripCount", MaxConstantTripCount);
}

void UnboundedFanoutCheck::registerMatchers(MatchFinder* Finder) {
  // Every function definition outside system headers; lambda bodies are walked from their
  // enclosing function.
  Finder->addMatcher(
      functionDecl(isDefinition(), hasBody(stmt()), unless(isExpansionInSystemHeader())).bind("fn"),
      this);
  // Default member initializers (`Chan ch = unbounded_channel<T>();`) run in every constructor.
  Finder->addMatcher(fieldDecl(hasInClassInitializer(expr()), unless(isExpansionInSystemHeader()))
                         .bind("field"),
                     this);
}

void UnboundedFanoutCheck::check(const MatchFinder::MatchResult& Result) {
  if (const auto* FD = Result.Nodes.getNodeAs<FieldDecl>("field")) {
    const auto* RD = llvm::dyn_cast<CXXRecordDecl>(FD->getParent());
    if (!RD || RD->isLambda()) return;
    FanoutVisitor V(*this, *RulesPtr, *Result.Context, MaxConstantTripCount, Reported, nullptr,
                    RD->getQualifiedNameAsString());
    V.TraverseStmt(FD->getInClassInitializer());
    return;
  }
  const auto* Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (!Fn || !Fn->getBody()) return;
  // A constructor's member initializers run before its body.
  if (const auto* Ctor = llvm::dyn_cast<CXXConstructorDecl>(Fn)) {
    FanoutVisitor V(*this, *RulesPtr, *Result.Context, MaxConstantTripCount, Reported, Fn);
    for (const CXXCtorInitializer* Init : Ctor->inits())
      if (Init->isWritten() && Init->getInit()) V.TraverseStmt(Init->getInit());
  }
  // Lambdas inside a function are walked from that function; only lambdas at namespace or class
  // scope (e.g. `auto f = [] {...};` globals) are walked on their own.
  if (const auto* MD = llvm::dyn_cast<CXXMethodDecl>(Fn); MD && MD->getParent()->isLambda())
    if (MD->getParent()->getDeclContext()->isFunctionOrMethod()) return;
  const Stmt* Body = Fn->getBody();
  if (const auto* CB = llvm::dyn_cast<CoroutineBodyStmt>(Body)) Body = CB->getBody();
  FanoutVisitor V(*this, *RulesPtr, *Result.Context, MaxConstantTripCount, Reported, Fn);
  V.TraverseStmt(const_cast<Stmt*>(Body));
}

}  // namespace rill::lint
