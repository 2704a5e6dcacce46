#include "FrameLayout.h"

#include <algorithm>
#include <memory>

#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/Analysis/CFG.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>
#include <llvm/Support/MathExtras.h>

#include "BodyParents.h"
#include "Coroutine.h"

namespace rill::lint {

using namespace clang;

namespace {

/// Per-coroutine caches shared by the frame rules: the statements' parents and, per
/// full-expression, whether it suspends.
struct BodyIndex {
  explicit BodyIndex(Stmt* Root) : Parents(Root, nullptr) {}
  BodyParents Parents;
  llvm::DenseMap<const Stmt*, bool> FullExprSuspends;
};

bool fullExprSuspends(const Expr* E, BodyIndex& Index);

/// The coroutine body's CFG with what the frame rules need: the block of every statement, and
/// the blocks that lie on a cycle (a loop) containing a suspension point.
///
/// LLVM's CoroFrame keeps an alloca whose address escapes (passed to a call: a constructor, a
/// member function, a by-reference parameter -- at -O0, every class temporary) in the frame when
/// a path from its lifetime start back to itself crosses a suspension point, because the address
/// must stay the same in every iteration. So every temporary of a statement inside a loop whose
/// body suspends is in the frame, even when that statement does not suspend itself; likewise the
/// scalar spill slots clang creates around a `co_await`'s cleanups (see VisitExprWithCleanups).
struct SuspendFlow {
  std::unique_ptr<CFG> Cfg;
  llvm::DenseMap<const Stmt*, const CFGBlock*> BlockOf;
  llvm::DenseSet<const CFGBlock*> SuspendingCycle;

  void build(const FunctionDecl* FD, Stmt* Body, ASTContext& Ctx) {
    CFG::BuildOptions Opts;
    Opts.setAllAlwaysAdd();
    Opts.AddImplicitDtors = true;
    Opts.AddLifetime = true;
    Cfg = CFG::buildCFG(FD, Body, &Ctx, Opts);
    if (!Cfg) return;
    std::vector<const CFGBlock*> Suspending;
    for (const CFGBlock* B : *Cfg) {
      if (!B) continue;
      bool Suspends = false;
      for (const CFGElement& E : *B)
        if (auto S = E.getAs<CFGStmt>()) {
          BlockOf.try_emplace(S->getStmt(), B);
          Suspends |= isSuspensionPoint(S->getStmt());
        }
      if (Suspends) Suspending.push_back(B);
    }
    // A block is on a cycle through suspending block S when S reaches it and it reaches S.
    for (const CFGBlock* S : Suspending) {
      llvm::DenseSet<const CFGBlock*> Fwd = reach(S, /*Forward=*/true);
      llvm::DenseSet<const CFGBlock*> Bwd = reach(S, /*Forward=*/false);
      for (const CFGBlock* B : Fwd)
        if (Bwd.count(B)) SuspendingCycle.insert(B);
    }
  }

  /// True when \p S (or the nearest enclosing statement the CFG lists) runs in a loop whose body
  /// contains a suspension point.
  bool inSuspendingLoop(const Stmt* S, const BodyParents& Parents) const {
    if (SuspendingCycle.empty() || !S) return false;
    // The CFG lists expressions but not every wrapper (ExprWithCleanups, a full-expression's
    // statement): look at the first listed sub-expression, then at the enclosing statements.
    llvm::SmallVector<const Stmt*, 8> Below{S};
    for (unsigned N = 0; !Below.empty() && N < 64; ++N) {
      const Stmt* Cur = Below.front();
      Below.erase(Below.begin());
      if (!Cur || isa<LambdaExpr>(Cur)) continue;
      if (auto It = BlockOf.find(Cur); It != BlockOf.end()) return SuspendingCycle.count(It->second);
      for (const Stmt* C : Cur->children()) Below.push_back(C);
    }
    for (unsigned Depth = 0; S && Depth < 64; ++Depth) {
      if (auto It = BlockOf.find(S); It != BlockOf.end()) return SuspendingCycle.count(It->second);
      S = Parents.parentStmt(S);
    }
    return false;
  }

 private:
  /// Blocks reachable from \p From through at least one edge (successors or predecessors).
  static llvm::DenseSet<const CFGBlock*> reach(const CFGBlock* From, bool Forward) {
    llvm::DenseSet<const CFGBlock*> Seen;
    std::vector<const CFGBlock*> Work{From};
    while (!Work.empty()) {
      const CFGBlock* B = Work.back();
      Work.pop_back();
      auto Visit = [&](const CFGBlock::AdjacentBlock& A) {
        if (const CFGBlock* N = A.getReachableBlock(); N && Seen.insert(N).second)
          Work.push_back(N);
      };
      if (Forward)
        for (const CFGBlock::AdjacentBlock& A : B->succs()) Visit(A);
      else
        for (const CFGBlock::AdjacentBlock& A : B->preds()) Visit(A);
    }
    return Seen;
  }
};

class FrameCollector : public RecursiveASTVisitor<FrameCollector> {
 public:
  FrameCollector(ASTContext& Ctx, std::vector<FrameField>& Fields, const SuspendFlow& Flow,
                 BodyIndex& Index)
      : Ctx(Ctx), Fields(Fields), Flow(Flow), Index(Index) {}

  bool Ok = true;
  bool UsesThis = false;

  // Nested callables and classes have frames/storage of their own.
  bool TraverseLambdaExpr(LambdaExpr* E) {
    // The closure object itself is a temporary or initializes a variable (counted there); the
    // captures' initializers run in this coroutine.
    for (Expr* Init : E->capture_inits())
      if (Init) TraverseStmt(Init);
    for (const LambdaCapture& C : E->captures())
      if (C.capturesThis()) UsesThis = true;
    return true;
  }
  bool TraverseBlockExpr(BlockExpr*) { return true; }

  // A range-for's implicit `__range`, `__begin` and `__end` variables are locals like any other
  // (the visitor skips implicit declarations by default).
  bool TraverseCXXForRangeStmt(CXXForRangeStmt* S) {
    for (Stmt* Implicit : {S->getRangeStmt(), S->getBeginStmt(), S->getEndStmt()})
      if (auto* DS = dyn_cast_or_null<DeclStmt>(Implicit))
        for (Decl* D : DS->decls())
          if (auto* VD = dyn_cast<VarDecl>(D)) {
            VisitVarDecl(VD);
            if (VD->getInit()) TraverseStmt(VD->getInit());
          }
    return RecursiveASTVisitor::TraverseCXXForRangeStmt(S);
  }
  bool TraverseCXXRecordDecl(CXXRecordDecl*) { return true; }
  bool TraverseFunctionDecl(FunctionDecl*) { return true; }

  bool VisitCXXThisExpr(CXXThisExpr*) {
    UsesThis = true;
    return true;
  }

  /// Locals after which no suspension point can run (e.g. declared after the last co_await);
  /// CoroFrame keeps their allocas on the resume function's stack.
  llvm::DenseSet<const VarDecl*> NotLiveAcrossSuspend;

  bool VisitVarDecl(VarDecl* VD) {
    if (isa<ParmVarDecl>(VD) || !VD->hasLocalStorage()) return true;
    if (VD->isInvalidDecl()) {
      Ok = false;
      return true;
    }
    if (NotLiveAcrossSuspend.count(VD)) return true;
    // A variable that is never initialized nor referenced gets an alloca without users, which
    // CoroFrame leaves out of the frame.
    if (!VD->hasInit() && !VD->isReferenced() && !VD->isUsed()) return true;
    QualType T = VD->getType();
    if (T->isReferenceType()) T = Ctx.getPointerType(T.getNonReferenceType());
    add(FrameField::Kind::Local, "'" + VD->getNameAsString() + "'", VD->getLocation(), T);
    // The alloca gets the declaration's alignment (alignas, and the x86-64 rule that arrays of
    // 16 bytes or more are 16-aligned).
    if (!Fields.empty() && Fields.back().Loc == VD->getLocation())
      Fields.back().Align =
          std::max<uint64_t>(Fields.back().Align, Ctx.getDeclAlign(VD).getQuantity());
    return true;
  }

  bool TraverseCoawaitExpr(CoawaitExpr* E) {
    addAwaiter(E);
    return TraverseStmt(E->getOperand());
  }
  bool TraverseCoyieldExpr(CoyieldExpr* E) {
    addAwaiter(E);
    return TraverseStmt(E->getOperand());
  }
  bool TraverseCoreturnStmt(CoreturnStmt* S) {
    // `co_return x;` calls promise.return_value(x): a by-value class parameter gets a temporary.
    if (const auto* Call = dyn_cast_or_null<CallExpr>(S->getPromiseCall())) addByValueArgs(Call);
    if (S->getOperand()) return TraverseStmt(S->getOperand());
    return true;
  }

  bool VisitMaterializeTemporaryExpr(MaterializeTemporaryExpr* E) {
    // A temporary lives to the end of its full-expression (lifetime markers at -O0 in
    // coroutines); it is in the frame when that full-expression suspends, or when it runs in a
    // loop whose body suspends (see SuspendFlow). Temporaries bound to a reference variable live
    // as long as the variable.
    if (const ValueDecl* Ext = E->getExtendingDecl()) {
      const auto* VD = dyn_cast<VarDecl>(Ext);
      if (VD && NotLiveAcrossSuspend.count(VD)) return true;
    } else if (!temporaryCrossesSuspend(E)) {
      return true;
    }
    add(FrameField::Kind::Temporary, "temporary of type '" + typeName(E->getType()) + "'",
        E->getExprLoc(), E->getType());
    return true;
  }

  bool VisitCallExpr(CallExpr* E) {
    // A by-value class argument passed in memory gets an "agg.tmp" alloca without lifetime
    // markers whose address escapes into the call: CoroFrame keeps it in the frame wherever the
    // call is.
    addByValueArgs(E);
    return true;
  }

  /// A default argument's expression is not a child in the AST (it is shared by every call);
  /// its temporaries (e.g. the `std::allocator` of `std::string(const char*)`) are created at
  /// the call site.
  bool VisitCXXDefaultArgExpr(CXXDefaultArgExpr* E) {
    llvm::SmallVector<const Stmt*, 8> Work{E->getExpr()};
    bool Crosses = false, Checked = false;
    while (!Work.empty()) {
      const Stmt* S = Work.pop_back_val();
      if (!S) continue;
      if (const auto* MTE = dyn_cast<MaterializeTemporaryExpr>(S); MTE && !MTE->getExtendingDecl()) {
        if (!Checked) Crosses = temporaryCrossesSuspend(E), Checked = true;
        if (Crosses)
          add(FrameField::Kind::Temporary,
              "temporary of type '" + typeName(MTE->getType()) + "'", E->getExprLoc(),
              MTE->getType());
      }
      for (const Stmt* C : S->children()) Work.push_back(C);
    }
    return true;
  }

  /// clang's CodeGen spills the value of a full-expression whose cleanups contain branches (a
  /// `co_await` inside makes its cleanups branch to the coroutine's destroy path) into a
  /// "tmp.exprcleanup" alloca: the scalar value of a prvalue (`co_await` of an `int`, a `bool`
  /// condition, a scalar variable's initializer), or the address of a glvalue that is not a plain
  /// local (`a[i] = co_await x`). The slot has no lifetime markers: it is in the frame when the
  /// full-expression runs in a loop whose body suspends.
  bool VisitExprWithCleanups(ExprWithCleanups* E) {
    QualType T = E->getType();
    if (T.isNull() || T->isVoidType() || T->isDependentType()) return true;
    if (E->isPRValue() && !T->isScalarType()) return true;  // aggregates are emitted in place
    if (!E->isPRValue() && isPlainLocal(E->getSubExpr())) return true;  // static alloca
    llvm::SmallVector<const Expr*, 2> S;
    collectSuspensionPoints(E->getSubExpr(), S);
    if (S.empty() || !Flow.inSuspendingLoop(E, Index.Parents)) return true;
    add(FrameField::Kind::Temporary, "value kept across the cleanups of a suspending expression",
        E->getExprLoc(), E->isPRValue() ? T : Ctx.getPointerType(T));
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr* E) {
    const CXXConstructorDecl* Ctor = E->getConstructor();
    if (!Ctor || Ctor->isCopyOrMoveConstructor()) return true;
    unsigned N = std::min<unsigned>(E->getNumArgs(), Ctor->getNumParams());
    for (unsigned I = 0; I < N; ++I)
      addByValueArg(Ctor->getParamDecl(I)->getType(), E->getArg(I));
    return true;
  }

  /// Awaiter temporary of a suspension point (also used for the initial/final suspends).
  void addAwaiter(const CoroutineSuspendExpr* E) {
    const Expr* Common = E->getCommonExpr();
    if (!Common) return;
    const Expr* Src = Common;
    if (const auto* OVE = dyn_cast<OpaqueValueExpr>(Common))
      if (OVE->getSourceExpr()) Src = OVE->getSourceExpr();
    bool Materialized = Src->isPRValue() || isa<MaterializeTemporaryExpr>(Src->IgnoreImpCasts());
    if (Materialized && Src->getType()->isRecordType()) {
      llvm::StringRef Kw = isa<CoyieldExpr>(E) ? "co_yield" : "co_await";
      const auto* CA = dyn_cast<CoawaitExpr>(E);
      std::string What = CA && CA->isImplicit() ? "awaiter of the implicit suspend"
                                                : ("awaiter of '" + Kw + "'").str();
      add(FrameField::Kind::Awaiter, What + " (type '" + typeName(Src->getType()) + "')",
          E->getBeginLoc(), Src->getType());
    }
  }

  void add(FrameField::Kind K, std::string Name, SourceLocation Loc, QualType T) {
    // Undeduced `auto` (a declaration whose initializer failed to type-check, e.g. a structured
    // binding of an invalid co_await) and types containing errors have no layout: asking for
    // their size crashes clang, so the estimate is abandoned like for dependent types.
    if (T.isNull() || T->isDependentType() || T->isUndeducedType() || T->containsErrors() ||
        T->isIncompleteType() || T->isVoidType() || T->isFunctionType()) {
      if (!T.isNull() && (T->isDependentType() || T->isUndeducedType() || T->containsErrors() ||
                          (T->isIncompleteType() && !T->isVoidType())))
        Ok = false;
      return;
    }
    if (T->isReferenceType()) T = Ctx.getPointerType(T.getNonReferenceType());
    FrameField F;
    F.FieldKind = K;
    F.Name = std::move(Name);
    F.Loc = Loc;
    F.Size = Ctx.getTypeSizeInChars(T).getQuantity();
    F.Align = std::max<uint64_t>(1, Ctx.getTypeAlignInChars(T).getQuantity());
    if (F.Size == 0) F.Size = 1;  // empty classes occupy a byte in the frame
    Fields.push_back(std::move(F));
  }

  std::string typeName(QualType T) const {
    PrintingPolicy P(Ctx.getLangOpts());
    P.SuppressTagKeyword = true;
    return T.getUnqualifiedType().getAsString(P);
  }

 private:
  void addByValueArgs(const CallExpr* E) {
    const FunctionDecl* Callee = E->getDirectCallee();
    if (!Callee) return;
    unsigned Skip = 0;
    // operator calls on members pass the object as argument 0.
    if (isa<CXXOperatorCallExpr>(E) && isa<CXXMethodDecl>(Callee) &&
        !cast<CXXMethodDecl>(Callee)->isStatic())
      Skip = 1;
    unsigned N = std::min<unsigned>(E->getNumArgs() - std::min(Skip, E->getNumArgs()),
                                    Callee->getNumParams());
    for (unsigned I = 0; I < N; ++I)
      addByValueArg(Callee->getParamDecl(I)->getType(), E->getArg(I + Skip));
  }

  /// True when a temporary created by \p E lives across a suspension point: its
  /// full-expression suspends, or it runs in a loop whose body suspends.
  bool temporaryCrossesSuspend(const Expr* E) {
    return fullExprSuspends(E, Index) || Flow.inSuspendingLoop(E, Index.Parents);
  }

  /// A glvalue whose address is a local variable's or parameter's own alloca (through
  /// assignments and increments, which yield their left operand).
  static bool isPlainLocal(const Expr* E) {
    while (true) {
      E = E->IgnoreParenImpCasts();
      if (const auto* BO = dyn_cast<BinaryOperator>(E); BO && BO->isAssignmentOp()) {
        E = BO->getLHS();
        continue;
      }
      if (const auto* UO = dyn_cast<UnaryOperator>(E); UO && UO->isPrefix() &&
                                                       UO->isIncrementDecrementOp()) {
        E = UO->getSubExpr();
        continue;
      }
      break;
    }
    const auto* DRE = dyn_cast<DeclRefExpr>(E);
    const auto* VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    return VD && VD->hasLocalStorage() && !VD->getType()->isReferenceType();
  }

  void addByValueArg(QualType ParamT, const Expr* Arg) {
    if (ParamT.isNull() || ParamT->isReferenceType() || !ParamT->isRecordType()) return;
    const auto* RD = ParamT->getAsCXXRecordDecl();
    if (!RD || !RD->hasDefinition()) return;
    // Small trivially copyable classes are passed in registers without a temporary.
    if (RD->isTriviallyCopyable() && Ctx.getTypeSize(ParamT) <= 128) return;
    add(FrameField::Kind::Temporary, "argument of type '" + typeName(ParamT) + "'",
        Arg->getExprLoc(), ParamT);
  }

  ASTContext& Ctx;
  std::vector<FrameField>& Fields;
  const SuspendFlow& Flow;
  BodyIndex& Index;
};

const CoroutineSuspendExpr* asSuspend(const Stmt* S) {
  while (S) {
    if (const auto* E = dyn_cast<CoroutineSuspendExpr>(S)) return E;
    if (const auto* EWC = dyn_cast<ExprWithCleanups>(S)) {
      S = EWC->getSubExpr();
      continue;
    }
    if (const auto* ICE = dyn_cast<ImplicitCastExpr>(S)) {
      S = ICE->getSubExpr();
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

/// Finds the locals of \p Body that stay out of the frame. clang emits lifetime markers in
/// coroutines even at -O0, and LLVM's CoroFrame puts an alloca in the frame when some path goes
/// from its lifetime start through a suspension point to one of its uses (its declaration, a
/// reference, its destructor or its scope end; lifetime ends do not stop the path, so a local of
/// a loop body whose next iteration suspends is in the frame). Measured with clang 19: a buffer in
/// a block that closes before the next co_await, or declared after the last one, is not in the
/// frame; one whose scope contains a co_await is, even if only used before it. Variables not
/// found in the CFG are assumed to be in the frame.
void findLocalsNotInFrame(const SuspendFlow& Flow, llvm::DenseSet<const VarDecl*>& Out) {
  const CFG* Cfg = Flow.Cfg.get();
  if (!Cfg) return;

  // Per element: is it a suspension point; which variable it declares / uses / ends.
  struct Elem {
    bool IsSuspend = false;
    const VarDecl* Declares = nullptr;
    const VarDecl* Uses = nullptr;
  };
  llvm::DenseMap<const CFGBlock*, std::vector<Elem>> Elems;
  std::vector<std::pair<const CFGBlock*, unsigned>> Decls;
  std::vector<const VarDecl*> DeclVars;
  for (const CFGBlock* B : *Cfg) {
    if (!B) continue;
    std::vector<Elem>& V = Elems[B];
    for (const CFGElement& E : *B) {
      Elem X;
      if (auto S = E.getAs<CFGStmt>()) {
        const Stmt* St = S->getStmt();
        if (isSuspensionPoint(St)) X.IsSuspend = true;
        if (const auto* DRE = dyn_cast<DeclRefExpr>(St)) X.Uses = dyn_cast<VarDecl>(DRE->getDecl());
        if (const auto* DS = dyn_cast<DeclStmt>(St); DS && DS->isSingleDecl())
          if (const auto* VD = dyn_cast<VarDecl>(DS->getSingleDecl())) {
            X.Declares = VD;
            Decls.push_back({B, static_cast<unsigned>(V.size())});
            DeclVars.push_back(VD);
          }
      } else if (auto D = E.getAs<CFGAutomaticObjDtor>()) {
        X.Uses = D->getVarDecl();
      } else if (auto L = E.getAs<CFGLifetimeEnds>()) {
        X.Uses = L->getVarDecl();
      }
      V.push_back(X);
    }
  }

  auto IsUse = [](const Elem& X, const VarDecl* VD) { return X.Uses == VD || X.Declares == VD; };
  for (size_t N = 0; N < Decls.size(); ++N) {
    const VarDecl* VD = DeclVars[N];
    // A variable initialized by a suspension (`auto n = co_await x;`) is stored right after
    // its own resume; treat it as crossing, like its awaiter.
    llvm::SmallVector<const Expr*, 2> InInit;
    collectSuspensionPoints(VD->getInit(), InInit);
    if (!InInit.empty()) continue;

    bool Crosses = false;
    // Scan the rest of the declaring block, then a BFS over (block, crossed-a-suspension).
    auto [StartB, StartI] = Decls[N];
    bool Phase = false;
    const std::vector<Elem>& SV = Elems[StartB];
    for (size_t I = StartI + 1; I < SV.size() && !Crosses; ++I) {
      if (SV[I].IsSuspend)
        Phase = true;
      else if (Phase && IsUse(SV[I], VD))
        Crosses = true;
    }
    llvm::DenseSet<const CFGBlock*> Seen[2];
    std::vector<std::pair<const CFGBlock*, bool>> Work;
    auto PushSuccs = [&](const CFGBlock* B, bool P) {
      for (const CFGBlock::AdjacentBlock& A : B->succs())
        if (const CFGBlock* S = A.getReachableBlock(); S && Seen[P].insert(S).second)
          Work.push_back({S, P});
    };
    if (!Crosses) PushSuccs(StartB, Phase);
    while (!Crosses && !Work.empty()) {
      auto [B, P] = Work.back();
      Work.pop_back();
      for (const Elem& X : Elems[B]) {
        if (X.IsSuspend)
          P = true;
        else if (P && IsUse(X, VD)) {
          Crosses = true;
          break;
        }
      }
      if (!Crosses) PushSuccs(B, P);
    }
    if (!Crosses) Out.insert(VD);
  }
}

/// True when the full-expression containing \p E contains a suspension point (then its
/// temporaries live across it). Walks up the parents to the enclosing statement; the answer is
/// cached per full-expression (a large one holds many temporaries).
bool fullExprSuspends(const Expr* E, BodyIndex& Index) {
  const Stmt* Top = E;
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    const Stmt* P = Index.Parents.parentStmt(Top);
    if (!P || !isa<Expr>(P)) break;  // statement or variable initializer: the full-expression
    Top = P;
  }
  auto [It, New] = Index.FullExprSuspends.try_emplace(Top, false);
  if (New) {
    llvm::SmallVector<const Expr*, 2> S;
    collectSuspensionPoints(Top, S);
    It->second = !S.empty();
  }
  return It->second;
}

/// True when a call in \p S may throw (a callee without a non-throwing exception
/// specification, including the awaiter calls of a `co_await`): the body then has landing pads.
/// Nested lambdas, blocks and local classes are not part of the body.
bool mayThrow(const Stmt* S) {
  if (!S) return false;
  if (isa<LambdaExpr>(S) || isa<BlockExpr>(S)) return false;
  auto Throws = [](const FunctionDecl* F) {
    if (!F) return true;  // indirect call
    const auto* FPT = F->getType()->getAs<FunctionProtoType>();
    return !FPT || !FPT->isNothrow();
  };
  if (isa<CXXThrowExpr>(S)) return true;
  if (const auto* CE = dyn_cast<CallExpr>(S)) {
    if (CE->getBuiltinCallee() == 0 && Throws(CE->getDirectCallee())) return true;
  } else if (const auto* CCE = dyn_cast<CXXConstructExpr>(S)) {
    if (Throws(CCE->getConstructor())) return true;
  }
  for (const Stmt* C : S->children())
    if (mayThrow(C)) return true;
  return false;
}

/// True when the awaiter of \p Final (the final suspend) transfers control symmetrically: its
/// await_suspend returns a coroutine handle.
bool isSymmetricTransfer(const CoroutineSuspendExpr* Final) {
  if (!Final) return false;
  const Expr* Suspend = Final->getSuspendExpr();
  if (!Suspend) return false;
  QualType T = Suspend->getType();
  // clang wraps the handle's address() call around await_suspend's result; look at the call.
  if (const auto* CE = dyn_cast<CallExpr>(Suspend->IgnoreImplicit()))
    if (const auto* ME = dyn_cast<MemberExpr>(CE->getCallee()->IgnoreImplicit()))
      if (const auto* Inner = dyn_cast<CallExpr>(ME->getBase()->IgnoreImplicit()))
        T = Inner->getType();
  return !T->isVoidType() && !T->isBooleanType();
}

}  // namespace

uint64_t layoutFrameFields(const std::vector<FrameField>& Fields, uint64_t* AlignOut) {
  uint64_t Offset = 0, MaxAlign = 1;
  std::vector<const FrameField*> Rest;
  for (const FrameField& F : Fields) {
    MaxAlign = std::max(MaxAlign, F.Align);
    if (F.FieldKind == FrameField::Kind::Header || F.FieldKind == FrameField::Kind::Promise)
      Offset = llvm::alignTo(Offset, F.Align) + F.Size;
    else
      Rest.push_back(&F);
  }
  // llvm::performOptimizedStructLayout, as CoroFrame uses it: the flexible fields ordered by
  // decreasing alignment, then decreasing size (discovery order among equals); at each offset the
  // first field whose alignment the offset already satisfies is placed (no padding); when none
  // fits, the offset is padded to the smallest remaining alignment.
  std::vector<std::pair<size_t, const FrameField*>> Order;
  for (size_t I = 0; I < Rest.size(); ++I)
    Order.push_back({I, Rest[I]});
  std::sort(Order.begin(), Order.end(), [](const auto& L, const auto& R) {
    if (L.second->Align != R.second->Align) return L.second->Align > R.second->Align;
    if (L.second->Size != R.second->Size) return L.second->Size > R.second->Size;
    return L.first < R.first;
  });
  std::vector<const FrameField*> Queue;
  for (const auto& [I, F] : Order)
    Queue.push_back(F);
  while (!Queue.empty()) {
    auto Fit = std::find_if(Queue.begin(), Queue.end(),
                            [&](const FrameField* F) { return Offset % F->Align == 0; });
    if (Fit == Queue.end()) {
      Offset = llvm::alignTo(Offset, Queue.back()->Align);
      continue;
    }
    Offset += (*Fit)->Size;
    Queue.erase(Fit);
  }
  if (AlignOut) *AlignOut = MaxAlign;
  return llvm::alignTo(Offset, MaxAlign);
}

std::optional<FrameEstimate> estimateCoroutineFrame(const FunctionDecl* FD, ASTContext& Ctx) {
  const CoroutineBodyStmt* CBS = getCoroutineBody(FD);
  if (!CBS || !CBS->getBody()) return std::nullopt;
  FrameEstimate Est;
  SuspendFlow Flow;
  Flow.build(FD, CBS->getBody(), Ctx);
  BodyIndex Index(const_cast<CoroutineBodyStmt*>(CBS));
  FrameCollector C(Ctx, Est.Fields, Flow, Index);

  QualType FnPtr = Ctx.getPointerType(Ctx.VoidTy);
  C.add(FrameField::Kind::Header, "resume function pointer", SourceLocation(), FnPtr);
  C.add(FrameField::Kind::Header, "destroy function pointer", SourceLocation(), FnPtr);
  if (const VarDecl* Promise = CBS->getPromiseDecl()) {
    SourceLocation Loc = FD->getLocation();
    if (const auto* RD = Promise->getType()->getAsCXXRecordDecl()) Loc = RD->getLocation();
    C.add(FrameField::Kind::Promise,
          "promise of type '" + C.typeName(Promise->getType().getCanonicalType()) + "'", Loc,
          Promise->getType());
  }
  C.add(FrameField::Kind::Index, "suspend index", SourceLocation(), Ctx.UnsignedCharTy);

  // Parameters: by-value parameters are copied into the frame; references are spilled pointers.
  for (const ParmVarDecl* P : FD->parameters()) {
    QualType T = P->getType();
    std::string Name = P->getName().empty() ? std::string("unnamed parameter")
                                            : "parameter '" + P->getNameAsString() + "'";
    C.add(FrameField::Kind::Parameter, Name, P->getLocation(),
          T->isReferenceType() ? Ctx.getPointerType(T.getNonReferenceType()) : T);
  }

  if (const auto* S = asSuspend(CBS->getInitSuspendStmt())) C.addAwaiter(S);
  if (const auto* S = asSuspend(CBS->getFinalSuspendStmt())) C.addAwaiter(S);

  findLocalsNotInFrame(Flow, C.NotLiveAcrossSuspend);
  C.TraverseStmt(CBS->getBody());
  if (!C.Ok) return std::nullopt;

  // A final awaiter that transfers symmetrically makes clang's exception slots ("exn.slot",
  // "ehselector.slot") live across the final suspend when the body has landing pads.
  if (isSymmetricTransfer(asSuspend(CBS->getFinalSuspendStmt())) && mayThrow(CBS->getBody())) {
    C.add(FrameField::Kind::Temporary, "exception slot", SourceLocation(), FnPtr);
    C.add(FrameField::Kind::Temporary, "exception selector slot", SourceLocation(), Ctx.IntTy);
  }

  if (C.UsesThis) {
    if (const auto* MD = dyn_cast<CXXMethodDecl>(FD); MD && MD->isInstance())
      C.add(FrameField::Kind::This, "'this'", FD->getLocation(), MD->getThisType());
  }

  Est.Size = layoutFrameFields(Est.Fields, &Est.Align);
  return Est;
}

}  // namespace rill::lint
