// rill-blocking-call implementation: one RecursiveASTVisitor pass per function body (coroutine or
// helper), a per-TU call graph built lazily from those passes, and a memoized, cycle-safe BFS
// that finds a path from a callee to a blocking call ("may block" summaries).
#include "checks/BlockingCallCheck.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/DenseSet.h>

#include <deque>
#include <optional>

#include "analysis/Rules.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace rill::lint {

namespace {

/// A direct call to a blocking function found in a body.
struct DirectHit {
  SourceLocation Loc;
  const BlockingFunction* Rule = nullptr;
  std::string Name;  ///< as displayed, e.g. "std::ifstream" or "sleep"
};

/// A call from a body to a TU function with a body (a call-graph edge).
struct Edge {
  SourceLocation Loc;
  const FunctionDecl* Callee = nullptr;
};

struct FunctionInfo {
  std::vector<DirectHit> Hits;
  std::vector<Edge> Edges;
};

/// The record type behind T (through pointers, references and sugar), or null.
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

std::string typeDisplay(QualType T, const ASTContext& Ctx) {
  T = T.getNonReferenceType().getUnqualifiedType();
  if (const auto* PT = T->getAs<PointerType>()) T = PT->getPointeeType().getUnqualifiedType();
  PrintingPolicy P(Ctx.getLangOpts());
  P.SuppressTagKeyword = true;
  P.FullyQualifiedName = false;
  return T.getAsString(P);
}

}  // namespace

/// Name of a function for messages: qualified, "lambda" for a lambda's call operator.
std::string displayName(const FunctionDecl* FD) {
  if (const auto* MD = llvm::dyn_cast<CXXMethodDecl>(FD); MD && MD->getParent()->isLambda())
    return "lambda";
  return FD->getQualifiedNameAsString();
}

/// Per-TU analysis state: function scans, "may block" memo, and reported locations.
class BlockingAnalysis {
 public:
  BlockingAnalysis(const Rules& R, bool Strict) : R(R), Strict(Strict) {}

  void reset(ASTContext* NewCtx) {
    if (Ctx == NewCtx) return;
    Ctx = NewCtx;
    Infos.clear();
    Memo.clear();
    Reported.clear();
    CheckedCoroutines.clear();
  }

  /// Scans Body (statements executed by Fn when it runs) for direct hits and edges.
  const FunctionInfo& scan(const FunctionDecl* Fn, const Stmt* Body) {
    auto It = Infos.find(Fn);
    if (It != Infos.end()) return It->second;
    FunctionInfo Info;
    if (Body) Scanner(*this, Info).TraverseStmt(const_cast<Stmt*>(Body));
    return Infos.try_emplace(Fn, std::move(Info)).first->second;
  }

  /// A path from Fn down to a blocking call: the edges taken (with the function they leave),
  /// then the final hit. Empty optional when Fn cannot block.
  struct Path {
    std::vector<std::pair<const FunctionDecl*, Edge>> Hops;  ///< (caller, edge) from Fn onward
    const FunctionDecl* Last = nullptr;                      ///< function containing the hit
    DirectHit Hit;
  };
  std::optional<Path> mayBlock(const FunctionDecl* Fn);

  const Rules& R;
  const bool Strict;
  ASTContext* Ctx = nullptr;
  llvm::DenseSet<std::pair<unsigned, const BlockingFunction*>> Reported;
  llvm::DenseSet<const FunctionDecl*> CheckedCoroutines;

  static bool isCoroutine(const FunctionDecl* FD) {
    return FD && llvm::isa_and_nonnull<CoroutineBodyStmt>(FD->getBody());
  }

 private:
  /// Memo: Fn -> how it blocks (next edge index or direct hit index), or "does not block".
  struct MemoEntry {
    bool Blocks = false;
    int HitIndex = -1;   ///< index into Infos[Fn].Hits when the block is direct
    int EdgeIndex = -1;  ///< else index into Infos[Fn].Edges
  };
  llvm::DenseMap<const FunctionDecl*, MemoEntry> Memo;
  llvm::DenseMap<const FunctionDecl*, FunctionInfo> Infos;

  const FunctionInfo& scanDefinition(const FunctionDecl* Fn) {
    const FunctionDecl* Def = Fn->getDefinition();
    return scan(Fn, Def ? Def->getBody() : nullptr);
  }

  class Scanner : public RecursiveASTVisitor<Scanner> {
   public:
    Scanner(BlockingAnalysis& A, FunctionInfo& Info) : A(A), Info(Info) {}

    bool TraverseStmt(Stmt* S) {
      if (!S) return true;
      if (auto* CE = llvm::dyn_cast<CallExpr>(S)) {
        // Callables handed to offload functions run on the blocking pool: skip the arguments.
        if (const auto* FD = CE->getDirectCallee()) {
          if (Rules::contains(A.R.OffloadFunctions, qualifiedNameForRules(FD))) return true;
        } else if (isOffloadLookup(CE->getCallee())) {
          return true;
        }
      }
      return RecursiveASTVisitor::TraverseStmt(S);
    }

    /// Lambda bodies do not run where the lambda is written; an invocation of the lambda is a
    /// call edge to its operator(). Only the init-captures run here.
    bool TraverseLambdaExpr(LambdaExpr* LE) {
      for (unsigned I = 0, N = LE->capture_size(); I < N; ++I)
        if (LE->isInitCapture(LE->capture_begin() + I))
          if (Expr* Init = LE->capture_init_begin()[I]) TraverseStmt(Init);
      return true;
    }
    bool TraverseBlockExpr(BlockExpr*) { return true; }
    bool TraverseDecl(Decl* D) {
      // Local classes and functions declared in a body are not executed by it.
      if (llvm::isa_and_nonnull<CXXRecordDecl, FunctionDecl, FunctionTemplateDecl>(D)) return true;
      return RecursiveASTVisitor::TraverseDecl(D);
    }

    bool VisitCallExpr(CallExpr* CE) {
      const FunctionDecl* FD = CE->getDirectCallee();
      if (!FD) {
        checkUnresolved(CE);
        return true;
      }
      SourceLocation Loc = CE->getBeginLoc();
      if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE)) {
        Loc = MC->getExprLoc();
        if (MC->getExprLoc().isValid()) Loc = MC->getExprLoc();
      }
      if (auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(CE))
        if (OC->getOperator() != OO_Call && OC->getOperator() != OO_Subscript)
          Loc = OC->getOperatorLoc();
      std::string Name = qualifiedNameForRules(FD);
      if (const BlockingFunction* B = A.lookup(Name)) {
        Info.Hits.push_back({Loc, B, Name});
        return true;
      }
      // Member / operator call on an object of a blocking class (std::ifstream f; f.read()).
      const Expr* Obj = nullptr;
      if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE))
        Obj = MC->getImplicitObjectArgument();
      else if (llvm::isa<CXXOperatorCallExpr>(CE) && CE->getNumArgs() > 0)
        Obj = CE->getArg(0);
      // Const member functions of a blocking class (good(), is_open(), operator!) only read the
      // object's state; the I/O is in the constructor and the non-const operations.
      // (libstdc++'s basic_ifstream::is_open also has a non-const overload.)
      if (const auto* MD = llvm::dyn_cast<CXXMethodDecl>(FD)) {
        static constexpr llvm::StringLiteral kStateQueries[] = {
            "is_open", "good", "bad", "fail", "eof", "rdstate", "gcount", "exceptions"};
        if (MD->isConst() ||
            (MD->getIdentifier() && llvm::is_contained(kStateQueries, MD->getName())))
          Obj = nullptr;
      }
      if (Obj) {
        Obj = Obj->IgnoreImpCasts();
        if (const CXXRecordDecl* RD = recordOf(Obj->getType())) {
          if (const BlockingFunction* B = A.lookup(qualifiedNameForRules(RD))) {
            std::string Method = FD->getNameAsString();
            Info.Hits.push_back({Loc, B, typeDisplay(Obj->getType(), *A.Ctx) + "::" + Method});
            return true;
          }
        }
      }
      addEdge(Loc, FD);
      return true;
    }

    bool VisitCXXConstructExpr(CXXConstructExpr* CE) {
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      if (!Ctor) return true;
      const CXXRecordDecl* RD = Ctor->getParent();
      // Implicit constructors (C structs such as `struct stat`, whose names equal blocking
      // functions, and copies/moves of existing objects) do no I/O.
      if (Ctor->isImplicit() || Ctor->isCopyOrMoveConstructor()) {
        addEdge(CE->getBeginLoc(), Ctor);
        return true;
      }
      if (const BlockingFunction* B = A.lookup(qualifiedNameForRules(RD))) {
        Info.Hits.push_back({CE->getBeginLoc(), B, typeDisplay(CE->getType(), *A.Ctx)});
        return true;
      }
      addEdge(CE->getBeginLoc(), Ctor);
      return true;
    }

   private:
    BlockingAnalysis& A;
    FunctionInfo& Info;

    bool isOffloadLookup(const Expr* Callee) {
      if (const auto* ULE = llvm::dyn_cast<UnresolvedLookupExpr>(Callee->IgnoreImplicit()))
        for (const NamedDecl* D : ULE->decls())
          if (Rules::contains(A.R.OffloadFunctions, qualifiedNameForRules(D->getUnderlyingDecl())))
            return true;
      return false;
    }

    /// Calls in uninstantiated templates: `std::this_thread::sleep_for(d)` with a dependent
    /// argument is an UnresolvedLookupExpr naming the candidate declarations.
    void checkUnresolved(CallExpr* CE) {
      const auto* ULE = llvm::dyn_cast<UnresolvedLookupExpr>(CE->getCallee()->IgnoreImplicit());
      if (!ULE) return;
      for (const NamedDecl* D : ULE->decls()) {
        std::string Name = qualifiedNameForRules(D->getUnderlyingDecl());
        if (const BlockingFunction* B = A.lookup(Name)) {
          Info.Hits.push_back({CE->getBeginLoc(), B, Name});
          return;
        }
      }
    }

    void addEdge(SourceLocation Loc, const FunctionDecl* FD) {
      const FunctionDecl* Def = FD->getDefinition();
      if (!Def || !Def->getBody() || isCoroutine(Def)) return;
      const SourceManager& SM = A.Ctx->getSourceManager();
      if (SM.isInSystemHeader(Def->getLocation())) return;
      Info.Edges.push_back({Loc, Def});
    }
  };

 public:
  const BlockingFunction* lookup(llvm::StringRef Name) const {
    const BlockingFunction* B = R.findBlocking(Name);
    if (B && B->Strict && !Strict) return nullptr;
    return B;
  }
};

std::optional<BlockingAnalysis::Path> BlockingAnalysis::mayBlock(const FunctionDecl* Start) {
  auto build = [&](const FunctionDecl* Fn) {
    Path P;
    while (true) {
      const MemoEntry& M = Memo[Fn];
      const FunctionInfo& I = Infos[Fn];
      if (M.HitIndex >= 0) {
        P.Last = Fn;
        P.Hit = I.Hits[M.HitIndex];
        return P;
      }
      const Edge& E = I.Edges[M.EdgeIndex];
      P.Hops.push_back({Fn, E});
      Fn = E.Callee;
    }
  };
  if (auto It = Memo.find(Start); It != Memo.end()) {
    if (!It->second.Blocks) return std::nullopt;
    return build(Start);
  }
  // BFS over the call graph; parents give a shortest path to the first blocking function.
  llvm::DenseMap<const FunctionDecl*, std::pair<const FunctionDecl*, int>> Parent;
  std::deque<const FunctionDecl*> Queue{Start};
  Parent[Start] = {nullptr, -1};
  const FunctionDecl* Found = nullptr;
  while (!Queue.empty() && !Found) {
    const FunctionDecl* Fn = Queue.front();
    Queue.pop_front();
    auto MIt = Memo.find(Fn);
    if (MIt != Memo.end()) {
      if (MIt->second.Blocks) Found = Fn;
      continue;  // known non-blocking: its reachable set cannot block
    }
    const FunctionInfo& Info = scanDefinition(Fn);
    if (!Info.Hits.empty()) {
      Memo[Fn] = {true, 0, -1};
      Found = Fn;
      break;
    }
    for (size_t EI = 0; EI < Info.Edges.size(); ++EI) {
      const FunctionDecl* C = Info.Edges[EI].Callee;
      if (Parent.try_emplace(C, std::make_pair(Fn, static_cast<int>(EI))).second)
        Queue.push_back(C);
    }
  }
  if (!Found) {
    for (auto& KV : Parent)
      Memo[KV.first] = {false, -1, -1};
    return std::nullopt;
  }
  // Memoize the path back to Start: each node's next hop is the edge toward Found.
  for (const FunctionDecl* Fn = Found; Parent[Fn].first;) {
    auto [Caller, EdgeIdx] = Parent[Fn];
    if (!Memo.count(Caller)) Memo[Caller] = {true, -1, EdgeIdx};
    Fn = Caller;
  }
  return build(Start);
}

BlockingCallCheck::BlockingCallCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      Strict(Options.get("Strict", false)),
      Transitive(Options.get("Transitive", true)) {
  std::string Err;
  RulesPtr = getRules(*Context, &Err);
  if (!Err.empty()) configurationDiag("%0") << Err;
  Analysis = std::make_unique<BlockingAnalysis>(*RulesPtr, Strict);
}

BlockingCallCheck::~BlockingCallCheck() = default;

void BlockingCallCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "Strict", Strict);
  Options.store(Opts, "Transitive", Transitive);
}

void BlockingCallCheck::registerMatchers(MatchFinder* Finder) {
  // Every function (incl. member functions, template instantiations and patterns, lambda call
  // operators) whose body is a coroutine body.
  Finder->addMatcher(
      functionDecl(isDefinition(), hasBody(coroutineBodyStmt().bind("body"))).bind("coroutine"),
      this);
}

void BlockingCallCheck::check(const MatchFinder::MatchResult& Result) {
  const auto* Fn = Result.Nodes.getNodeAs<FunctionDecl>("coroutine");
  const auto* Body = Result.Nodes.getNodeAs<CoroutineBodyStmt>("body");
  if (!Fn || !Body) return;
  BlockingAnalysis& A = *Analysis;
  A.reset(Result.Context);
  if (!A.CheckedCoroutines.insert(Fn).second) return;

  std::string Coro = displayName(Fn);

  // The coroutine itself is scanned under a distinct key (its body is not a helper's body).
  const FunctionInfo& Info = A.scan(Fn, Body->getBody());
  for (const DirectHit& H : Info.Hits) {
    if (!A.Reported.insert({H.Loc.getRawEncoding(), H.Rule}).second) continue;
    diag(H.Loc, "blocking %0 '%1' in coroutine '%2'; %3")
        << H.Rule->Category << H.Name << Coro << H.Rule->Fix;
  }
  if (!Transitive) return;
  for (const Edge& E : Info.Edges) {
    std::optional<BlockingAnalysis::Path> P = A.mayBlock(E.Callee);
    if (!P) continue;
    if (!A.Reported.insert({E.Loc.getRawEncoding(), P->Hit.Rule}).second) continue;
    diag(E.Loc, "blocking %0 '%1' reached through call to '%2' in coroutine '%3'; %4")
        << P->Hit.Rule->Category << P->Hit.Name << displayName(E.Callee) << Coro
        << P->Hit.Rule->Fix;
    for (const auto& [Caller, Hop] : P->Hops)
      diag(Hop.Loc, "'%0' calls '%1' here", DiagnosticIDs::Note)
          << displayName(Caller) << displayName(Hop.Callee);
    diag(P->Hit.Loc, "'%0' calls blocking %1 '%2' here", DiagnosticIDs::Note)
        << displayName(P->Last) << P->Hit.Rule->Category << P->Hit.Name;
  }
}

void BlockingCallCheck::onEndOfTranslationUnit() {
  Analysis->reset(nullptr);
}

}  // namespace rill::lint
