// rill-spawn-dangling-reference implementation: for each spawn call, the task argument is taken
// apart (coroutine call, member coroutine call, lambda, closure) and every reference, pointer or
// view it binds is traced back to its referent; a referent that is a local of the spawner (or a
// temporary) is reported unless the task is co_awaited in the referent's scope.
#include "checks/SpawnDanglingReferenceCheck.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/ParentMapContext.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/ADT/StringSet.h>

#include "analysis/BodyParents.h"
#include "analysis/Coroutine.h"
#include "analysis/Rules.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace rill::lint {
namespace {

constexpr const char* kDefaultSpawnFunctions =
    "rill::spawn;rill::task::spawn;rill::spawn_local;rill::Runtime::spawn;rill::Handle::spawn;"
    "rill::JoinSet::spawn;rill::task::JoinSet::spawn;rill::TaskTracker::spawn;"
    "rill::TaskTracker::spawn_on;rill::task::Builder::spawn;rill::task::Builder::spawn_on;"
    "rill::spawn_blocking;rill::task::spawn_blocking;rill::Runtime::spawn_blocking;"
    "rill::Handle::spawn_blocking";
constexpr const char* kDefaultViewTypes = "std::basic_string_view;std::span";
constexpr const char* kDefaultJoinMethods = "join;join_all;join_next;wait;shutdown";
constexpr const char* kDefaultTaskOwners = "rill::Runtime;rill::runtime::Runtime";
constexpr unsigned kMaxDepth = 6;
/// What a reference, pointer or view bound by the task refers to.
struct Referent {
  enum Kind { None, Local, Temporary, TemporaryClosure } K = None;
  const ValueDecl* Var = nullptr;  ///< Local: the variable (or by-value parameter)
  explicit operator bool() const { return K != None; }
  static Referent local(const ValueDecl* V) { return {Local, V}; }
  static Referent temporary() { return {Temporary, nullptr}; }
};

/// One reference of the task to a referent of the spawner.
struct Finding {
  Referent R;
  SourceLocation Loc;
  std::string Via;  ///< "parameter 'p' of 'f'", "'this' of 'S::run'", "a capture by reference"
};

const Expr* ignoreWrappers(const Expr* E) {
  while (E) {
    E = E->IgnoreParens();
    if (const auto* EWC = llvm::dyn_cast<ExprWithCleanups>(E)) {
      E = EWC->getSubExpr();
    } else if (const auto* MT = llvm::dyn_cast<MaterializeTemporaryExpr>(E)) {
      E = MT->getSubExpr();
    } else if (const auto* BT = llvm::dyn_cast<CXXBindTemporaryExpr>(E)) {
      E = BT->getSubExpr();
    } else if (const auto* ICE = llvm::dyn_cast<ImplicitCastExpr>(E)) {
      E = ICE->getSubExpr();
    } else if (const auto* FC = llvm::dyn_cast<CXXFunctionalCastExpr>(E)) {
      E = FC->getSubExpr();
    } else {
      return E;
    }
  }
  return E;
}

bool isStdMoveLike(const CallExpr* CE) {
  const FunctionDecl* FD = CE ? CE->getDirectCallee() : nullptr;
  if (!FD || !FD->isInStdNamespace() || CE->getNumArgs() != 1 || !FD->getIdentifier()) return false;
  llvm::StringRef N = FD->getName();
  return N == "move" || N == "forward" || N == "as_const";
}

/// Strips wrappers, std::move and copy/move constructions.
const Expr* stripMoves(const Expr* E) {
  while (E) {
    E = ignoreWrappers(E);
    if (const auto* CE = llvm::dyn_cast<CallExpr>(E); CE && isStdMoveLike(CE)) {
      E = CE->getArg(0);
      continue;
    }
    if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(E))
      if (CE->getNumArgs() >= 1 && CE->getConstructor()->isCopyOrMoveConstructor()) {
        E = CE->getArg(0);
        continue;
      }
    return E;
  }
  return E;
}

const VarDecl* declRefVar(const Expr* E) {
  if (const auto* DRE = llvm::dyn_cast_or_null<DeclRefExpr>(stripMoves(E)))
    return llvm::dyn_cast<VarDecl>(DRE->getDecl());
  return nullptr;
}
}  // namespace

/// The parents of one spawner's body (BodyParents); nodes outside the body fall back to
/// ASTContext::getParents().
class SpawnerParents {
 public:
  SpawnerParents(ASTContext& Ctx, const FunctionDecl* Spawner)
      : Ctx(Ctx), Map(Spawner->getBody(), Spawner) {}
  /// Whether \p S is in the body.
  bool contains(const Stmt* S) const { return Map.contains(S); }
  /// The first parent of \p N; an empty node when it has none or it is not a statement or a
  /// declaration (a type, an attribute).
  DynTypedNode parent(const DynTypedNode& N) const {
    if (const DynTypedNode* P = Map.find(N)) return *P;
    if (!N.get<Stmt>() && !N.get<Decl>()) return DynTypedNode();
    auto Parents = Ctx.getParents(N);
    return Parents.empty() ? DynTypedNode() : Parents[0];
  }

 private:
  ASTContext& Ctx;
  BodyParents Map;
};

namespace {

/// The first parent of a node, when it is a statement.
const Stmt* parentStmt(const SpawnerParents& P, const DynTypedNode& N) {
  return P.parent(N).get<Stmt>();
}

/// The analysis of one spawn call.
class Analyzer {
 public:
  Analyzer(ASTContext& Ctx, const SpawnerParents& Parents, const FunctionDecl* Spawner,
           const std::vector<std::string>& ViewTypes)
      : Ctx(Ctx), Parents(Parents), Spawner(Spawner), ViewTypes(ViewTypes) {}

  /// Analyses the first argument of a spawn call.
  void analyzeTask(const Expr* A, unsigned Depth) {
    if (!A || Depth > 2) return;
    const Expr* E = stripMoves(A);
    if (const auto* LE = llvm::dyn_cast<LambdaExpr>(E)) {
      // A callable (spawn_blocking): it is copied or moved into the task, so only its
      // by-reference captures (and captured pointers/views) can dangle.
      analyzeCaptures(LE, /*ClosureIsTemporary=*/false);
      return;
    }
    if (const VarDecl* VD = declRefVar(E)) {
      // `auto t = handle(buf); rill::spawn(std::move(t));`, `auto job = [&] {...};`
      if (VD->hasLocalStorage() && !llvm::isa<ParmVarDecl>(VD) && VD->getInit() &&
          !VD->getType()->isReferenceType())
        analyzeTask(VD->getInit(), Depth + 1);
      return;
    }
    const auto* CE = llvm::dyn_cast<CallExpr>(E);
    if (!CE) return;
    const FunctionDecl* FD = CE->getDirectCallee();
    if (!FD) return;
    unsigned FirstArg = 0;
    if (const auto* OCE = llvm::dyn_cast<CXXOperatorCallExpr>(CE)) {
      const auto* MD = llvm::dyn_cast<CXXMethodDecl>(FD);
      if (!MD || MD->isStatic() || OCE->getNumArgs() == 0) return;
      FirstArg = 1;
      analyzeObject(OCE->getArg(0), /*Arrow=*/false, MD, Depth);
    } else if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(CE)) {
      const CXXMethodDecl* MD = MCE->getMethodDecl();
      const auto* ME = llvm::dyn_cast<MemberExpr>(MCE->getCallee()->IgnoreParens());
      if (MD && !MD->isStatic() && ME)
        analyzeObject(MCE->getImplicitObjectArgument(), ME->isArrow(), MD, Depth);
    }
    for (unsigned I = FirstArg, N = CE->getNumArgs(); I < N; ++I) {
      unsigned P = I - FirstArg;
      if (P >= FD->getNumParams()) break;
      const Expr* Arg = CE->getArg(I);
      if (llvm::isa<CXXDefaultArgExpr>(Arg)) continue;
      const ParmVarDecl* PVD = FD->getParamDecl(P);
      if (Referent R = bindingReferent(Arg, PVD->getType(), 0)) {
        std::string PName =
            PVD->getName().empty() ? "#" + std::to_string(P + 1) : "'" + PVD->getName().str() + "'";
        add(R, Arg->getBeginLoc(),
            "parameter " + PName + " of '" + functionDisplayName(FD) + "' (" +
                PVD->getType().getAsString(printingPolicy()) + ")");
      }
    }
  }

  llvm::SmallVector<Finding, 4> Findings;

 private:
  PrintingPolicy printingPolicy() const {
    PrintingPolicy P(Ctx.getLangOpts());
    P.SuppressTagKeyword = true;
    P.SuppressScope = false;
    return P;
  }

  void add(Referent R, SourceLocation Loc, std::string Via) {
    Findings.push_back({R, Loc, std::move(Via)});
  }

  /// The implicit object of a member coroutine: `this` of the coroutine is bound to it.
  void analyzeObject(const Expr* Obj, bool Arrow, const CXXMethodDecl* MD, unsigned Depth) {
    const Expr* O = ignoreWrappers(Obj);
    const CXXRecordDecl* RD = MD->getParent();
    if (RD && RD->isLambda()) {
      // A coroutine lambda: its captures live in the closure object.
      if (const auto* LE = llvm::dyn_cast<LambdaExpr>(O)) {
        analyzeCaptures(LE, /*ClosureIsTemporary=*/true);
        return;
      }
      const VarDecl* VD = declRefVar(O);
      if (VD && VD->getInit() && !VD->getType()->isReferenceType())
        if (const auto* LE = llvm::dyn_cast<LambdaExpr>(stripMoves(VD->getInit()))) {
          size_t Before = Findings.size();
          analyzeCaptures(LE, /*ClosureIsTemporary=*/false);
          if (Findings.size() == Before && LE->capture_size() > 0)
            if (Referent R = varReferent(VD, Depth))
              add(R, Obj->getBeginLoc(), "'this' of '" + coroutineDisplayName(MD) + "'");
        }
      return;
    }
    Referent R = Arrow ? pointerReferent(Obj, 0) : lvalueReferent(Obj, 0);
    if (R) add(R, Obj->getBeginLoc(), "'this' of '" + functionDisplayName(MD) + "'");
  }

  void analyzeCaptures(const LambdaExpr* LE, bool ClosureIsTemporary) {
    size_t Before = Findings.size();
    for (const LambdaCapture& C : LE->captures()) {
      if (!C.capturesVariable()) continue;  // `this`: the object's owner is not visible here
      const ValueDecl* V = C.getCapturedVar();
      SourceLocation Loc = C.isImplicit() && LE->getCaptureDefaultLoc().isValid()
                               ? LE->getCaptureDefaultLoc()
                               : C.getLocation();
      if (C.getCaptureKind() == LCK_ByRef) {
        Referent R;
        if (const auto* VD = llvm::dyn_cast<VarDecl>(V))
          R = VD->isInitCapture() ? lvalueReferent(VD->getInit(), 0) : varReferent(VD, 0);
        else if (const auto* BD = llvm::dyn_cast<BindingDecl>(V))
          R = bindingDeclReferent(BD, 0);
        if (R && R.K == Referent::Local && !R.Var) R.Var = V;
        if (R) add(R, Loc, "a capture by reference");
        continue;
      }
      // By copy: a pointer or view captured by value still refers to the spawner's storage.
      const auto* VD = llvm::dyn_cast<VarDecl>(V);
      if (!VD) continue;
      const Expr* Init = nullptr;
      if (VD->isInitCapture())
        Init = VD->getInit();
      else if (VD->hasLocalStorage() && !llvm::isa<ParmVarDecl>(VD) &&
               !VD->getType()->isReferenceType())
        Init = VD->getInit();
      if (!Init) continue;
      QualType T = VD->getType();
      Referent R;
      if (T->isPointerType() && !T->isFunctionPointerType())
        R = pointerReferent(Init, 1);
      else if (isViewLike(T, 0))
        R = constructedReferent(Init, 1);
      if (R) add(R, Loc, "the captured '" + VD->getName().str() + "'");
    }
    // The coroutine frame keeps a pointer to the closure: every capture, `this` included, is
    // read from the dead temporary.
    if (ClosureIsTemporary && Findings.size() == Before && LE->capture_size() > 0)
      add({Referent::TemporaryClosure, nullptr}, LE->getBeginLoc(), "");
  }

  bool isViewLike(QualType T, unsigned Depth) const {
    if (T.isNull() || Depth > 2) return false;
    const CXXRecordDecl* RD = T.getNonReferenceType()->getAsCXXRecordDecl();
    if (!RD || RD->isLambda()) return false;
    if (matchesQualifiedName(qualifiedRecordName(RD), ViewTypes)) return true;
    if (RD->isInStdNamespace()) return false;
    RD = RD->getDefinition();
    if (!RD) return false;
    for (const FieldDecl* F : RD->fields()) {
      QualType FT = F->getType();
      if (FT->isReferenceType() || (FT->isPointerType() && !FT->isFunctionPointerType()))
        return true;
      if (isViewLike(FT, Depth + 1)) return true;
    }
    return false;
  }

  /// The referent of \p Arg bound to a parameter (or field) of type \p T.
  Referent bindingReferent(const Expr* Arg, QualType T, unsigned Depth) {
    if (T.isNull() || Depth > kMaxDepth) return {};
    if (T->isReferenceType()) return lvalueReferent(Arg, Depth + 1);
    if (T->isPointerType() && !T->isFunctionPointerType()) return pointerReferent(Arg, Depth + 1);
    if (isViewLike(T, 0)) return constructedReferent(Arg, Depth + 1);
    return {};
  }

  /// The referent of a variable named directly.
  Referent varReferent(const VarDecl* VD, unsigned Depth) {
    if (!VD || Depth > kMaxDepth) return {};
    if (!VD->hasLocalStorage()) return {};  // statics, globals, thread_locals
    if (const auto* PVD = llvm::dyn_cast<ParmVarDecl>(VD)) {
      // A by-value parameter lives in the spawner's frame; a reference parameter's referent
      // belongs to the caller.
      if (PVD->getType()->isReferenceType() || PVD->getDeclContext() != Spawner) return {};
      return Referent::local(PVD);
    }
    if (VD->getType()->isReferenceType()) {
      if (const CXXForRangeStmt* FR = rangeForOf(VD)) {
        Referent R = lvalueReferent(FR->getRangeInit(), Depth + 1);
        if (R.K == Referent::Temporary) return Referent::local(VD);  // the loop's __range
        return R;
      }
      return VD->getInit() ? lvalueReferent(VD->getInit(), Depth + 1) : Referent{};
    }
    if (VD->getParentFunctionOrMethod() != Spawner) return {};
    return Referent::local(VD);
  }

  /// A structured binding names (a part of) the decomposed object, also for tuple-like types
  /// (whose get<I> returns a reference into it).
  Referent bindingDeclReferent(const BindingDecl* BD, unsigned Depth) {
    const auto* DD = llvm::dyn_cast_or_null<VarDecl>(BD->getDecomposedDecl());
    Referent R = varReferent(DD, Depth);
    if (R.K == Referent::Local && R.Var == DD) R.Var = BD;
    return R;
  }

  const CXXForRangeStmt* rangeForOf(const VarDecl* VD) {
    DynTypedNode P = Parents.parent(DynTypedNode::create(*static_cast<const Decl*>(VD)));
    if (!P.get<DeclStmt>()) return nullptr;
    const auto* FR = llvm::dyn_cast_or_null<CXXForRangeStmt>(parentStmt(Parents, P));
    return FR && FR->getLoopVariable() == VD ? FR : nullptr;
  }

  /// The object an lvalue expression denotes.
  Referent lvalueReferent(const Expr* E, unsigned Depth) {
    if (!E || Depth > kMaxDepth) return {};
    for (;;) {
      E = E->IgnoreParens();
      if (const auto* ICE = llvm::dyn_cast<ImplicitCastExpr>(E)) {
        CastKind K = ICE->getCastKind();
        if (K == CK_NoOp || K == CK_DerivedToBase || K == CK_UncheckedDerivedToBase) {
          E = ICE->getSubExpr();
          continue;
        }
        return {};
      }
      if (const auto* EWC = llvm::dyn_cast<ExprWithCleanups>(E)) {
        E = EWC->getSubExpr();
        continue;
      }
      break;
    }
    if (const auto* MT = llvm::dyn_cast<MaterializeTemporaryExpr>(E)) {
      if (MT->getExtendingDecl()) return {};
      return Referent::temporary();
    }
    if (const auto* CE = llvm::dyn_cast<CallExpr>(E); CE && isStdMoveLike(CE))
      return lvalueReferent(CE->getArg(0), Depth + 1);
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E)) {
      if (DRE->refersToEnclosingVariableOrCapture()) return {};
      if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl())) return varReferent(VD, Depth);
      if (const auto* BD = llvm::dyn_cast<BindingDecl>(DRE->getDecl()))
        return bindingDeclReferent(BD, Depth);
      return {};
    }
    if (const auto* ME = llvm::dyn_cast<MemberExpr>(E)) {
      const auto* FD = llvm::dyn_cast<FieldDecl>(ME->getMemberDecl());
      if (!FD || FD->getType()->isReferenceType()) return {};
      return ME->isArrow() ? pointerReferent(ME->getBase(), Depth + 1)
                           : lvalueReferent(ME->getBase(), Depth + 1);
    }
    if (const auto* AS = llvm::dyn_cast<ArraySubscriptExpr>(E))
      return pointerReferent(AS->getBase(), Depth + 1);
    if (const auto* CO = llvm::dyn_cast<ConditionalOperator>(E)) {
      if (Referent R = lvalueReferent(CO->getTrueExpr(), Depth + 1)) return R;
      return lvalueReferent(CO->getFalseExpr(), Depth + 1);
    }
    // Element accessors of an owning container: the element dies with the container.
    const Expr* Obj = nullptr;
    const CXXMethodDecl* MD = nullptr;
    if (const auto* OCE = llvm::dyn_cast<CXXOperatorCallExpr>(E)) {
      MD = llvm::dyn_cast_or_null<CXXMethodDecl>(OCE->getDirectCallee());
      if (OCE->getNumArgs() > 0) Obj = OCE->getArg(0);
    } else if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      MD = MCE->getMethodDecl();
      const auto* ME = llvm::dyn_cast<MemberExpr>(MCE->getCallee()->IgnoreParens());
      if (ME && !ME->isArrow()) Obj = MCE->getImplicitObjectArgument();
    }
    if (!MD || !Obj || !MD->getReturnType()->isReferenceType()) return {};
    const CXXRecordDecl* RD = getRecord(Obj->getType());
    if (!RD || isViewLike(Obj->getType(), 0)) return {};
    std::string RName = qualifiedRecordName(RD);
    bool Accessor = false;
    if (MD->getOverloadedOperator() == OO_Subscript) {
      Accessor = true;
    } else if (MD->getOverloadedOperator() == OO_Star) {
      Accessor = RName == "std::optional" || RName == "std::unique_ptr";
    } else if (MD->getIdentifier()) {
      llvm::StringRef N = MD->getName();
      Accessor = N == "at" || N == "front" || N == "back" || N == "value";
    }
    if (!Accessor || RName == "std::shared_ptr") return {};
    return lvalueReferent(Obj, Depth + 1);
  }

  /// The object a pointer expression points into.
  Referent pointerReferent(const Expr* E, unsigned Depth) {
    if (!E || Depth > kMaxDepth) return {};
    for (;;) {
      E = E->IgnoreParens();
      if (const auto* ICE = llvm::dyn_cast<ImplicitCastExpr>(E)) {
        CastKind K = ICE->getCastKind();
        if (K == CK_ArrayToPointerDecay) return lvalueReferent(ICE->getSubExpr(), Depth + 1);
        if (K == CK_NoOp || K == CK_DerivedToBase || K == CK_UncheckedDerivedToBase ||
            K == CK_BitCast || K == CK_LValueToRValue) {
          if (K == CK_LValueToRValue) {
            // A pointer variable: follow its initializer (never reassigned is assumed).
            if (const VarDecl* VD = declRefVar(ICE->getSubExpr()))
              if (VD->hasLocalStorage() && !llvm::isa<ParmVarDecl>(VD) && VD->getInit() &&
                  !VD->getType()->isReferenceType())
                return pointerReferent(VD->getInit(), Depth + 1);
            return {};
          }
          E = ICE->getSubExpr();
          continue;
        }
        return {};
      }
      break;
    }
    if (const auto* UO = llvm::dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
      return lvalueReferent(UO->getSubExpr(), Depth + 1);
    if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl* MD = MCE->getMethodDecl();
      const auto* ME = llvm::dyn_cast<MemberExpr>(MCE->getCallee()->IgnoreParens());
      if (!MD || !MD->getIdentifier() || !ME || ME->isArrow()) return {};
      llvm::StringRef N = MD->getName();
      if (N != "data" && N != "c_str" && N != "get") return {};
      const Expr* Obj = MCE->getImplicitObjectArgument();
      const CXXRecordDecl* RD = getRecord(Obj->getType());
      if (!RD || isViewLike(Obj->getType(), 0) || qualifiedRecordName(RD) == "std::shared_ptr")
        return {};
      return lvalueReferent(Obj, Depth + 1);
    }
    return {};
  }

  /// The storage a view-like object (std::string_view, std::span, a class with reference or
  /// pointer members) is constructed to refer to.
  Referent constructedReferent(const Expr* E, unsigned Depth) {
    if (!E || Depth > kMaxDepth) return {};
    E = ignoreWrappers(E);
    if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(E)) {
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      if (Ctor->isCopyOrMoveConstructor() && CE->getNumArgs() >= 1) {
        const Expr* Src = ignoreWrappers(CE->getArg(0));
        if (const VarDecl* VD = declRefVar(Src)) {
          if (VD->hasLocalStorage() && !llvm::isa<ParmVarDecl>(VD) && VD->getInit() &&
              !VD->getType()->isReferenceType())
            return constructedReferent(VD->getInit(), Depth + 1);
          return {};
        }
        return constructedReferent(Src, Depth + 1);
      }
      for (unsigned I = 0, N = CE->getNumArgs(); I < N && I < Ctor->getNumParams(); ++I) {
        if (llvm::isa<CXXDefaultArgExpr>(CE->getArg(I))) continue;
        if (Referent R = bindingReferent(CE->getArg(I), Ctor->getParamDecl(I)->getType(), Depth))
          return R;
      }
      return {};
    }
    if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(E))
      if (llvm::isa_and_nonnull<CXXConversionDecl>(MCE->getMethodDecl()))
        return lvalueReferent(MCE->getImplicitObjectArgument(), Depth + 1);
    if (const auto* ILE = llvm::dyn_cast<InitListExpr>(E)) {
      const CXXRecordDecl* RD = getRecord(ILE->getType());
      if (!RD || !RD->getDefinition()) return {};
      unsigned I = 0;
      for (const FieldDecl* F : RD->getDefinition()->fields()) {
        if (I >= ILE->getNumInits()) break;
        if (Referent R = bindingReferent(ILE->getInit(I++), F->getType(), Depth)) return R;
      }
    }
    return {};
  }

  ASTContext& Ctx;
  const SpawnerParents& Parents;
  const FunctionDecl* Spawner;
  const std::vector<std::string>& ViewTypes;
};

/// Finds a co_await, after the spawn, of the handle / set / container that holds the task.
class JoinFinder : public RecursiveASTVisitor<JoinFinder> {
 public:
  JoinFinder(const SourceManager& SM, SourceLocation After,
             const llvm::SmallPtrSetImpl<const VarDecl*>& Holders,
             const std::vector<std::string>& JoinMethods)
      : SM(SM), After(After), Holders(Holders), JoinMethods(JoinMethods) {}
  bool Found = false;

  bool TraverseLambdaExpr(LambdaExpr*) { return true; }  // another function's body
  bool VisitCoawaitExpr(CoawaitExpr* CA) {
    if (CA->isImplicit() || !SM.isBeforeInTranslationUnit(After, CA->getBeginLoc())) return true;
    if (awaitsHolder(CA->getOperand())) Found = true;
    return !Found;
  }
  bool VisitCXXForRangeStmt(CXXForRangeStmt* FR) {
    // for (auto& h : handles) co_await h;
    if (Holders.contains(declRefVar(FR->getRangeInit())) && FR->getLoopVariable())
      LoopVars.insert(FR->getLoopVariable());
    return true;
  }

 private:
  bool isHolder(const Expr* E) const {
    const VarDecl* VD = declRefVar(E);
    return VD && (Holders.contains(VD) || LoopVars.contains(VD));
  }
  bool awaitsHolder(const Expr* Op) const {
    const Expr* E = stripMoves(Op);
    if (isHolder(E)) return true;
    if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl* MD = MCE->getMethodDecl();
      if (MD && MD->getIdentifier() && llvm::is_contained(JoinMethods, MD->getName().str()) &&
          isHolder(MCE->getImplicitObjectArgument()))
        return true;
      return false;
    }
    if (const auto* CE = llvm::dyn_cast<CallExpr>(E))
      for (const Expr* Arg : CE->arguments())
        if (isHolder(Arg)) return true;
    return false;
  }

  const SourceManager& SM;
  SourceLocation After;
  const llvm::SmallPtrSetImpl<const VarDecl*>& Holders;
  const std::vector<std::string>& JoinMethods;
  llvm::SmallPtrSet<const VarDecl*, 4> LoopVars;
};

bool isWrapper(const Stmt* S) {
  if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(S))
    return CE->getNumArgs() >= 1 && CE->getConstructor()->isCopyOrMoveConstructor();
  return llvm::isa<ImplicitCastExpr, MaterializeTemporaryExpr, CXXBindTemporaryExpr,
                   ExprWithCleanups, ParenExpr, OpaqueValueExpr, CXXFunctionalCastExpr>(S);
}

bool isJoinHandleType(QualType T) {
  const CXXRecordDecl* RD = getRecord(T);
  return RD && RD->getIdentifier() && RD->getName().ends_with("JoinHandle");
}

}  // namespace

SpawnDanglingReferenceCheck::SpawnDanglingReferenceCheck(llvm::StringRef Name,
                                                         clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      SpawnFunctionsOption(Options.get("SpawnFunctions", kDefaultSpawnFunctions)),
      ViewTypesOption(Options.get("ViewTypes", kDefaultViewTypes)),
      JoinMethodsOption(Options.get("JoinMethods", kDefaultJoinMethods)),
      TaskOwnersOption(Options.get("TaskOwners", kDefaultTaskOwners)),
      SpawnFunctions(splitRuleNames(SpawnFunctionsOption)),
      ViewTypes(splitRuleNames(ViewTypesOption)),
      JoinMethods(splitRuleNames(JoinMethodsOption)),
      TaskOwners(splitRuleNames(TaskOwnersOption)) {}

SpawnDanglingReferenceCheck::~SpawnDanglingReferenceCheck() = default;

void SpawnDanglingReferenceCheck::onStartOfTranslationUnit() {
  Reported.clear();
  Scopes.clear();
  ParentsOf.clear();
}

void SpawnDanglingReferenceCheck::onEndOfTranslationUnit() {
  Scopes.clear();
  ParentsOf.clear();
}

void SpawnDanglingReferenceCheck::openScope(const SourceManager& SM, SourceRange R,
                                            const FunctionDecl* Fn) {
  if (!Fn || R.isInvalid()) return;
  auto [File, Begin] = SM.getDecomposedExpansionLoc(R.getBegin());
  auto [EndFile, End] = SM.getDecomposedLoc(SM.getExpansionRange(R.getEnd()).getEnd());
  if (EndFile != File || End < Begin) return;
  closeScopesBefore(File, Begin);
  Scopes.push_back({File, Begin, End, Fn});
}

void SpawnDanglingReferenceCheck::closeScopesBefore(FileID File, unsigned Off) {
  while (!Scopes.empty() &&
         (Scopes.back().File != File || Off < Scopes.back().Begin || Off > Scopes.back().End))
    Scopes.pop_back();
}

const SpawnerParents& SpawnDanglingReferenceCheck::parentsOf(ASTContext& Ctx,
                                                             const FunctionDecl* Fn) {
  std::unique_ptr<SpawnerParents>& Slot = ParentsOf[Fn];
  if (!Slot) Slot = std::make_unique<SpawnerParents>(Ctx, Fn);
  return *Slot;
}

const FunctionDecl* SpawnDanglingReferenceCheck::spawnerOf(ASTContext& Ctx, const CallExpr* Call) {
  const SourceManager& SM = Ctx.getSourceManager();
  auto [File, Off] = SM.getDecomposedExpansionLoc(Call->getBeginLoc());
  closeScopesBefore(File, Off);
  // The innermost scope whose body holds the call (macros can make a finished sibling lambda
  // look like it contains the call).
  for (auto It = Scopes.rbegin(); It != Scopes.rend(); ++It)
    if (parentsOf(Ctx, It->Fn).contains(Call)) return It->Fn;
  return nullptr;
}

void SpawnDanglingReferenceCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "SpawnFunctions", SpawnFunctionsOption);
  Options.store(Opts, "ViewTypes", ViewTypesOption);
  Options.store(Opts, "JoinMethods", JoinMethodsOption);
  Options.store(Opts, "TaskOwners", TaskOwnersOption);
}

void SpawnDanglingReferenceCheck::registerMatchers(MatchFinder* Finder) {
  // Pre-filter on the unqualified names; check() compares the qualified name.
  llvm::StringSet<> Short;
  for (const std::string& N : SpawnFunctions) {
    llvm::StringRef S(N);
    size_t Pos = S.rfind("::");
    Short.insert(Pos == llvm::StringRef::npos ? S : S.substr(Pos + 2));
  }
  std::vector<llvm::StringRef> Names;
  for (const auto& E : Short)
    Names.push_back(E.getKey());
  if (Names.empty()) return;
  // Functions and lambdas are seen before the calls in their bodies: they open the scopes in
  // which a spawn's spawner is looked up.
  Finder->addMatcher(functionDecl(isDefinition()).bind("scope-fn"), this);
  Finder->addMatcher(lambdaExpr().bind("scope-lambda"), this);
  Finder->addMatcher(callExpr(unless(isInstantiationDependent()),
                              callee(functionDecl(hasAnyName(Names)).bind("fn")))
                         .bind("call"),
                     this);
}

void SpawnDanglingReferenceCheck::check(const MatchFinder::MatchResult& Result) {
  if (const auto* FD = Result.Nodes.getNodeAs<FunctionDecl>("scope-fn")) {
    if (FD->doesThisDeclarationHaveABody())
      openScope(*Result.SourceManager, FD->getSourceRange(), FD);
    return;
  }
  if (const auto* LE = Result.Nodes.getNodeAs<LambdaExpr>("scope-lambda")) {
    openScope(*Result.SourceManager, LE->getSourceRange(), LE->getCallOperator());
    return;
  }
  const auto* Call = Result.Nodes.getNodeAs<CallExpr>("call");
  const auto* Fn = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  if (!Call || !Fn || Call->getNumArgs() == 0) return;
  std::string FnName = qualifiedNameForRules(Fn);
  if (!Rules::contains(SpawnFunctions, FnName)) return;
  ASTContext& Ctx = *Result.Context;
  const SourceManager& SM = *Result.SourceManager;
  // The spawner: the innermost function or lambda around the call, i.e. the innermost open
  // scope (ASTContext's parents when there is none, e.g. a call in a default argument).
  const FunctionDecl* Spawner = spawnerOf(Ctx, Call);
  if (!Spawner) {
    DynTypedNode N = DynTypedNode::create(*static_cast<const Stmt*>(Call));
    for (unsigned Steps = 0; Steps < 256 && !Spawner; ++Steps) {
      auto Parents = Ctx.getParents(N);
      if (Parents.empty()) break;
      if (const auto* LE = Parents[0].get<LambdaExpr>())
        Spawner = LE->getCallOperator();
      else if (const auto* FD = Parents[0].get<FunctionDecl>())
        Spawner = FD;
      N = Parents[0];
    }
  }
  if (!Spawner) return;
  unsigned TaskArg = llvm::isa<CXXOperatorCallExpr>(Call) ? 1 : 0;
  if (Call->getNumArgs() <= TaskArg) return;

  const SpawnerParents& Parents = parentsOf(Ctx, Spawner);
  Analyzer A(Ctx, Parents, Spawner, ViewTypes);
  A.analyzeTask(Call->getArg(TaskArg), 0);
  if (A.Findings.empty()) return;

  // Who holds the task after the call: a directly awaited JoinHandle, a handle variable, a
  // container of handles, or the set / tracker the spawn was called on.
  bool DirectlyAwaited = false;
  llvm::SmallPtrSet<const VarDecl*, 4> Holders;
  // A local runtime that owns its tasks (its destructor cancels and destroys them), declared
  // after the referent: it is destroyed first.
  const VarDecl* Owner = nullptr;
  if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (const VarDecl* O = declRefVar(MCE->getImplicitObjectArgument())) {
      Holders.insert(O);
      if (O->hasLocalStorage() && !O->getType()->isReferenceType())
        if (const CXXRecordDecl* RD = getRecord(O->getType()))
          if (matchesQualifiedName(qualifiedRecordName(RD), TaskOwners)) Owner = O;
    }
  DynTypedNode Node = DynTypedNode::create(*static_cast<const Stmt*>(Call));
  for (unsigned Steps = 0; Steps < 16; ++Steps) {
    DynTypedNode Up = Parents.parent(Node);
    if (const auto* VD = Up.get<VarDecl>()) {
      Holders.insert(VD);
      break;
    }
    const Stmt* P = Up.get<Stmt>();
    if (!P) break;
    if (llvm::isa<CoawaitExpr>(P)) {
      DirectlyAwaited = isJoinHandleType(Call->getType());
      break;
    }
    if (const auto* MCE = llvm::dyn_cast<CXXMemberCallExpr>(P)) {
      // handles.push_back(rill::spawn(...)) / emplace_back / insert
      if (const VarDecl* C = declRefVar(MCE->getImplicitObjectArgument())) Holders.insert(C);
      break;
    }
    if (!isWrapper(P)) break;
    Node = Up;
  }
  if (DirectlyAwaited) return;

  std::string SpawnerName = functionDisplayName(Spawner);
  for (const Finding& F : A.Findings) {
    // Joined in the referent's scope after the spawn?
    if (F.R.K == Referent::Local && Owner &&
        SM.isBeforeInTranslationUnit(F.R.Var->getLocation(), Owner->getLocation()))
      continue;
    if (F.R.K == Referent::Local && !Holders.empty()) {
      const Stmt* Scope = nullptr;
      if (llvm::isa<ParmVarDecl>(F.R.Var)) {
        Scope = Spawner->getBody();
      } else {
        DynTypedNode N = DynTypedNode::create(*static_cast<const Decl*>(F.R.Var));
        for (unsigned Steps = 0; Steps < 8 && !Scope; ++Steps) {
          DynTypedNode Up = Parents.parent(N);
          if (const auto* CS = Up.get<CompoundStmt>())
            Scope = CS;
          else if (const auto* FD = Up.get<FunctionDecl>())
            Scope = FD->getBody();
          else if (!Up.get<Stmt>() && !Up.get<Decl>())
            break;
          N = Up;
        }
      }
      if (Scope) {
        JoinFinder J(SM, Call->getEndLoc(), Holders, JoinMethods);
        J.TraverseStmt(const_cast<Stmt*>(Scope));
        if (J.Found) continue;
      }
    }
    SourceLocation Loc = SM.getExpansionLoc(F.Loc);
    if (!Reported.insert(Loc.getRawEncoding()).second) continue;
    switch (F.R.K) {
      case Referent::Local: {
        const char* Kind = llvm::isa<ParmVarDecl>(F.R.Var) ? "by-value parameter" : "local";
        diag(Loc,
             "'%0' starts a task that can outlive '%1' but refers to its %2 '%3' through %4; "
             "pass it by value (move it in), share it with std::shared_ptr, or co_await the task "
             "before '%3' goes out of scope")
            << FnName << SpawnerName << Kind << F.R.Var->getName() << F.Via;
        diag(F.R.Var->getLocation(), "'%0' is declared here", DiagnosticIDs::Note)
            << F.R.Var->getName();
        break;
      }
      case Referent::Temporary:
        diag(Loc,
             "'%0' starts a task that refers to a temporary destroyed at the end of the "
             "statement through %1; pass it by value")
            << FnName << F.Via;
        break;
      case Referent::TemporaryClosure:
        diag(Loc,
             "'%0' starts a coroutine lambda whose captures live in a temporary closure destroyed "
             "at the end of the statement; pass the values as parameters of a capture-less lambda")
            << FnName;
        break;
      case Referent::None:
        break;
    }
  }
}

}  // namespace rill::lint
