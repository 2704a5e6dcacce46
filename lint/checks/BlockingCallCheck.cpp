// rill-blocking-call implementation: one RecursiveASTVisitor pass per function body (coroutine or
// helper), a per-TU call graph built lazily from those passes, a memoized, cycle-safe BFS that
// finds whether a callee can reach a blocking call at all, and then a path-sensitive search
// ("may block" summaries) that only counts calls on paths that can return normally (not blocks
// ending in a [[noreturn]] call or a throw) and that folds constant and default arguments into
// the callee's branch conditions.
#include "checks/BlockingCallCheck.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/ExprConcepts.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Analysis/CFG.h>
#include <clang/Lex/Lexer.h>
#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/Path.h>
#include <llvm/ADT/DenseSet.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "analysis/Coroutine.h"
#include "analysis/Rules.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace rill::lint {

namespace {

/// The fix shown for a blocking call reached through a logging library (Logging on).
constexpr llvm::StringLiteral kLoggingFix =
    "the logger does this when it writes synchronously; configure it to log asynchronously "
    "(or set Logging: false to accept logging)";

/// A direct call to a blocking function found in a body.
struct DirectHit {
  SourceLocation Loc;
  const Stmt* S = nullptr;  ///< the call / construction
  const BlockingFunction* Rule = nullptr;
  std::string Name;  ///< as displayed, e.g. "std::ifstream" or "sleep"
  /// The rule makes an fd call non-blocking on a non-blocking fd (`fd_nonblocking`), and this
  /// call was not shown non-blocking where it is: a caller that handles would-block results
  /// still makes it non-blocking (the recv -> EAGAIN -> poll pattern split over functions).
  bool FdGuardable = false;
};

/// A call from a body to a TU function with a body (a call-graph edge).
struct Edge {
  SourceLocation Loc;
  const FunctionDecl* Callee = nullptr;
  const Expr* Call = nullptr;  ///< CallExpr or CXXConstructExpr (for argument bindings)
  /// The callee is a logging library's entry point (rules: `logging_functions`).
  bool Logging = false;
};

/// A constant of the folding domain: an integer (also bool, enum, char) or a string (a string
/// literal, std::string, std::string_view or const char* whose text is known).
struct ConstValue {
  bool IsStr = false;
  int64_t Int = 0;
  std::string Str;
  static ConstValue ofInt(int64_t V) {
    ConstValue C;
    C.Int = V;
    return C;
  }
  static ConstValue ofStr(std::string S) {
    ConstValue C;
    C.IsStr = true;
    C.Str = std::move(S);
    return C;
  }
};

/// Constant values of a function's parameters at one call (by parameter index); nullopt where
/// the argument is not a known constant.
using Bindings = llvm::SmallVector<std::optional<ConstValue>, 4>;

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

namespace {

/// Strips parentheses, implicit casts, cleanups and constant wrappers.
const Expr* stripExpr(const Expr* E) {
  while (E) {
    const Expr* Prev = E;
    E = E->IgnoreParenImpCasts();
    if (const auto* EWC = llvm::dyn_cast<ExprWithCleanups>(E)) E = EWC->getSubExpr();
    if (const auto* MTE = llvm::dyn_cast<MaterializeTemporaryExpr>(E)) E = MTE->getSubExpr();
    if (E == Prev) break;
  }
  return E;
}

/// The declaration that identifies a file descriptor / object expression: a variable, a field
/// (`this->fd_`, `s.fd`), an array (`fds[0]` -> fds), or the field a trivial getter returns
/// (`sock.native_handle()` where native_handle() { return fd_; }). Null when unknown.
const Decl* identityDecl(const Expr* E, unsigned Depth = 0) {
  E = stripExpr(E);
  if (!E || Depth > 4) return nullptr;
  if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E)) return DRE->getDecl()->getCanonicalDecl();
  if (const auto* ME = llvm::dyn_cast<MemberExpr>(E))
    return ME->getMemberDecl()->getCanonicalDecl();
  if (const auto* AS = llvm::dyn_cast<ArraySubscriptExpr>(E))
    return identityDecl(AS->getBase(), Depth + 1);
  if (const auto* UO = llvm::dyn_cast<UnaryOperator>(E))
    if (UO->getOpcode() == UO_AddrOf || UO->getOpcode() == UO_Deref)
      return identityDecl(UO->getSubExpr(), Depth + 1);
  if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl* MD = MC->getMethodDecl();
    // `arr.data()` / `arr[0]` style accessors of a container member identify the container.
    if (MD && MD->getIdentifier() && MD->getName() == "data")
      return identityDecl(MC->getImplicitObjectArgument(), Depth + 1);
    const FunctionDecl* Def = MD ? MD->getDefinition() : nullptr;
    const auto* Body = Def ? llvm::dyn_cast_or_null<CompoundStmt>(Def->getBody()) : nullptr;
    if (Body && Body->size() == 1)
      if (const auto* RS = llvm::dyn_cast<ReturnStmt>(Body->body_front()))
        if (RS->getRetValue()) return identityDecl(RS->getRetValue(), Depth + 1);
  }
  if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(E))
    if (OC->getOperator() == OO_Subscript && OC->getNumArgs() > 0)
      return identityDecl(OC->getArg(0), Depth + 1);
  return nullptr;
}

/// The arguments of a call or construction as seen by the callee's parameters (the object of a
/// member operator call is not a parameter).
llvm::SmallVector<const Expr*, 6> calleeArgs(const Expr* Call) {
  llvm::SmallVector<const Expr*, 6> Out;
  if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(Call)) {
    for (const Expr* A : CE->arguments()) Out.push_back(A);
    return Out;
  }
  const auto* CE = llvm::dyn_cast<CallExpr>(Call);
  if (!CE) return Out;
  unsigned Skip = 0;
  if (llvm::isa<CXXOperatorCallExpr>(CE) &&
      llvm::isa_and_nonnull<CXXMethodDecl>(CE->getDirectCallee()) &&
      !llvm::cast<CXXMethodDecl>(CE->getDirectCallee())->isStatic())
    Skip = 1;
  for (unsigned I = Skip; I < CE->getNumArgs(); ++I) Out.push_back(CE->getArg(I));
  return Out;
}

/// Does E name the flag \p Name: a macro in its expansion, an enumerator, or (through a local
/// variable) the variable's initializer / assigned values in \p Assigns.
bool mentionsName(const Expr* E, llvm::StringRef Name, const ASTContext& Ctx,
                  const llvm::DenseMap<const VarDecl*, llvm::SmallVector<const Expr*, 2>>* Assigns,
                  unsigned Depth = 0) {
  if (!E || Depth > 3) return false;
  const SourceManager& SM = Ctx.getSourceManager();
  struct Walker : RecursiveASTVisitor<Walker> {
    llvm::StringRef Name;
    const ASTContext& Ctx;
    const SourceManager& SM;
    const llvm::DenseMap<const VarDecl*, llvm::SmallVector<const Expr*, 2>>* Assigns;
    unsigned Depth;
    bool Found = false;
    Walker(llvm::StringRef N, const ASTContext& C, const SourceManager& S,
           const llvm::DenseMap<const VarDecl*, llvm::SmallVector<const Expr*, 2>>* A,
           unsigned D)
        : Name(N), Ctx(C), SM(S), Assigns(A), Depth(D) {}
    bool VisitStmt(Stmt* St) {
      for (SourceLocation L = St->getBeginLoc(); L.isMacroID() && !Found;
           L = SM.getImmediateMacroCallerLoc(L))
        if (Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts()) == Name) Found = true;
      return !Found;
    }
    bool VisitDeclRefExpr(DeclRefExpr* DRE) {
      const ValueDecl* D = DRE->getDecl();
      if (llvm::isa<EnumConstantDecl>(D) && D->getIdentifier() && D->getName() == Name) {
        Found = true;
      } else if (const auto* VD = llvm::dyn_cast<VarDecl>(D); VD && VD->hasLocalStorage()) {
        if (VD->getInit() && mentionsName(VD->getInit(), Name, Ctx, Assigns, Depth + 1))
          Found = true;
        if (!Found && Assigns)
          if (auto It = Assigns->find(VD); It != Assigns->end())
            for (const Expr* A : It->second)
              if (A != nullptr && mentionsName(A, Name, Ctx, Assigns, Depth + 1)) Found = true;
      }
      return !Found;
    }
  };
  Walker W(Name, Ctx, SM, Assigns, Depth);
  W.TraverseStmt(const_cast<Expr*>(E));
  return W.Found;
}

/// A constant argument equal to V: an integer, or a class of integer fields (std::chrono
/// durations: `0s`, `milliseconds(0)`) whose fields all equal V.
bool equalsConstant(const APValue& Val, int64_t V) {
  if (Val.isInt()) return Val.getInt().getSExtValue() == V;
  if (Val.isFloat()) return Val.getFloat().isZero() && V == 0;
  if (Val.isStruct()) {
    if (Val.getStructNumFields() == 0 && Val.getStructNumBases() == 0) return false;
    for (unsigned I = 0; I < Val.getStructNumBases(); ++I)
      if (!equalsConstant(Val.getStructBase(I), V)) return false;
    for (unsigned I = 0; I < Val.getStructNumFields(); ++I)
      if (!equalsConstant(Val.getStructField(I), V)) return false;
    return true;
  }
  return false;
}

/// std::basic_string / std::basic_string_view (through references and cv-qualifiers).
bool isStringType(QualType T) {
  if (T.isNull()) return false;
  T = T.getNonReferenceType();
  const CXXRecordDecl* RD = T->getAsCXXRecordDecl();
  if (!RD || !RD->getIdentifier()) return false;
  llvm::StringRef N = RD->getName();
  return (N == "basic_string" || N == "basic_string_view") && RD->isInStdNamespace();
}

/// A type whose value can be a string constant: std::string, std::string_view or a pointer to
/// (const) char.
bool isStringLike(QualType T) {
  if (T.isNull()) return false;
  T = T.getNonReferenceType();
  if (const auto* PT = T->getAs<PointerType>()) return PT->getPointeeType()->isCharType();
  return isStringType(T);
}

/// std::error_code / boost::system::error_code (asio::error_code is an alias of one of them).
bool isErrorCodeType(QualType T) {
  if (T.isNull()) return false;
  const CXXRecordDecl* RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  if (!RD || !RD->getIdentifier() || RD->getName() != "error_code") return false;
  std::string N = qualifiedNameForRules(RD);
  return N == "std::error_code" || N == "boost::system::error_code";
}

/// Does the address parser accept \p Text (and so report no error)?
bool parserAccepts(const AddressParser& P, const std::string& Text) {
  if (Text.find('\0') != std::string::npos) return false;
  unsigned char Buf[sizeof(struct in6_addr)];
  bool V4 = ::inet_pton(AF_INET, Text.c_str(), Buf) == 1;
  bool V6 = ::inet_pton(AF_INET6, Text.c_str(), Buf) == 1;
  switch (P.SucceedsOn) {
    case AddressParser::Accepts::NumericIp: return V4 || V6;
    case AddressParser::Accepts::NumericIpv4: return V4;
    case AddressParser::Accepts::NumericIpv6: return V6;
  }
  return false;
}

/// Strips what does not change a string's text: parentheses, implicit casts, temporaries,
/// functional and static casts.
const Expr* stripStringWrappers(const Expr* E) {
  while (E) {
    const Expr* Prev = E;
    E = stripExpr(E);
    if (const auto* CE = llvm::dyn_cast<ConstantExpr>(E)) E = CE->getSubExpr();
    if (const auto* BT = llvm::dyn_cast<CXXBindTemporaryExpr>(E)) E = BT->getSubExpr();
    if (const auto* FC = llvm::dyn_cast<CXXFunctionalCastExpr>(E)) E = FC->getSubExpr();
    if (const auto* SC = llvm::dyn_cast<CXXStaticCastExpr>(E)) E = SC->getSubExpr();
    if (E == Prev) break;
  }
  return E;
}

/// Is E (through parentheses and implicit casts) the variable VD, or its field F (when F is
/// non-null)?
bool refersTo(const Expr* E, const VarDecl* VD, const FieldDecl* F) {
  if (!E) return false;
  E = E->IgnoreParenImpCasts();
  if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E)) return DRE->getDecl() == VD;
  if (const auto* ME = llvm::dyn_cast<MemberExpr>(E);
      F && ME && !ME->isArrow() && ME->getMemberDecl() == F)
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(ME->getBase()->IgnoreParenImpCasts()))
      return DRE->getDecl() == VD;
  return false;
}

/// Can a call write through its parameter \p I (a non-const reference or pointer, an rvalue
/// reference, or an argument the declaration does not describe)?
bool mayWriteParam(const FunctionDecl* FD, unsigned I) {
  if (!FD || I >= FD->getNumParams()) return true;
  QualType T = FD->getParamDecl(I)->getType();
  if (T->isRValueReferenceType()) return true;
  if (T->isReferenceType() || T->isPointerType()) return !T->getPointeeType().isConstQualified();
  return false;
}

/// Per-function facts for argument-aware rules, computed once per body on demand.
struct BodyFacts {
  /// The body handles would-block results (EAGAIN / EWOULDBLOCK, `status.try_again()`, ...;
  /// isWouldBlockName): the code works on a non-blocking fd.
  bool HandlesEagain = false;
  /// Calls in the body, for `after` conditions: (callee simple name, qualified name, object or
  /// first-argument identity, location).
  struct CallInfo {
    std::string Name, QName;
    const Decl* Key;
    SourceLocation Loc;
  };
  std::vector<CallInfo> Calls;
  /// Values assigned to local variables (`flags |= O_NONBLOCK`).
  llvm::DenseMap<const VarDecl*, llvm::SmallVector<const Expr*, 2>> Assigns;
};

/// A name that stands for a would-block result: EAGAIN / EWOULDBLOCK, std::errc's
/// resource_unavailable_try_again / operation_would_block, asio's error::would_block, or a
/// status query such as `status.try_again()` / `would_block()` (compared without case and
/// underscores).
bool isWouldBlockName(llvm::StringRef Name) {
  std::string N;
  for (char C : Name)
    if (C != '_') N.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(C))));
  llvm::StringRef R(N);
  return R == "eagain" || R == "ewouldblock" || R.contains("wouldblock") || R.contains("tryagain");
}

/// The object of a member call, else the first argument: what an `after` condition compares.
const Decl* callSubjectKey(const CallExpr* CE) {
  if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE))
    return identityDecl(MC->getImplicitObjectArgument());
  if (llvm::isa<CXXOperatorCallExpr>(CE) && CE->getNumArgs() > 0)
    return identityDecl(CE->getArg(0));
  return CE->getNumArgs() > 0 ? identityDecl(CE->getArg(0)) : nullptr;
}

/// A block that does not return to its caller normally: it ends in a [[noreturn]] call (exit,
/// abort, std::terminate, a user [[noreturn]] function) or a throw (the CFG gives a throw its own
/// block, whose only successor is the exit or the try's handlers).
bool isNoReturnBlock(const CFGBlock& B) {
  if (B.hasNoReturnElement()) return true;
  const Stmt* T = B.getTerminatorStmt();
  if (T && llvm::isa<CXXThrowExpr>(T)) return true;
  for (const CFGElement& El : B)
    if (auto CS = El.getAs<CFGStmt>(); CS && llvm::isa<CXXThrowExpr>(CS->getStmt())) return true;
  return false;
}

}  // namespace

/// Per-TU analysis state: function scans, "may block" memo, and reported locations.
class BlockingAnalysis {
 public:
  BlockingAnalysis(const Rules& R, bool Strict, bool Logging)
      : R(R), Strict(Strict), Logging(Logging) {}

  void reset(ASTContext* NewCtx) {
    if (Ctx == NewCtx) return;
    Ctx = NewCtx;
    Infos.clear();
    Memo.clear();
    Precise.clear();
    InProgress.clear();
    Cfgs.clear();
    Facts.clear();
    EcEscapes.clear();
    StrSensitive.clear();
    NonBlockingFds.reset();
    Reported.clear();
    CheckedCoroutines.clear();
    UsesRill.reset();
  }

  /// Scans Body (statements executed by Fn when it runs) for direct hits and edges.
  const FunctionInfo& scan(const FunctionDecl* Fn, const Stmt* Body) {
    auto It = Infos.find(Fn);
    if (It != Infos.end()) return It->second;
    FunctionInfo Info;
    if (Body) Scanner(*this, Info, Body).TraverseStmt(const_cast<Stmt*>(Body));
    return Infos.try_emplace(Fn, std::move(Info)).first->second;
  }

  /// A path from Fn down to a blocking call: the edges taken (with the function they leave),
  /// then the final hit. Empty optional when Fn cannot block.
  struct Path {
    std::vector<std::pair<const FunctionDecl*, Edge>> Hops;  ///< (caller, edge) from Fn onward
    const FunctionDecl* Last = nullptr;                      ///< function containing the hit
    DirectHit Hit;
    /// The first logging entry point on the path (a hop's callee), or null.
    const FunctionDecl* LoggingEntry = nullptr;
  };
  /// Path-sensitive "may block" for a call of Fn with argument constants \p B; \p Guard > 0
  /// when a caller at most Guard levels up handles would-block results (fd calls below it are
  /// on a non-blocking fd). Of several blocking calls reached, the path to the most telling one
  /// is returned: not through a logging entry first, then the highest rule priority.
  std::optional<Path> mayBlock(const FunctionDecl* Fn, const Bindings& B, unsigned Guard);

  /// The guard level for the callees of a function whose body is \p Body (see mayBlock).
  unsigned guardBelow(const Stmt* Body, unsigned Guard) {
    if (Body && factsFor(Body).HandlesEagain) return 2;
    return Guard > 0 ? Guard - 1 : 0;
  }

  /// Argument constants of an edge's call, evaluated in the caller (whose own parameters are
  /// bound to \p CallerB; pass an empty list for the coroutine).
  Bindings bindingsFor(const Edge& E, const FunctionDecl* Caller, const Bindings& CallerB) {
    Bindings Out;
    if (!E.Call) return Out;  // a destructor run at the end of a scope: no arguments
    for (const Expr* A : calleeArgs(E.Call))
      Out.push_back(evalValue(A, Caller, CallerB));
    return Out;
  }

  /// An argument's constant: an integer, else (for a string-typed argument) a string. (An
  /// argument is not a condition: error codes are not folded in it.)
  std::optional<ConstValue> evalValue(const Expr* A, const FunctionDecl* Fn, const Bindings& B) {
    const CFGBlock* SavedBlock = EvalBlock;
    EvalBlock = nullptr;
    std::optional<ConstValue> Out;
    if (auto I = evalInt(A, Fn, B))
      Out = ConstValue::ofInt(*I);
    else if (A && !A->isTypeDependent() && isStringLike(A->getType()))
      if (auto S = evalStr(A, Fn, B)) Out = ConstValue::ofStr(std::move(*S));
    EvalBlock = SavedBlock;
    return Out;
  }

  /// The fix text for a rule: its generic_fix in code that does not use rill.
  llvm::StringRef fixFor(const BlockingFunction& B) {
    if (!UsesRill) {
      UsesRill = false;
      if (Ctx) {
        auto Lookup = Ctx->getTranslationUnitDecl()->lookup(&Ctx->Idents.get("rill"));
        UsesRill = !Lookup.empty();
      }
    }
    if (!*UsesRill && !B.GenericFix.empty()) return B.GenericFix;
    return B.Fix;
  }

  const Rules& R;
  const bool Strict;
  const bool Logging;
  ASTContext* Ctx = nullptr;
  llvm::DenseSet<std::pair<unsigned, const BlockingFunction*>> Reported;
  llvm::DenseSet<const FunctionDecl*> CheckedCoroutines;

  static bool isCoroutine(const FunctionDecl* FD) {
    return FD && llvm::isa_and_nonnull<CoroutineBodyStmt>(FD->getBody());
  }

 private:
  /// Memo: Fn -> how it blocks (next edge index or direct hit index), or "does not block".
  /// Path-insensitive: a cheap over-approximation used to skip the precise search.
  struct MemoEntry {
    bool Blocks = false;
    int HitIndex = -1;   ///< index into Infos[Fn].Hits when the block is direct
    int EdgeIndex = -1;  ///< else index into Infos[Fn].Edges
  };
  llvm::DenseMap<const FunctionDecl*, MemoEntry> Memo;
  /// Node-based on purpose: callers hold a `const FunctionInfo&` (and iterate its edges) while
  /// the searches below them scan more functions into the map; a rehash must not move entries.
  std::unordered_map<const FunctionDecl*, FunctionInfo> Infos;

  /// Precise memo, keyed by function + the argument constants its conditions use.
  struct PreciseEntry {
    bool Blocks = false;
    int HitIndex = -1;
    int EdgeIndex = -1;
    Bindings Next;  ///< bindings of the edge's callee
    unsigned NextGuard = 0;   ///< guard level of the edge's callee
    bool ViaLogging = false;  ///< the path crosses a logging entry point
    int Priority = 0;         ///< the reached rule's priority
    /// Ordering of candidate paths: a path outside logging libraries first, then priority.
    bool betterThan(const PreciseEntry& O) const {
      if (!O.Blocks) return Blocks;
      if (!Blocks) return false;
      if (ViaLogging != O.ViaLogging) return !ViaLogging;
      return Priority > O.Priority;
    }
  };
  std::map<std::pair<const FunctionDecl*, std::string>, PreciseEntry> Precise;
  std::set<std::pair<const FunctionDecl*, std::string>> InProgress;
  llvm::DenseMap<const FunctionDecl*, unsigned> OnStack;

  /// The CFG of a helper, where each statement is, and which parameters its branch conditions
  /// read (bit i = parameter i).
  struct FnCfg {
    std::unique_ptr<CFG> G;
    llvm::DenseMap<const Stmt*, unsigned> BlockOf;
    uint64_t ParamMask = 0;
    /// String parameters read anywhere in the body: they may flow into a helper's conditions, a
    /// modeled address parser or a returned field. Kept only when the function is
    /// string-sensitive (stringSensitive), so a format string passed to a logging helper does
    /// not split its memo entries.
    uint64_t StrParamMask = 0;
    /// A branch condition reads a string or an error code, or the body calls a modeled address
    /// parser.
    bool StringConds = false;
    std::map<std::string, std::vector<char>> Live;  ///< per bindings key
  };
  llvm::DenseMap<const FunctionDecl*, std::unique_ptr<FnCfg>> Cfgs;
  llvm::DenseMap<const Stmt*, std::unique_ptr<BodyFacts>> Facts;
  std::optional<llvm::DenseSet<const Decl*>> NonBlockingFds;
  std::optional<bool> UsesRill;

  const FunctionInfo& scanDefinition(const FunctionDecl* Fn) {
    const FunctionDecl* Def = Fn->getDefinition();
    return scan(Fn, Def ? Def->getBody() : nullptr);
  }

  /// Path-insensitive reachability of a blocking call (BFS over the call graph).
  bool reachesBlocking(const FunctionDecl* Start);
  const PreciseEntry* preciseBlocks(const FunctionDecl* Fn, Bindings B, unsigned Guard,
                                    unsigned Depth);

  FnCfg& cfgFor(const FunctionDecl* Fn) {
    auto& Slot = Cfgs[Fn];
    if (Slot) return *Slot;
    Slot = std::make_unique<FnCfg>();
    const FunctionDecl* Def = Fn->getDefinition();
    if (!Def || !Def->getBody() || Def->isDependentContext()) return *Slot;
    CFG::BuildOptions Opts;
    Opts.setAllAlwaysAdd();
    Slot->G = CFG::buildCFG(Def, Def->getBody(), Ctx, Opts);
    if (!Slot->G) return *Slot;
    for (const CFGBlock* B : *Slot->G) {
      if (!B) continue;
      for (const CFGElement& El : *B) {
        auto CS = El.getAs<CFGStmt>();
        if (!CS) continue;
        Slot->BlockOf.try_emplace(CS->getStmt(), B->getBlockID());
        if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(CS->getStmt())) {
          if (const auto* P = llvm::dyn_cast<ParmVarDecl>(DRE->getDecl()))
            if (P->getFunctionScopeIndex() < 64 && isStringLike(P->getType()))
              Slot->StrParamMask |= uint64_t(1) << P->getFunctionScopeIndex();
        } else if (const auto* Call = llvm::dyn_cast<CallExpr>(CS->getStmt())) {
          if (const FunctionDecl* FD = Call->getDirectCallee();
              FD && FD->getIdentifier() && parserNames().contains(FD->getName()) &&
              R.findAddressParser(qualifiedNameForRules(FD)))
            Slot->StringConds = true;
        }
      }
      if (const Stmt* Cond = B->getTerminatorCondition()) {
        struct ParamRefs : RecursiveASTVisitor<ParamRefs> {
          uint64_t Mask = 0;
          bool Str = false;
          bool VisitExpr(Expr* E) {
            if (!Str && !E->isTypeDependent() &&
                (isStringType(E->getType()) || isErrorCodeType(E->getType())))
              Str = true;
            return true;
          }
          bool VisitDeclRefExpr(DeclRefExpr* DRE) {
            if (const auto* P = llvm::dyn_cast<ParmVarDecl>(DRE->getDecl()))
              if (P->getFunctionScopeIndex() < 64) Mask |= uint64_t(1) << P->getFunctionScopeIndex();
            return true;
          }
        } V;
        V.TraverseStmt(const_cast<Stmt*>(Cond));
        Slot->ParamMask |= V.Mask;
        Slot->StringConds |= V.Str;
      }
    }
    return *Slot;
  }

  /// The unqualified names of the rules' address parsers (a cheap filter before the qualified
  /// lookup).
  const llvm::StringSet<>& parserNames() {
    if (!ParserNames) {
      ParserNames.emplace();
      for (const AddressParser& P : R.AddressParsers)
        ParserNames->insert(llvm::StringRef(P.Name).rsplit("::").second.empty()
                                ? llvm::StringRef(P.Name)
                                : llvm::StringRef(P.Name).rsplit("::").second);
    }
    return *ParserNames;
  }
  std::optional<llvm::StringSet<>> ParserNames;

  /// Does a string constant matter to Fn: its conditions read a string or an error code (or it
  /// calls a modeled address parser), or a helper it calls is string-sensitive. Memoized; a
  /// function met again while its callees are searched counts as not sensitive (less folding,
  /// never a wrong fold).
  bool stringSensitive(const FunctionDecl* Fn, unsigned Depth = 0) {
    auto [It, New] = StrSensitive.try_emplace(Fn, false);
    if (!New) return It->second;
    bool Out = cfgFor(Fn).StringConds;
    if (!Out && Depth < 64)
      for (const Edge& E : scanDefinition(Fn).Edges)
        if (stringSensitive(E.Callee, Depth + 1)) {
          Out = true;
          break;
        }
    StrSensitive[Fn] = Out;
    return Out;
  }
  llvm::DenseMap<const FunctionDecl*, bool> StrSensitive;

  /// The parameters whose constants Fn's search depends on (bit i = parameter i).
  uint64_t maskFor(const FunctionDecl* Fn) {
    FnCfg& C = cfgFor(Fn);
    uint64_t M = C.ParamMask;
    if (C.StrParamMask && stringSensitive(Fn)) M |= C.StrParamMask;
    return M;
  }

  static std::string keyOf(const Bindings& B) {
    std::string K;
    for (const auto& V : B) {
      if (!V)
        K += "?,";
      else if (V->IsStr)
        K += "s" + std::to_string(V->Str.size()) + ":" + V->Str + ",";
      else
        K += std::to_string(V->Int) + ",";
    }
    return K;
  }
  static std::string keyOf(const Bindings& B, unsigned Guard) {
    return keyOf(B) + "g" + std::to_string(Guard);
  }

  /// Evaluates an integer/boolean expression of Fn's body with Fn's parameters bound to \p B.
  std::optional<int64_t> evalInt(const Expr* E, const FunctionDecl* Fn, const Bindings& B,
                                 unsigned Depth = 0) {
    if (!E || Depth > 16) return std::nullopt;
    E = stripExpr(E);
    if (const auto* CE = llvm::dyn_cast<ConstantExpr>(E)) E = CE->getSubExpr();
    if (!E->isValueDependent() && !E->isTypeDependent() &&
        (E->getType()->isIntegralOrEnumerationType() || E->getType()->isBooleanType())) {
      Expr::EvalResult Res;
      if (E->EvaluateAsInt(Res, *Ctx)) return Res.Val.getInt().getSExtValue();
    }
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E)) {
      if (const auto* P = llvm::dyn_cast<ParmVarDecl>(DRE->getDecl())) {
        unsigned I = P->getFunctionScopeIndex();
        if (I < B.size() && B[I] && !B[I]->IsStr) return B[I]->Int;
      }
      return std::nullopt;
    }
    // C++20 rewrites `a != b` to `!(a == b)` when only operator== is declared.
    if (const auto* RB = llvm::dyn_cast<CXXRewrittenBinaryOperator>(E))
      return evalInt(RB->getSemanticForm(), Fn, B, Depth + 1);
    if (auto V = evalStringOp(E, Fn, B, Depth)) return V;
    if (auto V = evalErrorCode(E, Fn, B)) return V;
    if (const auto* DA = llvm::dyn_cast<CXXDefaultArgExpr>(E))
      return evalInt(DA->getExpr(), Fn, {}, Depth + 1);
    if (const auto* UO = llvm::dyn_cast<UnaryOperator>(E)) {
      auto V = evalInt(UO->getSubExpr(), Fn, B, Depth + 1);
      if (!V) return std::nullopt;
      switch (UO->getOpcode()) {
        case UO_LNot: return *V == 0;
        case UO_Minus: return -*V;
        case UO_Not: return ~*V;
        case UO_Plus: return *V;
        default: return std::nullopt;
      }
    }
    if (const auto* BO = llvm::dyn_cast<BinaryOperator>(E)) {
      if (BO->getOpcode() == BO_EQ || BO->getOpcode() == BO_NE)
        if (auto V = evalFindCompare(BO, Fn, B, Depth)) return V;
      auto L = evalInt(BO->getLHS(), Fn, B, Depth + 1);
      if (BO->getOpcode() == BO_LAnd || BO->getOpcode() == BO_LOr) {
        bool And = BO->getOpcode() == BO_LAnd;
        if (L && ((*L == 0) == And)) return And ? 0 : 1;  // short circuit
        auto Rv = evalInt(BO->getRHS(), Fn, B, Depth + 1);
        if (Rv && ((*Rv == 0) == And)) return And ? 0 : 1;
        if (L && Rv) return And ? 1 : 0;
        return std::nullopt;
      }
      auto Rv = evalInt(BO->getRHS(), Fn, B, Depth + 1);
      if (!L || !Rv) return std::nullopt;
      switch (BO->getOpcode()) {
        case BO_EQ: return *L == *Rv;
        case BO_NE: return *L != *Rv;
        case BO_LT: return *L < *Rv;
        case BO_GT: return *L > *Rv;
        case BO_LE: return *L <= *Rv;
        case BO_GE: return *L >= *Rv;
        case BO_And: return *L & *Rv;
        case BO_Or: return *L | *Rv;
        case BO_Xor: return *L ^ *Rv;
        case BO_Add: return *L + *Rv;
        case BO_Sub: return *L - *Rv;
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }

  /// The condition block (and its CFG) error-code folding looks in: set by liveBlocks while it
  /// evaluates a block's terminator condition, null elsewhere.
  const CFGBlock* EvalBlock = nullptr;
  const FnCfg* EvalCfg = nullptr;
  /// Nesting of return-value evaluations (returnField), bounded so a recursive helper ends.
  unsigned ReturnNesting = 0;

  /// A character of a string as the target's `char` (signed or not) compares it.
  int64_t charValue(char Ch) const {
    return Ctx->getLangOpts().CharIsSigned ? static_cast<int64_t>(static_cast<signed char>(Ch))
                                           : static_cast<int64_t>(static_cast<unsigned char>(Ch));
  }

  /// Evaluates a string expression of Fn's body with Fn's parameters bound to \p B: string
  /// literals, default arguments, parameters bound to strings, std::string / std::string_view
  /// copies and conversions, std::move, and a field of a local struct (localField).
  std::optional<std::string> evalStr(const Expr* E, const FunctionDecl* Fn, const Bindings& B,
                                     unsigned Depth = 0) {
    if (!E || Depth > 16) return std::nullopt;
    E = stripStringWrappers(E);
    if (!E || E->isValueDependent() || E->isTypeDependent()) return std::nullopt;
    if (const auto* SL = llvm::dyn_cast<StringLiteral>(E)) {
      if (SL->getCharByteWidth() != 1) return std::nullopt;
      return SL->getString().str();
    }
    if (const auto* DA = llvm::dyn_cast<CXXDefaultArgExpr>(E))
      return evalStr(DA->getExpr(), Fn, {}, Depth + 1);
    if (const auto* DI = llvm::dyn_cast<CXXDefaultInitExpr>(E))
      return evalStr(DI->getExpr(), Fn, {}, Depth + 1);
    if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E)) {
      if (const auto* P = llvm::dyn_cast<ParmVarDecl>(DRE->getDecl())) {
        unsigned I = P->getFunctionScopeIndex();
        if (I < B.size() && B[I] && B[I]->IsStr) return B[I]->Str;
        return std::nullopt;
      }
      // A local string variable: its initializer, when every write agrees.
      if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl());
          VD && VD->hasLocalStorage() && !VD->getType()->isReferenceType() &&
          isStringLike(VD->getType()) && !DRE->refersToEnclosingVariableOrCapture())
        return localField(Fn, B, VD, nullptr, nullptr, nullptr, Depth + 1);
      return std::nullopt;
    }
    if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(E)) {
      if (!isStringType(CE->getType())) return std::nullopt;
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      if (CE->getNumArgs() == 0) {
        if (Ctor && Ctor->isDefaultConstructor()) return std::string();
        return std::nullopt;
      }
      // One text argument; the others defaulted (an allocator).
      for (unsigned I = 1; I < CE->getNumArgs(); ++I)
        if (!llvm::isa<CXXDefaultArgExpr>(CE->getArg(I))) return std::nullopt;
      if (!isStringLike(CE->getArg(0)->getType())) return std::nullopt;
      return evalStr(CE->getArg(0), Fn, B, Depth + 1);
    }
    if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl* MD = MC->getMethodDecl();
      const Expr* Obj = MC->getImplicitObjectArgument();
      if (!MD || !Obj || !isStringType(Obj->getType())) return std::nullopt;
      // std::string -> std::string_view, s.c_str(), s.data(): the same text.
      if (llvm::isa<CXXConversionDecl>(MD) ||
          (MD->getIdentifier() && (MD->getName() == "c_str" || MD->getName() == "data") &&
           MC->getNumArgs() == 0))
        return evalStr(Obj, Fn, B, Depth + 1);
      return std::nullopt;
    }
    if (const auto* C = llvm::dyn_cast<CallExpr>(E)) {
      const FunctionDecl* FD = C->getDirectCallee();
      if (FD && FD->isInStdNamespace() && FD->getIdentifier() &&
          (FD->getName() == "move" || FD->getName() == "forward") && C->getNumArgs() == 1)
        return evalStr(C->getArg(0), Fn, B, Depth + 1);
      return std::nullopt;
    }
    if (const auto* ME = llvm::dyn_cast<MemberExpr>(E)) {
      const auto* F = llvm::dyn_cast<FieldDecl>(ME->getMemberDecl());
      const auto* Base = llvm::dyn_cast<DeclRefExpr>(stripExpr(ME->getBase()));
      const auto* VD = Base ? llvm::dyn_cast<VarDecl>(Base->getDecl()) : nullptr;
      if (!F || !VD || ME->isArrow() || !isStringLike(F->getType()) || !VD->hasLocalStorage() ||
          llvm::isa<ParmVarDecl>(VD) || VD->getType()->isReferenceType())
        return std::nullopt;
      return localField(Fn, B, VD, F, nullptr, nullptr, Depth + 1);
    }
    return std::nullopt;
  }

  /// The string in field \p F of the local struct \p VD of Fn (or in the local string variable
  /// \p VD when \p F is null): its initializer's value, when every write to the field (in the
  /// blocks \p Live of \p C, or anywhere when null) stores the same string and the variable (or
  /// field) never escapes (address taken, bound to a non-const reference, captured, passed to a
  /// parameter that may write it).
  std::optional<std::string> localField(const FunctionDecl* Fn, const Bindings& B,
                                        const VarDecl* VD, const FieldDecl* F, const FnCfg* C,
                                        const std::vector<char>* Live, unsigned Depth) {
    if (Depth > 16 || !VD->getInit()) return std::nullopt;
    const FunctionDecl* Def = Fn->getDefinition();
    const Stmt* Body = Def ? Def->getBody() : Fn->getBody();
    if (!Body) return std::nullopt;
    std::optional<std::string> Val = F ? initField(VD->getInit(), F, Fn, B, Depth + 1)
                                       : evalStr(VD->getInit(), Fn, B, Depth + 1);
    if (!Val) return std::nullopt;
    struct Writes : RecursiveASTVisitor<Writes> {
      const VarDecl* VD;
      const FieldDecl* F;
      bool Escapes = false;
      std::vector<std::pair<const Stmt*, const Expr*>> W;  ///< (statement, value or null)
      Writes(const VarDecl* V, const FieldDecl* Fd) : VD(V), F(Fd) {}
      bool VisitDeclRefExpr(DeclRefExpr* DRE) {
        if (DRE->getDecl() == VD && DRE->refersToEnclosingVariableOrCapture()) Escapes = true;
        return true;
      }
      bool VisitUnaryOperator(UnaryOperator* UO) {
        if (UO->getOpcode() == UO_AddrOf && refersTo(UO->getSubExpr(), VD, F)) Escapes = true;
        if (UO->isIncrementDecrementOp() && refersTo(UO->getSubExpr(), VD, F))
          W.push_back({UO, nullptr});
        return true;
      }
      bool VisitVarDecl(VarDecl* V) {
        QualType T = V->getType();
        if (V->getInit() && T->isReferenceType() &&
            (T->isRValueReferenceType() || !T.getNonReferenceType().isConstQualified()) &&
            refersTo(V->getInit(), VD, F))
          Escapes = true;
        return true;
      }
      bool VisitBinaryOperator(BinaryOperator* BO) {
        if (BO->isAssignmentOp() && refersTo(BO->getLHS(), VD, F))
          W.push_back({BO, BO->getOpcode() == BO_Assign && assignsWhole(BO->getLHS())
                               ? BO->getRHS()
                               : nullptr});
        return true;
      }
      bool VisitCallExpr(CallExpr* CE) {
        const FunctionDecl* FD = CE->getDirectCallee();
        if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE)) {
          const CXXMethodDecl* MD = MC->getMethodDecl();
          if (refersTo(MC->getImplicitObjectArgument(), VD, F) && (!MD || !MD->isConst()))
            W.push_back({CE, nullptr});
        }
        if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(CE);
            OC && OC->getNumArgs() > 0 && llvm::isa_and_nonnull<CXXMethodDecl>(FD) &&
            refersTo(OC->getArg(0), VD, F)) {
          const auto* MD = llvm::cast<CXXMethodDecl>(FD);
          if (OC->getOperator() == OO_Equal && OC->getNumArgs() == 2 && assignsWhole(OC->getArg(0)))
            W.push_back({CE, OC->getArg(1)});
          else if (!MD->isConst())
            W.push_back({CE, nullptr});
        }
        llvm::SmallVector<const Expr*, 6> Args = calleeArgs(CE);
        for (unsigned I = 0; I < Args.size(); ++I)
          if (refersTo(Args[I], VD, F) && mayWriteParam(FD, I)) W.push_back({CE, nullptr});
        return true;
      }
      /// An assignment to the tracked value itself: the field (not the whole struct), or the
      /// string variable.
      bool assignsWhole(const Expr* LHS) const {
        return !F || llvm::isa<MemberExpr>(LHS->IgnoreParenImpCasts());
      }
      /// `return local;` copies or moves the whole object out as the function ends.
      llvm::DenseSet<const Expr*> Returned;
      bool VisitReturnStmt(ReturnStmt* RS) {
        if (const Expr* E = RS->getRetValue()) Returned.insert(stripStringWrappers(E));
        return true;
      }
      bool VisitCXXConstructExpr(CXXConstructExpr* CE) {
        if (Returned.count(CE)) return true;
        for (unsigned I = 0; I < CE->getNumArgs(); ++I)
          if (refersTo(CE->getArg(I), VD, F) && mayWriteParam(CE->getConstructor(), I))
            Escapes = true;  // an object may keep the reference and write through it later
        return true;
      }
    } V(VD, F);
    V.TraverseStmt(const_cast<Stmt*>(Body));
    if (V.Escapes) return std::nullopt;
    for (const auto& [S, Value] : V.W) {
      if (C && Live) {
        auto It = C->BlockOf.find(S);
        if (It != C->BlockOf.end() && !(*Live)[It->second]) continue;  // a dead block
      }
      if (!Value) return std::nullopt;
      auto W = evalStr(Value, Fn, B, Depth + 1);
      if (!W || *W != *Val) return std::nullopt;
    }
    return Val;
  }

  /// The string a local struct's initializer gives its field \p F: an aggregate initializer, an
  /// implicit default construction (the default member initializer, or "" for a std::string),
  /// or a call of a TU function with a body (returnField).
  std::optional<std::string> initField(const Expr* Init, const FieldDecl* F, const FunctionDecl* Fn,
                                       const Bindings& B, unsigned Depth) {
    Init = stripStringWrappers(Init);
    if (!Init || Depth > 16) return std::nullopt;
    const RecordDecl* RD = F->getParent();
    const auto* CRD = llvm::dyn_cast<CXXRecordDecl>(RD);
    unsigned Bases = CRD ? CRD->getNumBases() : 0;
    if (RD->isUnion()) return std::nullopt;
    if (const auto* ILE = llvm::dyn_cast<InitListExpr>(Init)) {
      if (ILE->getType().isNull() || ILE->getType()->getAsRecordDecl() != RD) return std::nullopt;
      unsigned Idx = Bases + F->getFieldIndex();
      if (Idx >= ILE->getNumInits()) return std::nullopt;
      return evalStr(ILE->getInit(Idx), Fn, B, Depth + 1);
    }
    if (const auto* PLE = llvm::dyn_cast<CXXParenListInitExpr>(Init)) {
      unsigned Idx = Bases + F->getFieldIndex();
      if (PLE->getType()->getAsRecordDecl() != RD || Idx >= PLE->getInitExprs().size())
        return std::nullopt;
      return evalStr(PLE->getInitExprs()[Idx], Fn, B, Depth + 1);
    }
    if (const auto* CE = llvm::dyn_cast<CXXConstructExpr>(Init)) {
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      if (!Ctor || CE->getType()->getAsRecordDecl() != RD) return std::nullopt;
      if (CE->getNumArgs() == 0 && Ctor->isDefaultConstructor() && Ctor->isImplicit()) {
        if (F->hasInClassInitializer())
          return evalStr(F->getInClassInitializer(), Fn, {}, Depth + 1);
        if (isStringType(F->getType())) return std::string();
        return std::nullopt;
      }
      // A copy / move of a temporary returned by a call (before guaranteed elision).
      if (Ctor->isCopyOrMoveConstructor() && CE->getNumArgs() == 1) {
        const Expr* Src = stripStringWrappers(CE->getArg(0));
        if (llvm::isa<CallExpr>(Src)) return initField(Src, F, Fn, B, Depth + 1);
      }
      return std::nullopt;
    }
    if (const auto* Call = llvm::dyn_cast<CallExpr>(Init)) {
      const FunctionDecl* FD = Call->getDirectCallee();
      if (!FD || FD->getReturnType()->isReferenceType() ||
          FD->getReturnType()->getAsRecordDecl() != RD)
        return std::nullopt;
      Bindings Args;
      for (const Expr* A : calleeArgs(Call))
        Args.push_back(evalValue(A, Fn, B));
      return returnField(FD, std::move(Args), F, Depth + 1);
    }
    return std::nullopt;
  }

  /// Field \p F of the struct a TU function returns for the argument constants \p Args: every
  /// `return` in a block live for \p Args returns the same local, whose field is known there
  /// (localField over the live blocks).
  std::optional<std::string> returnField(const FunctionDecl* Callee, Bindings Args,
                                         const FieldDecl* F, unsigned Depth) {
    const FunctionDecl* Def = Callee->getDefinition();
    if (!Def || !Def->getBody() || isCoroutine(Def) || Def->isDependentContext() || Depth > 16 ||
        ReturnNesting >= 4)
      return std::nullopt;
    FnCfg& C = cfgFor(Def);
    if (!C.G) return std::nullopt;
    uint64_t Mask = maskFor(Def);
    for (size_t I = 0; I < Args.size(); ++I)
      if (I >= 64 || !(Mask & (uint64_t(1) << I))) Args[I].reset();
    ++ReturnNesting;
    const std::vector<char>& Live = liveBlocks(C, Def, Args, keyOf(Args));
    struct Returns : RecursiveASTVisitor<Returns> {
      std::vector<const ReturnStmt*> Out;
      bool TraverseLambdaExpr(LambdaExpr*) { return true; }
      bool VisitReturnStmt(ReturnStmt* RS) {
        Out.push_back(RS);
        return true;
      }
    } Rets;
    Rets.TraverseStmt(const_cast<Stmt*>(Def->getBody()));
    const VarDecl* Local = nullptr;
    bool Ok = true;
    for (const ReturnStmt* RS : Rets.Out) {
      auto It = C.BlockOf.find(RS);
      if (It != C.BlockOf.end() && !Live[It->second]) continue;
      const Expr* V = stripStringWrappers(RS->getRetValue());
      if (const auto* CE = llvm::dyn_cast_or_null<CXXConstructExpr>(V);
          CE && CE->getConstructor()->isCopyOrMoveConstructor() && CE->getNumArgs() == 1)
        V = stripStringWrappers(CE->getArg(0));
      const auto* DRE = llvm::dyn_cast_or_null<DeclRefExpr>(V);
      const auto* VD = DRE ? llvm::dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      if (!VD || !VD->hasLocalStorage() || llvm::isa<ParmVarDecl>(VD) ||
          VD->getType()->isReferenceType() || (Local && Local != VD)) {
        Ok = false;
        break;
      }
      Local = VD;
    }
    std::optional<std::string> Out;
    if (Ok && Local) Out = localField(Def, Args, Local, F, &C, &Live, Depth + 1);
    --ReturnNesting;
    return Out;
  }

  /// String operations branch conditions use, on a string whose text is known: s.empty(),
  /// s.size() / s.length(), s.front(), s.back(), s[i], s == t / s != t.
  std::optional<int64_t> evalStringOp(const Expr* E, const FunctionDecl* Fn, const Bindings& B,
                                      unsigned Depth) {
    if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl* MD = MC->getMethodDecl();
      const Expr* Obj = MC->getImplicitObjectArgument();
      if (!MD || !MD->getIdentifier() || !Obj || !isStringType(Obj->getType()) ||
          MC->getNumArgs() != 0)
        return std::nullopt;
      llvm::StringRef N = MD->getName();
      if (N != "empty" && N != "size" && N != "length" && N != "front" && N != "back")
        return std::nullopt;
      auto S = evalStr(Obj, Fn, B, Depth + 1);
      if (!S) return std::nullopt;
      if (N == "empty") return S->empty();
      if (N == "size" || N == "length") return static_cast<int64_t>(S->size());
      if (S->empty()) return std::nullopt;  // undefined behaviour: do not fold
      return charValue(N == "front" ? S->front() : S->back());
    }
    if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(E)) {
      if (OC->getOperator() == OO_Subscript && OC->getNumArgs() == 2 &&
          isStringType(OC->getArg(0)->getType())) {
        auto Idx = evalInt(OC->getArg(1), Fn, B, Depth + 1);
        if (!Idx) return std::nullopt;
        auto S = evalStr(OC->getArg(0), Fn, B, Depth + 1);
        if (!S || *Idx < 0 || static_cast<uint64_t>(*Idx) >= S->size()) return std::nullopt;
        return charValue((*S)[*Idx]);
      }
      if ((OC->getOperator() == OO_EqualEqual || OC->getOperator() == OO_ExclaimEqual) &&
          OC->getNumArgs() == 2 &&
          (isStringType(OC->getArg(0)->getType()) || isStringType(OC->getArg(1)->getType())) &&
          isStringLike(OC->getArg(0)->getType()) && isStringLike(OC->getArg(1)->getType())) {
        auto L = evalStr(OC->getArg(0), Fn, B, Depth + 1);
        if (!L) return std::nullopt;
        auto R = evalStr(OC->getArg(1), Fn, B, Depth + 1);
        if (!R) return std::nullopt;
        return (*L == *R) == (OC->getOperator() == OO_EqualEqual);
      }
    }
    return std::nullopt;
  }

  /// `s.find(x) == npos` / `!=` (also rfind) with a known string and a character or string
  /// argument; other uses of a position are not folded.
  std::optional<int64_t> evalFindCompare(const BinaryOperator* BO, const FunctionDecl* Fn,
                                         const Bindings& B, unsigned Depth) {
    for (int Side = 0; Side < 2; ++Side) {
      const auto* MC =
          llvm::dyn_cast<CXXMemberCallExpr>(stripExpr(Side == 0 ? BO->getLHS() : BO->getRHS()));
      const Expr* Other = Side == 0 ? BO->getRHS() : BO->getLHS();
      // find(x) or find(x, pos) with the default start position.
      if (!MC || MC->getNumArgs() < 1 ||
          (MC->getNumArgs() > 1 && !llvm::isa<CXXDefaultArgExpr>(MC->getArg(1))) ||
          MC->getNumArgs() > 2 || !MC->getMethodDecl() || !MC->getMethodDecl()->getIdentifier() ||
          !MC->getImplicitObjectArgument() ||
          !isStringType(MC->getImplicitObjectArgument()->getType()))
        continue;
      llvm::StringRef N = MC->getMethodDecl()->getName();
      if (N != "find" && N != "rfind") continue;
      auto Npos = evalInt(Other, Fn, B, Depth + 1);
      if (!Npos || *Npos != -1) return std::nullopt;  // only a comparison with npos
      auto S = evalStr(MC->getImplicitObjectArgument(), Fn, B, Depth + 1);
      if (!S) return std::nullopt;
      const Expr* Arg = MC->getArg(0);
      bool Found;
      if (Arg->getType()->isCharType()) {
        auto Ch = evalInt(Arg, Fn, B, Depth + 1);
        if (!Ch) return std::nullopt;
        Found = S->find(static_cast<char>(*Ch)) != std::string::npos;
      } else if (isStringLike(Arg->getType())) {
        auto T = evalStr(Arg, Fn, B, Depth + 1);
        if (!T) return std::nullopt;
        Found = S->find(*T) != std::string::npos;
      } else {
        return std::nullopt;
      }
      bool Eq = !Found;  // `find(x) == npos`
      return BO->getOpcode() == BO_EQ ? Eq : !Eq;
    }
    return std::nullopt;
  }

  /// `ec` (its operator bool), `ec.value()`, `ec.failed()` of an error-code variable that is
  /// known to hold no error (noError): 0.
  std::optional<int64_t> evalErrorCode(const Expr* E, const FunctionDecl* Fn, const Bindings& B) {
    const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(E);
    if (!MC || !EvalBlock || !MC->getMethodDecl()) return std::nullopt;
    const CXXMethodDecl* MD = MC->getMethodDecl();
    bool Query = llvm::isa<CXXConversionDecl>(MD) ||
                 (MD->getIdentifier() && (MD->getName() == "value" || MD->getName() == "failed"));
    if (!Query) return std::nullopt;
    const auto* DRE =
        llvm::dyn_cast_or_null<DeclRefExpr>(stripExpr(MC->getImplicitObjectArgument()));
    const auto* VD = DRE ? llvm::dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (!VD || !isErrorCodeType(VD->getType())) return std::nullopt;
    if (noError(VD, Fn, B)) return 0;
    return std::nullopt;
  }

  /// How one statement writes the error code VD.
  enum class EcWrite { None, NoError, Unknown };
  EcWrite ecWrite(const Stmt* S, const VarDecl* VD, const FunctionDecl* Fn, const Bindings& B) {
    if (const auto* DS = llvm::dyn_cast<DeclStmt>(S)) {
      for (const Decl* D : DS->decls()) {
        if (D != VD) continue;
        const Expr* Init = VD->getInit() ? stripExpr(VD->getInit()) : nullptr;
        const auto* CE = llvm::dyn_cast_or_null<CXXConstructExpr>(Init);
        if (!Init || (CE && CE->getNumArgs() == 0)) return EcWrite::NoError;
        return EcWrite::Unknown;
      }
      return EcWrite::None;
    }
    const auto* CE = llvm::dyn_cast<CallExpr>(S);
    if (!CE) return EcWrite::None;
    const FunctionDecl* FD = CE->getDirectCallee();
    if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE);
        MC && refersTo(MC->getImplicitObjectArgument(), VD, nullptr)) {
      const CXXMethodDecl* MD = MC->getMethodDecl();
      if (MD && MD->getIdentifier() && MD->getName() == "clear") return EcWrite::NoError;
      if (MD && MD->isConst()) return EcWrite::None;
      return EcWrite::Unknown;
    }
    if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(CE);
        OC && OC->getNumArgs() > 0 && llvm::isa_and_nonnull<CXXMethodDecl>(FD) &&
        refersTo(OC->getArg(0), VD, nullptr))
      return llvm::cast<CXXMethodDecl>(FD)->isConst() ? EcWrite::None : EcWrite::Unknown;
    llvm::SmallVector<const Expr*, 6> Args = calleeArgs(CE);
    EcWrite Out = EcWrite::None;
    for (unsigned I = 0; I < Args.size(); ++I) {
      const Expr* A = stripExpr(Args[I]);
      if (const auto* UO = llvm::dyn_cast<UnaryOperator>(A); UO && UO->getOpcode() == UO_AddrOf)
        A = UO->getSubExpr();
      if (!refersTo(A, VD, nullptr)) continue;
      const AddressParser* P = FD ? R.findAddressParser(qualifiedNameForRules(FD)) : nullptr;
      if (P && static_cast<int>(I) == P->ErrorOut) {
        std::optional<std::string> Text;
        if (static_cast<size_t>(P->Input) < Args.size()) Text = evalStr(Args[P->Input], Fn, B);
        if (!Text || !parserAccepts(*P, *Text)) return EcWrite::Unknown;
        Out = EcWrite::NoError;
        continue;
      }
      if (mayWriteParam(FD, I)) return EcWrite::Unknown;
    }
    return Out;
  }

  /// Is the error code VD known to hold no error where the condition of EvalBlock reads it?
  /// The last write to it in that block decides (a default construction, `ec.clear()`, a modeled
  /// address parser given text it accepts); for a reference, no other call may come between
  /// (it could write through an alias). With no write in the block, a local decides by all its
  /// writes in the function. A variable that escapes (address taken, captured, bound to a
  /// non-const reference) is never known.
  bool noError(const VarDecl* VD, const FunctionDecl* Fn, const Bindings& B) {
    if (!EvalBlock || !EvalCfg) return false;
    const FunctionDecl* Def = Fn->getDefinition();
    if (!Def || !Def->getBody() || ecEscapes(VD, Def->getBody())) return false;
    bool Ref = VD->getType()->isReferenceType();
    EcWrite State = EcWrite::None;
    for (const CFGElement& El : *EvalBlock) {
      auto CS = El.getAs<CFGStmt>();
      if (!CS) continue;
      EcWrite W = ecWrite(CS->getStmt(), VD, Fn, B);
      if (W != EcWrite::None) {
        State = W;
      } else if (Ref && State == EcWrite::NoError && llvm::isa<CallExpr>(CS->getStmt())) {
        const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CS->getStmt());
        if (!MC || !refersTo(MC->getImplicitObjectArgument(), VD, nullptr))
          State = EcWrite::Unknown;
      }
    }
    if (State != EcWrite::None) return State == EcWrite::NoError;
    if (Ref || llvm::isa<ParmVarDecl>(VD) || !VD->hasLocalStorage()) return false;
    // No write in the block: every write of the local in the function says "no error".
    bool Any = false;
    for (const CFGBlock* Bl : *EvalCfg->G) {
      if (!Bl) continue;
      for (const CFGElement& El : *Bl) {
        auto CS = El.getAs<CFGStmt>();
        if (!CS) continue;
        EcWrite W = ecWrite(CS->getStmt(), VD, Fn, B);
        if (W == EcWrite::Unknown) return false;
        if (W == EcWrite::NoError) Any = true;
      }
    }
    return Any;
  }

  /// Does the error code VD escape in Body (address taken, captured by a lambda, bound to a
  /// non-const reference, handed to a constructor that may keep a reference)?
  bool ecEscapes(const VarDecl* VD, const Stmt* Body) {
    auto [It, New] = EcEscapes.try_emplace(VD, false);
    if (!New) return It->second;
    struct V : RecursiveASTVisitor<V> {
      const VarDecl* VD;
      bool Escapes = false;
      explicit V(const VarDecl* D) : VD(D) {}
      bool VisitDeclRefExpr(DeclRefExpr* DRE) {
        if (DRE->getDecl() == VD && DRE->refersToEnclosingVariableOrCapture()) Escapes = true;
        return !Escapes;
      }
      // `&ec` handed straight to a call is classified by ecWrite; stored, it escapes.
      bool VisitBinaryOperator(BinaryOperator* BO) {
        if (BO->isAssignmentOp())
          if (const auto* UO = llvm::dyn_cast<UnaryOperator>(stripExpr(BO->getRHS()));
              UO && UO->getOpcode() == UO_AddrOf && refersTo(UO->getSubExpr(), VD, nullptr))
            Escapes = true;
        return !Escapes;
      }
      bool VisitVarDecl(VarDecl* D) {
        QualType T = D->getType();
        if (D != VD && D->getInit() &&
            ((T->isReferenceType() &&
              (T->isRValueReferenceType() || !T.getNonReferenceType().isConstQualified())) ||
             T->isPointerType())) {
          const Expr* I = stripExpr(D->getInit());
          if (const auto* UO = llvm::dyn_cast<UnaryOperator>(I); UO && UO->getOpcode() == UO_AddrOf)
            I = UO->getSubExpr();
          if (refersTo(I, VD, nullptr)) Escapes = true;
        }
        return !Escapes;
      }
      bool VisitCXXConstructExpr(CXXConstructExpr* CE) {
        for (unsigned I = 0; I < CE->getNumArgs(); ++I)
          if (refersTo(CE->getArg(I), VD, nullptr) && mayWriteParam(CE->getConstructor(), I))
            Escapes = true;
        return !Escapes;
      }
    } Visitor(VD);
    Visitor.TraverseStmt(const_cast<Stmt*>(Body));
    EcEscapes[VD] = Visitor.Escapes;
    return Visitor.Escapes;
  }
  llvm::DenseMap<const VarDecl*, bool> EcEscapes;

  /// Blocks of Fn's CFG that run on a path from the entry to a normal return, given the
  /// argument constants \p B (branches whose condition folds are followed one way only; blocks
  /// ending in a [[noreturn]] call or a throw do not return).
  const std::vector<char>& liveBlocks(FnCfg& C, const FunctionDecl* Fn, const Bindings& B,
                                      const std::string& Key) {
    auto It = C.Live.find(Key);
    if (It != C.Live.end()) return It->second;
    const CFG& G = *C.G;
    unsigned N = G.getNumBlockIDs();
    // Which successor index a two-way branch is known to take (-1: both).
    std::vector<int> Taken(N, -1);
    for (const CFGBlock* Bl : G) {
      if (!Bl || Bl->succ_size() != 2) continue;
      const Stmt* Cond = Bl->getTerminatorCondition();
      const auto* CE = llvm::dyn_cast_or_null<Expr>(Cond);
      if (!CE) continue;
      // The block is the context of error-code folding (the write reaching the condition).
      const CFGBlock* SavedBlock = EvalBlock;
      const FnCfg* SavedCfg = EvalCfg;
      EvalBlock = Bl;
      EvalCfg = &C;
      auto V = evalInt(CE, Fn, B);
      EvalBlock = SavedBlock;
      EvalCfg = SavedCfg;
      if (V) Taken[Bl->getBlockID()] = *V ? 0 : 1;
    }
    auto EdgeOk = [&](const CFGBlock& From, unsigned SuccIndex) {
      int T = Taken[From.getBlockID()];
      return T < 0 || static_cast<unsigned>(T) == SuccIndex;
    };
    std::vector<char> Fwd(N, 0), Bwd(N, 0);
    std::vector<const CFGBlock*> Work{&G.getEntry()};
    Fwd[G.getEntry().getBlockID()] = 1;
    while (!Work.empty()) {
      const CFGBlock* Bl = Work.back();
      Work.pop_back();
      unsigned I = 0;
      for (const CFGBlock::AdjacentBlock& S : Bl->succs()) {
        const CFGBlock* SB = S.getReachableBlock();
        if (SB && EdgeOk(*Bl, I) && !Fwd[SB->getBlockID()]) {
          Fwd[SB->getBlockID()] = 1;
          Work.push_back(SB);
        }
        ++I;
      }
    }
    Work.push_back(&G.getExit());
    Bwd[G.getExit().getBlockID()] = 1;
    while (!Work.empty()) {
      const CFGBlock* Bl = Work.back();
      Work.pop_back();
      for (const CFGBlock::AdjacentBlock& P : Bl->preds()) {
        const CFGBlock* PB = P.getReachableBlock();
        if (!PB || Bwd[PB->getBlockID()] || isNoReturnBlock(*PB)) continue;
        unsigned I = 0;
        bool Ok = false;
        for (const CFGBlock::AdjacentBlock& S : PB->succs()) {
          if (S.getReachableBlock() == Bl && EdgeOk(*PB, I)) Ok = true;
          ++I;
        }
        if (!Ok) continue;
        Bwd[PB->getBlockID()] = 1;
        Work.push_back(PB);
      }
    }
    std::vector<char> Live(N, 0);
    for (unsigned I = 0; I < N; ++I) Live[I] = Fwd[I] && Bwd[I];
    return C.Live.emplace(Key, std::move(Live)).first->second;
  }

 public:
  /// Facts about a body for argument-aware rules (computed once per body).
  const BodyFacts& factsFor(const Stmt* Root) {
    auto& Slot = Facts[Root];
    if (Slot) return *Slot;
    Slot = std::make_unique<BodyFacts>();
    BodyFacts& F = *Slot;
    struct V : RecursiveASTVisitor<V> {
      BodyFacts& F;
      const ASTContext& Ctx;
      V(BodyFacts& F, const ASTContext& C) : F(F), Ctx(C) {}
      bool TraverseLambdaExpr(LambdaExpr*) { return true; }
      bool VisitStmt(Stmt* S) {
        const SourceManager& SM = Ctx.getSourceManager();
        if (!F.HandlesEagain && S->getBeginLoc().isMacroID()) {
          llvm::StringRef M = Lexer::getImmediateMacroName(S->getBeginLoc(), SM, Ctx.getLangOpts());
          if (M == "EAGAIN" || M == "EWOULDBLOCK") F.HandlesEagain = true;
        }
        return true;
      }
      bool VisitDeclRefExpr(DeclRefExpr* DRE) {
        const ValueDecl* D = DRE->getDecl();
        if (!F.HandlesEagain && llvm::isa<EnumConstantDecl, VarDecl>(D) && D->getIdentifier() &&
            isWouldBlockName(D->getName()))
          F.HandlesEagain = true;
        return true;
      }
      bool VisitCallExpr(CallExpr* CE) {
        const FunctionDecl* FD = CE->getDirectCallee();
        if (!FD || !FD->getIdentifier()) return true;
        if (!F.HandlesEagain && isWouldBlockName(FD->getName())) F.HandlesEagain = true;
        F.Calls.push_back({FD->getName().str(), qualifiedNameForRules(FD), callSubjectKey(CE),
                           CE->getBeginLoc()});
        return true;
      }
      bool VisitBinaryOperator(BinaryOperator* BO) {
        if (!BO->isAssignmentOp()) return true;
        if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts()))
          if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
            F.Assigns[VD].push_back(BO->getRHS());
        return true;
      }
      // A class's assignment operator (`std::function<void()> f; f = [] { ... };`,
      // `p = std::make_unique<D>()`) assigns like the built-in one.
      bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr* OC) {
        if (!OC->isAssignmentOp() || OC->getNumArgs() != 2) return true;
        if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(OC->getArg(0)->IgnoreParenImpCasts()))
          if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
            F.Assigns[VD].push_back(OC->getArg(1));
        return true;
      }
    } Visitor(F, *Ctx);
    Visitor.TraverseStmt(const_cast<Stmt*>(Root));
    return F;
  }

  /// File descriptors (variables, fields) whose non-blocking mode is set anywhere in the TU.
  const llvm::DenseSet<const Decl*>& nonBlockingFds() {
    if (NonBlockingFds) return *NonBlockingFds;
    NonBlockingFds.emplace();
    struct V : RecursiveASTVisitor<V> {
      const ASTContext& Ctx;
      llvm::DenseSet<const Decl*>& Out;
      std::vector<std::pair<const CallExpr*, const Expr*>> SetFl;  // fcntl(fd, F_SETFL, v)
      llvm::DenseMap<const VarDecl*, llvm::SmallVector<const Expr*, 2>> Assigns;
      V(const ASTContext& C, llvm::DenseSet<const Decl*>& O) : Ctx(C), Out(O) {}
      bool shouldVisitTemplateInstantiations() const { return false; }
      static bool isCreator(llvm::StringRef N) {
        return N == "socket" || N == "accept4" || N == "open" || N == "openat" ||
               N == "pipe2" || N == "eventfd" || N == "timerfd_create" || N == "signalfd" ||
               N == "epoll_create1" || N == "inotify_init1" || N == "socketpair";
      }
      bool nonblockFlag(const Expr* E) {
        for (llvm::StringRef N : {"O_NONBLOCK", "SOCK_NONBLOCK", "EFD_NONBLOCK", "TFD_NONBLOCK",
                                  "SFD_NONBLOCK", "IN_NONBLOCK", "O_NDELAY"})
          if (mentionsName(E, N, Ctx, &Assigns)) return true;
        return false;
      }
      /// `fd = socket(..., SOCK_NONBLOCK, ...)`: the call creating a non-blocking fd.
      bool createsNonBlocking(const Expr* E) {
        const auto* CE = llvm::dyn_cast_or_null<CallExpr>(stripExpr(E));
        const FunctionDecl* FD = CE ? CE->getDirectCallee() : nullptr;
        if (!FD || !FD->getIdentifier() || !isCreator(FD->getName())) return false;
        for (const Expr* A : CE->arguments())
          if (nonblockFlag(A)) return true;
        return false;
      }
      bool VisitVarDecl(VarDecl* VD) {
        if (VD->getInit() && createsNonBlocking(VD->getInit())) Out.insert(VD->getCanonicalDecl());
        return true;
      }
      bool VisitCXXCtorInitializer(CXXCtorInitializer* CI) {
        if (CI->getMember() && createsNonBlocking(CI->getInit()))
          Out.insert(CI->getMember()->getCanonicalDecl());
        return true;
      }
      bool TraverseConstructorInitializer(CXXCtorInitializer* CI) {
        VisitCXXCtorInitializer(CI);
        return RecursiveASTVisitor::TraverseConstructorInitializer(CI);
      }
      bool VisitBinaryOperator(BinaryOperator* BO) {
        if (!BO->isAssignmentOp()) return true;
        if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts()))
          if (const auto* VD = llvm::dyn_cast<VarDecl>(DRE->getDecl()))
            Assigns[VD].push_back(BO->getRHS());
        if (BO->getOpcode() == BO_Assign && createsNonBlocking(BO->getRHS()))
          if (const Decl* D = identityDecl(BO->getLHS())) Out.insert(D);
        return true;
      }
      bool VisitCallExpr(CallExpr* CE) {
        const FunctionDecl* FD = CE->getDirectCallee();
        if (!FD || !FD->getIdentifier() || CE->getNumArgs() < 2) return true;
        llvm::StringRef N = FD->getName();
        if (N == "fcntl" && CE->getNumArgs() >= 3 &&
            mentionsName(CE->getArg(1), "F_SETFL", Ctx, nullptr))
          SetFl.push_back({CE, CE->getArg(2)});
        else if (N == "ioctl" && mentionsName(CE->getArg(1), "FIONBIO", Ctx, nullptr))
          SetFl.push_back({CE, nullptr});
        else if ((N == "pipe2" || N == "socketpair") && createsNonBlocking(CE))
          if (const Decl* D = identityDecl(CE->getArg(N == "pipe2" ? 0 : CE->getNumArgs() - 1)))
            Out.insert(D);
        return true;
      }
    } Visitor(*Ctx, *NonBlockingFds);
    Visitor.TraverseDecl(Ctx->getTranslationUnitDecl());
    for (auto [CE, Val] : Visitor.SetFl)
      if (!Val || Visitor.nonblockFlag(Val))
        if (const Decl* D = identityDecl(CE->getArg(0))) NonBlockingFds->insert(D);
    return *NonBlockingFds;
  }

  /// True when one of the rule's conditions makes this call non-blocking.
  bool nonBlockingByArgs(const BlockingFunction& B, const Expr* Call, const Stmt* Root) {
    if (B.NonBlockingWhen.empty()) return false;
    const auto* CE = llvm::dyn_cast<CallExpr>(Call);
    llvm::SmallVector<const Expr*, 6> Args = calleeArgs(Call);
    for (const NonBlockingCondition& C : B.NonBlockingWhen) {
      const Expr* A = C.Arg >= 0 && static_cast<size_t>(C.Arg) < Args.size() ? Args[C.Arg] : nullptr;
      switch (C.K) {
        case NonBlockingCondition::Kind::HasFlag:
          if (A && mentionsName(A, C.Name, *Ctx, Root ? &factsFor(Root).Assigns : nullptr))
            return true;
          break;
        case NonBlockingCondition::Kind::Equals: {
          if (!A || A->isValueDependent() || A->isTypeDependent()) break;
          if (llvm::isa<CXXDefaultArgExpr>(A)) A = llvm::cast<CXXDefaultArgExpr>(A)->getExpr();
          Expr::EvalResult Res;
          if (A->EvaluateAsRValue(Res, *Ctx) && equalsConstant(Res.Val, C.Value)) return true;
          break;
        }
        case NonBlockingCondition::Kind::FdNonBlocking: {
          if (!A) break;
          if (Root && factsFor(Root).HandlesEagain) return true;
          if (const Decl* D = identityDecl(A); D && nonBlockingFds().count(D)) return true;
          break;
        }
        case NonBlockingCondition::Kind::After: {
          if (!CE || !Root) break;
          const Decl* Key = callSubjectKey(CE);
          if (!Key) break;
          const SourceManager& SM = Ctx->getSourceManager();
          bool Qualified = llvm::StringRef(C.Name).contains("::");
          for (const BodyFacts::CallInfo& I : factsFor(Root).Calls) {
            if (I.Key != Key || (Qualified ? I.QName != C.Name : I.Name != C.Name)) continue;
            if (SM.isBeforeInTranslationUnit(I.Loc, CE->getBeginLoc())) return true;
          }
          break;
        }
      }
    }
    return false;
  }

 private:
  class Scanner : public RecursiveASTVisitor<Scanner> {
   public:
    Scanner(BlockingAnalysis& A, FunctionInfo& Info, const Stmt* Root)
        : A(A), Info(Info), Root(Root) {}

    bool TraverseStmt(Stmt* S) {
      if (!S) return true;
      if (const auto* CS = llvm::dyn_cast<CompoundStmt>(S))
        for (const Stmt* Child : CS->body())
          if (const auto* E = llvm::dyn_cast<Expr>(Child)) checkDiscardedAsync(E);
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
    /// Unevaluated operands never run: a requires-expression's requirements
    /// (`if constexpr (requires(P& p) { p.run(); })`), sizeof/alignof, noexcept(...),
    /// decltype(...) and typeid of a non-polymorphic operand.
    bool TraverseRequiresExpr(RequiresExpr*) { return true; }
    bool TraverseUnaryExprOrTypeTraitExpr(UnaryExprOrTypeTraitExpr*) { return true; }
    bool TraverseCXXNoexceptExpr(CXXNoexceptExpr*) { return true; }
    bool TraverseCXXTypeidExpr(CXXTypeidExpr* E) {
      return !E->isPotentiallyEvaluated() || RecursiveASTVisitor::TraverseCXXTypeidExpr(E);
    }
    bool TraverseDecltypeTypeLoc(DecltypeTypeLoc) { return true; }
    bool TraverseDecl(Decl* D) {
      // Local classes and functions declared in a body are not executed by it.
      if (llvm::isa_and_nonnull<CXXRecordDecl, FunctionDecl, FunctionTemplateDecl>(D)) return true;
      return RecursiveASTVisitor::TraverseDecl(D);
    }

    /// C stdio's `FILE*` (glibc's `struct _IO_FILE`, BSD's `struct __sFILE`).
    static bool isFilePointer(QualType T) {
      if (!T->isPointerType()) return false;
      QualType P = T->getPointeeType();
      if (const auto* TT = P->getAs<TypedefType>(); TT && TT->getDecl()->getName() == "FILE")
        return true;
      const RecordDecl* RD = P->getAsRecordDecl();
      return RD && RD->getIdentifier() &&
             (RD->getName() == "_IO_FILE" || RD->getName() == "__sFILE" || RD->getName() == "FILE");
    }

    /// A stream object named by the rules (std::cerr, std::cin, stdout, stderr) used by the call
    /// as its object or as a direct argument: the call takes the stream's rule (console logging
    /// or console input), whatever the function is.
    const BlockingFunction* streamRule(CallExpr* CE, std::string& Shown) {
      auto Check = [&](const Expr* E) -> const BlockingFunction* {
        const auto* DRE = llvm::dyn_cast_or_null<DeclRefExpr>(E ? E->IgnoreParenImpCasts() : nullptr);
        const auto* VD = DRE ? llvm::dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
        if (!VD || VD->hasLocalStorage()) return nullptr;
        std::string N = qualifiedNameForRules(VD);
        if (const BlockingFunction* B = A.R.findBlocking(N)) {
          Shown = N;
          return B;
        }
        return nullptr;
      };
      if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE))
        if (const BlockingFunction* B = Check(MC->getImplicitObjectArgument())) return B;
      for (const Expr* Arg : CE->arguments())
        if (const BlockingFunction* B = Check(Arg)) return B;
      return nullptr;
    }

    /// `std::async(std::launch::async, f);` as a statement: the returned std::future is a
    /// temporary destroyed at the end of the statement, and a std::async future's destructor
    /// waits for the thread (std::launch::deferred runs nothing, so it does not wait).
    void checkDiscardedAsync(const Expr* E) {
      while (true) {
        const Expr* Prev = E;
        E = stripExpr(E);
        if (const auto* C = llvm::dyn_cast<CStyleCastExpr>(E); C && C->getType()->isVoidType())
          E = C->getSubExpr();
        if (const auto* C = llvm::dyn_cast<CXXStaticCastExpr>(E); C && C->getType()->isVoidType())
          E = C->getSubExpr();
        if (const auto* B = llvm::dyn_cast<CXXBindTemporaryExpr>(E)) E = B->getSubExpr();
        if (E == Prev) break;
      }
      const auto* CE = llvm::dyn_cast<CallExpr>(E);
      const FunctionDecl* FD = CE ? CE->getDirectCallee() : nullptr;
      if (!FD || qualifiedNameForRules(FD) != "std::async") return;
      if (CE->getNumArgs() > 0 && CE->getArg(0)->getType()->isEnumeralType() &&
          !CE->getArg(0)->isValueDependent()) {
        Expr::EvalResult Res;
        // std::launch::deferred alone (libstdc++: 2): the function runs on get(), nothing waits.
        if (CE->getArg(0)->EvaluateAsInt(Res, *A.Ctx) && Res.Val.getInt() == 2) return;
      }
      if (const BlockingFunction* B = A.R.findBlocking("std::future::~future"))
        addHit(CE->getBeginLoc(), CE, B, "std::future::~future (discarded std::async result)");
    }

    /// A local that is moved from, detached or joined in the body (by name).
    bool usedAs(const VarDecl* VD, std::initializer_list<llvm::StringRef> Methods, bool Moved) {
      struct F : RecursiveASTVisitor<F> {
        const VarDecl* VD;
        std::initializer_list<llvm::StringRef> Methods;
        bool Moved;
        bool Found = false;
        bool VisitCXXMemberCallExpr(CXXMemberCallExpr* MC) {
          const CXXMethodDecl* M = MC->getMethodDecl();
          const auto* DRE =
              llvm::dyn_cast<DeclRefExpr>(MC->getImplicitObjectArgument()->IgnoreParenImpCasts());
          if (M && M->getIdentifier() && DRE && DRE->getDecl() == VD &&
              llvm::is_contained(Methods, M->getName()))
            Found = true;
          return !Found;
        }
        bool VisitCallExpr(CallExpr* CE) {
          const FunctionDecl* FD = CE->getDirectCallee();
          if (Moved && FD && FD->isInStdNamespace() && FD->getIdentifier() &&
              FD->getName() == "move" && CE->getNumArgs() == 1)
            if (const auto* DRE = llvm::dyn_cast<DeclRefExpr>(CE->getArg(0)->IgnoreParenImpCasts()))
              if (DRE->getDecl() == VD) Found = true;
          return !Found;
        }
      } Finder{{}, VD, Methods, Moved};
      Finder.TraverseStmt(const_cast<Stmt*>(Root));
      return Finder.Found;
    }

    /// Locals whose destructor runs here, at the end of their scope: a started std::jthread
    /// joins (unless detached, joined or moved away); an object of a user class with a
    /// user-written destructor is a call to that destructor (followed like any call, so a
    /// destructor that joins a thread member blocks).
    bool VisitVarDecl(VarDecl* VD) {
      if (!VD->hasLocalStorage() || llvm::isa<ParmVarDecl>(VD) || VD->getType()->isReferenceType() ||
          VD->isInitCapture())
        return true;
      const CXXRecordDecl* RD = VD->getType()->getAsCXXRecordDecl();
      if (!RD || !RD->hasDefinition()) return true;
      if (qualifiedNameForRules(RD) == "std::jthread") {
        const auto* Init = llvm::dyn_cast_or_null<CXXConstructExpr>(
            VD->getInit() ? VD->getInit()->IgnoreImplicit() : nullptr);
        if (!Init || Init->getNumArgs() == 0 || Init->getConstructor()->isCopyOrMoveConstructor())
          return true;
        if (usedAs(VD, {"detach", "join"}, /*Moved=*/true)) return true;
        if (const BlockingFunction* B = A.R.findBlocking("std::jthread::~jthread"))
          addHit(VD->getLocation(), Init, B, "std::jthread::~jthread");
        return true;
      }
      const CXXDestructorDecl* D = RD->getDestructor();
      if (D && D->isUserProvided() && !usedAs(VD, {}, /*Moved=*/true))
        addEdge(VD->getLocation(), D, nullptr);
      return true;
    }

    /// The functions a local function pointer or std::function variable was given in this body
    /// (its initializer and plain assignments): `auto f = &::sleep;`,
    /// `std::function<void()> g = [] { ... };` (the lambda's operator()).
    llvm::SmallVector<const FunctionDecl*, 2> targetsOf(const Expr* Callee) {
      llvm::SmallVector<const FunctionDecl*, 2> Out;
      const auto* DRE = llvm::dyn_cast<DeclRefExpr>(stripExpr(Callee));
      const auto* VD = DRE ? llvm::dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      if (!VD || !VD->hasLocalStorage()) return Out;
      llvm::SmallVector<const Expr*, 3> Values;
      if (VD->getInit()) Values.push_back(VD->getInit());
      if (auto It = A.factsFor(Root).Assigns.find(VD); It != A.factsFor(Root).Assigns.end())
        Values.append(It->second.begin(), It->second.end());
      for (const Expr* V : Values) {
        for (unsigned Depth = 0; V && Depth < 6; ++Depth) {
          V = stripExpr(V);
          if (const auto* B = llvm::dyn_cast<CXXBindTemporaryExpr>(V)) V = B->getSubExpr();
          if (const auto* C = llvm::dyn_cast<CXXConstructExpr>(V); C && C->getNumArgs() >= 1) {
            V = C->getArg(0);
            continue;
          }
          if (const auto* C = llvm::dyn_cast<CXXFunctionalCastExpr>(V)) {
            V = C->getSubExpr();
            continue;
          }
          if (const auto* U = llvm::dyn_cast<UnaryOperator>(V); U && U->getOpcode() == UO_AddrOf) {
            V = U->getSubExpr();
            continue;
          }
          break;
        }
        if (!V) continue;
        V = stripExpr(V);
        if (const auto* LE = llvm::dyn_cast<LambdaExpr>(V))
          Out.push_back(LE->getCallOperator());
        else if (const auto* R = llvm::dyn_cast<DeclRefExpr>(V))
          if (const auto* F = llvm::dyn_cast<FunctionDecl>(R->getDecl())) Out.push_back(F);
      }
      return Out;
    }

    /// A call of FD found through a variable or a known dynamic type: a rule, or an edge.
    void callThrough(SourceLocation Loc, const FunctionDecl* FD, CallExpr* CE) {
      std::string Name = qualifiedNameForRules(FD);
      if (const BlockingFunction* B = A.R.findBlocking(Name)) {
        addHit(Loc, CE, B, Name);
        return;
      }
      addEdge(Loc, FD, CE);
    }

    /// The class of the object a local pointer / smart pointer / reference variable refers to,
    /// when its initializer shows it: `new D`, `std::make_unique<D>()`,
    /// `std::make_shared<D>()`, `&d` or `d` for a local object `D d`. Null when unknown or the
    /// variable is assigned again in the body.
    const CXXRecordDecl* dynamicClassOf(const Expr* Obj) {
      const Expr* E = stripExpr(Obj);
      if (const auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(E);
          OC && (OC->getOperator() == OO_Arrow || OC->getOperator() == OO_Star) &&
          OC->getNumArgs() >= 1)
        E = stripExpr(OC->getArg(0));
      else if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
        const CXXMethodDecl* M = MC->getMethodDecl();
        if (!M || !M->getIdentifier() || M->getName() != "get") return nullptr;
        E = stripExpr(MC->getImplicitObjectArgument());
      } else if (const auto* U = llvm::dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_Deref)
        E = stripExpr(U->getSubExpr());
      const auto* DRE = llvm::dyn_cast<DeclRefExpr>(E);
      const auto* VD = DRE ? llvm::dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      if (!VD || !VD->hasLocalStorage() || llvm::isa<ParmVarDecl>(VD) || !VD->getInit()) return nullptr;
      // Only a pointer, reference or smart pointer can refer to an object of a derived class.
      QualType VT = VD->getType();
      if (!VT->isPointerType() && !VT->isReferenceType()) {
        const CXXRecordDecl* P = recordOf(VT);
        std::string PN = P ? qualifiedNameForRules(P) : std::string();
        if (PN != "std::unique_ptr" && PN != "std::shared_ptr") return nullptr;
      }
      if (A.factsFor(Root).Assigns.count(VD)) return nullptr;
      const Expr* I = VD->getInit();
      for (unsigned Depth = 0; I && Depth < 8; ++Depth) {
        I = stripExpr(I);
        if (const auto* B = llvm::dyn_cast<CXXBindTemporaryExpr>(I)) I = B->getSubExpr();
        if (const auto* C = llvm::dyn_cast<CXXConstructExpr>(I); C && C->getNumArgs() == 1) {
          I = C->getArg(0);  // a move, or a converting unique_ptr<Base>(unique_ptr<D>&&)
          continue;
        }
        if (const auto* C = llvm::dyn_cast<CastExpr>(I); C && C->getCastKind() == CK_DerivedToBase) {
          I = C->getSubExpr();
          continue;
        }
        break;
      }
      if (!I) return nullptr;
      I = stripExpr(I);
      if (const auto* N = llvm::dyn_cast<CXXNewExpr>(I)) return N->getAllocatedType()->getAsCXXRecordDecl();
      if (const auto* U = llvm::dyn_cast<UnaryOperator>(I); U && U->getOpcode() == UO_AddrOf)
        I = stripExpr(U->getSubExpr());
      if (const auto* R = llvm::dyn_cast<DeclRefExpr>(I))
        if (const auto* Local = llvm::dyn_cast<VarDecl>(R->getDecl());
            Local && Local->hasLocalStorage() && !llvm::isa<ParmVarDecl>(Local) &&
            !Local->getType()->isReferenceType() && !Local->getType()->isPointerType())
          return Local->getType()->getAsCXXRecordDecl();
      if (const auto* C = llvm::dyn_cast<CallExpr>(I))
        if (const FunctionDecl* F = C->getDirectCallee())
          if (F->isInStdNamespace() && F->getIdentifier() &&
              (F->getName() == "make_unique" || F->getName() == "make_shared"))
            if (const auto* Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
                    C->getType()->getAsCXXRecordDecl()))
              if (Spec->getTemplateArgs().size() >= 1 &&
                  Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
                return Spec->getTemplateArgs()[0].getAsType()->getAsCXXRecordDecl();
      return nullptr;
    }

    void addHit(SourceLocation Loc, const Stmt* S, const BlockingFunction* B, std::string Name) {
      if (!A.enabled(*B)) return;
      const auto* E = llvm::dyn_cast<Expr>(S);
      if (E && A.nonBlockingByArgs(*B, E, Root)) return;
      bool FdGuardable = false;
      if (E)
        for (const NonBlockingCondition& C : B->NonBlockingWhen)
          if (C.K == NonBlockingCondition::Kind::FdNonBlocking && C.Arg >= 0 &&
              static_cast<size_t>(C.Arg) < calleeArgs(E).size())
            FdGuardable = true;
      Info.Hits.push_back({Loc, S, B, std::move(Name), FdGuardable});
    }

    bool VisitCallExpr(CallExpr* CE) {
      const FunctionDecl* FD = CE->getDirectCallee();
      if (!FD) {
        checkUnresolved(CE);
        // A function pointer variable given a known function in this body.
        for (const FunctionDecl* T : targetsOf(CE->getCallee())) callThrough(CE->getBeginLoc(), T, CE);
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
      std::string StreamName;
      if (const BlockingFunction* S = streamRule(CE, StreamName)) {
        if (auto* OC = llvm::dyn_cast<CXXOperatorCallExpr>(CE))
          StreamName += std::string(" ") + getOperatorSpelling(OC->getOperator());
        else
          StreamName = Name + "(" + StreamName + ")";
        addHit(Loc, CE, S, StreamName);
        return true;
      }
      if (const BlockingFunction* B = A.R.findBlocking(Name)) {
        // Given a FILE* that is not a console stream (those were taken above), a function with
        // a `file_argument` rule takes that rule: `fmt::print(file, ...)` writes a file.
        if (!B->FileArgumentRule.empty() && CE->getNumArgs() > 0 &&
            isFilePointer(CE->getArg(0)->getType()))
          if (const BlockingFunction* FileRule = A.R.findBlocking(B->FileArgumentRule))
            B = FileRule;
        addHit(Loc, CE, B, Name);
        return true;
      }
      // Member / operator call on an object of a blocking class (std::ifstream f; f.read()).
      const Expr* Obj = nullptr;
      if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE))
        Obj = MC->getImplicitObjectArgument();
      else if (llvm::isa<CXXOperatorCallExpr>(CE) && CE->getNumArgs() > 0)
        Obj = CE->getArg(0);
      // A method inherited from a base class, named by the object's class: std::future::wait is
      // declared in libstdc++'s std::__basic_future.
      if (Obj && llvm::isa<CXXMethodDecl>(FD) && FD->getIdentifier()) {
        if (const CXXRecordDecl* RD = recordOf(Obj->IgnoreImpCasts()->getType());
            RD && RD != llvm::cast<CXXMethodDecl>(FD)->getParent()) {
          std::string ViaObject = qualifiedNameForRules(RD) + "::" + FD->getName().str();
          if (const BlockingFunction* B = A.R.findBlocking(ViaObject)) {
            addHit(Loc, CE, B, ViaObject);
            return true;
          }
        }
      }
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
          if (const BlockingFunction* B = A.R.findBlocking(qualifiedNameForRules(RD))) {
            std::string Method = FD->getNameAsString();
            addHit(Loc, CE, B, typeDisplay(Obj->getType(), *A.Ctx) + "::" + Method);
            return true;
          }
        }
      }
      // std::function's operator(): the function or lambda the variable was given here.
      if (llvm::isa<CXXOperatorCallExpr>(CE) && CE->getNumArgs() > 0 &&
          qualifiedNameForRules(FD) == "std::function::operator()") {
        for (const FunctionDecl* T : targetsOf(CE->getArg(0))) callThrough(Loc, T, CE);
        return true;
      }
      // A virtual call on an object whose dynamic class is known here: the override runs.
      if (const auto* MC = llvm::dyn_cast<CXXMemberCallExpr>(CE))
        if (const auto* MD = llvm::dyn_cast<CXXMethodDecl>(FD); MD && MD->isVirtual())
          if (const CXXRecordDecl* Dyn = dynamicClassOf(MC->getImplicitObjectArgument()))
            if (const CXXMethodDecl* Over = MD->getCorrespondingMethodInClass(Dyn);
                Over && Over != MD) {
              callThrough(Loc, Over, CE);
              return true;
            }
      addEdge(Loc, FD, CE);
      return true;
    }

    bool VisitCXXConstructExpr(CXXConstructExpr* CE) {
      const CXXConstructorDecl* Ctor = CE->getConstructor();
      if (!Ctor) return true;
      const CXXRecordDecl* RD = Ctor->getParent();
      // Implicit constructors (C structs such as `struct stat`, whose names equal blocking
      // functions, and copies/moves of existing objects) do no I/O.
      if (Ctor->isImplicit() || Ctor->isCopyOrMoveConstructor()) {
        addEdge(CE->getBeginLoc(), Ctor, CE);
        return true;
      }
      if (const BlockingFunction* B = A.R.findBlocking(qualifiedNameForRules(RD))) {
        addHit(CE->getBeginLoc(), CE, B, typeDisplay(CE->getType(), *A.Ctx));
        return true;
      }
      if (const BlockingFunction* B = guardAcquisition(CE)) {
        addHit(CE->getBeginLoc(), CE, B, qualifiedNameForRules(RD));
        return true;
      }
      addEdge(CE->getBeginLoc(), Ctor, CE);
      return true;
    }

    /// A lock guard (rules: `guard_types`; std::lock_guard, std::scoped_lock, std::unique_lock,
    /// std::shared_lock) constructed on a mutex locks it in its constructor: it takes the rule of
    /// the mutex's lock() (lock_shared() for std::shared_lock), so `std::lock_guard g(m)` and
    /// `m.lock()` follow one policy (both Strict-only for std mutexes). A guard constructed with
    /// std::defer_lock / std::try_to_lock / std::adopt_lock does not wait.
    const BlockingFunction* guardAcquisition(const CXXConstructExpr* CE) {
      const CXXRecordDecl* RD = CE->getConstructor()->getParent();
      std::string Guard = qualifiedNameForRules(RD);
      if (!Rules::contains(A.R.LockTypes, Guard)) return nullptr;
      const BlockingFunction* Rule = nullptr;
      for (const Expr* Arg : CE->arguments()) {
        const CXXRecordDecl* ArgRD = recordOf(Arg->getType());
        if (!ArgRD) continue;
        std::string ArgName = qualifiedNameForRules(ArgRD);
        if (ArgName == "std::defer_lock_t" || ArgName == "std::try_to_lock_t" ||
            ArgName == "std::adopt_lock_t")
          return nullptr;
        if (!Rule && !Arg->getType()->isPointerType())
          Rule = A.R.findBlocking(ArgName + (Guard == "std::shared_lock" ? "::lock_shared"
                                                                          : "::lock"));
      }
      return Rule;
    }

   private:
    BlockingAnalysis& A;
    FunctionInfo& Info;
    const Stmt* Root;

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
        if (const BlockingFunction* B = A.R.findBlocking(Name)) {
          addHit(CE->getBeginLoc(), CE, B, Name);
          return;
        }
      }
    }

    void addEdge(SourceLocation Loc, const FunctionDecl* FD, const Expr* Call) {
      const FunctionDecl* Def = FD->getDefinition();
      if (!Def || !Def->getBody() || isCoroutine(Def)) return;
      // Library code is followed whether its headers come with -I or -isystem; the standard
      // library and compiler internals are not (their blocking entry points are in the rules).
      if (isStdLibrary(Def)) return;
      Info.Edges.push_back({Loc, Def, Call, A.R.isLoggingEntry(qualifiedNameForRules(Def))});
    }

    static bool isStdLibrary(const FunctionDecl* FD) {
      const DeclContext* DC = FD->getDeclContext();
      while (DC && !DC->isFileContext()) DC = DC->getParent();
      for (; DC; DC = DC->getParent()) {
        if (const auto* NS = llvm::dyn_cast<NamespaceDecl>(DC)) {
          if (NS->isStdNamespace()) return true;
          if (NS->getIdentifier() && (NS->getName().starts_with("__") ||
                                      NS->getName() == "__gnu_cxx" || NS->getName() == "std"))
            return true;
        }
      }
      return FD->getIdentifier() && FD->getName().starts_with("__");
    }
  };

 public:
  /// Strict-only and logging-only rules are off unless their option is on.
  bool enabled(const BlockingFunction& B) const {
    if (B.Strict && !Strict) return false;
    if (B.Logging && !Logging) return false;
    return true;
  }
};

bool BlockingAnalysis::reachesBlocking(const FunctionDecl* Start) {
  if (auto It = Memo.find(Start); It != Memo.end()) return It->second.Blocks;
  // BFS over the call graph.
  llvm::DenseSet<const FunctionDecl*> Seen{Start};
  std::deque<const FunctionDecl*> Queue{Start};
  bool Found = false;
  while (!Queue.empty() && !Found) {
    const FunctionDecl* Fn = Queue.front();
    Queue.pop_front();
    auto MIt = Memo.find(Fn);
    if (MIt != Memo.end()) {
      if (MIt->second.Blocks) Found = true;
      continue;  // known non-blocking: its reachable set cannot block
    }
    const FunctionInfo& Info = scanDefinition(Fn);
    if (!Info.Hits.empty()) {
      Found = true;
      break;
    }
    for (const Edge& E : Info.Edges)
      if (Seen.insert(E.Callee).second) Queue.push_back(E.Callee);
  }
  if (!Found)
    for (const FunctionDecl* Fn : Seen) Memo[Fn] = {false, -1, -1};
  else
    Memo[Start] = {true, -1, -1};
  return Found;
}

const BlockingAnalysis::PreciseEntry* BlockingAnalysis::preciseBlocks(const FunctionDecl* Fn,
                                                                      Bindings B, unsigned Guard,
                                                                      unsigned Depth) {
  if (!reachesBlocking(Fn)) return nullptr;
  FnCfg& C = cfgFor(Fn);
  uint64_t Mask = maskFor(Fn);
  for (size_t I = 0; I < B.size(); ++I)
    if (I >= 64 || !(Mask & (uint64_t(1) << I))) B[I].reset();
  std::string Key = keyOf(B);
  auto MK = std::make_pair(Fn, keyOf(B, Guard));
  if (auto It = Precise.find(MK); It != Precise.end())
    return It->second.Blocks ? &It->second : nullptr;
  if (Depth > 256 || !InProgress.insert(MK).second) return nullptr;  // recursion: assume not
  const FunctionInfo& Info = scanDefinition(Fn);
  const std::vector<char>* Live = C.G ? &liveBlocks(C, Fn, B, Key) : nullptr;
  ++OnStack[Fn];
  auto IsLive = [&](const Stmt* S) {
    if (!Live || !S) return true;
    auto It = C.BlockOf.find(S);
    return It == C.BlockOf.end() || (*Live)[It->second];
  };
  // The most telling path (PreciseEntry::betterThan); the first one found wins a tie, so direct
  // calls come before calls reached through helpers.
  PreciseEntry Result;
  auto Done = [&] { return Result.Blocks && !Result.ViaLogging && Result.Priority >= 100; };
  for (size_t I = 0; I < Info.Hits.size() && !Done(); ++I) {
    const DirectHit& H = Info.Hits[I];
    if (!IsLive(H.S) || (H.FdGuardable && Guard > 0)) continue;
    PreciseEntry Cand{true, static_cast<int>(I), -1, {}, 0, false, H.Rule->Priority};
    if (Cand.betterThan(Result)) Result = std::move(Cand);
  }
  const FunctionDecl* Def = Fn->getDefinition();
  unsigned NextGuard = guardBelow(Def ? Def->getBody() : nullptr, Guard);
  for (size_t I = 0; I < Info.Edges.size() && !Done(); ++I) {
    const Edge& E = Info.Edges[I];
    if (!IsLive(E.Call)) continue;
    if (E.Logging && !Logging) continue;  // logging is off: the logger's own I/O is not reported
    Bindings Next = bindingsFor(E, Fn, B);
    // Recursion: constants do not follow a call back into a function already being searched
    // (a counter argument would unroll the recursion one binding at a time).
    if (OnStack.count(E.Callee)) Next.clear();
    const PreciseEntry* Sub = preciseBlocks(E.Callee, Next, NextGuard, Depth + 1);
    if (!Sub) continue;
    PreciseEntry Cand{true, -1, static_cast<int>(I), std::move(Next), NextGuard,
                      Sub->ViaLogging || E.Logging, Sub->Priority};
    if (Cand.betterThan(Result)) Result = std::move(Cand);
  }
  InProgress.erase(MK);
  if (--OnStack[Fn] == 0) OnStack.erase(Fn);
  auto& Slot = Precise[MK];
  Slot = std::move(Result);
  return Slot.Blocks ? &Slot : nullptr;
}

std::optional<BlockingAnalysis::Path> BlockingAnalysis::mayBlock(const FunctionDecl* Start,
                                                                 const Bindings& StartB,
                                                                 unsigned StartGuard) {
  if (!preciseBlocks(Start, StartB, StartGuard, 0)) return std::nullopt;
  Path P;
  const FunctionDecl* Fn = Start;
  Bindings B = StartB;
  unsigned Guard = StartGuard;
  for (unsigned Steps = 0; Steps < 1024; ++Steps) {
    uint64_t Mask = maskFor(Fn);
    for (size_t I = 0; I < B.size(); ++I)
      if (I >= 64 || !(Mask & (uint64_t(1) << I))) B[I].reset();
    auto It = Precise.find({Fn, keyOf(B, Guard)});
    if (It == Precise.end() || !It->second.Blocks) return std::nullopt;
    const PreciseEntry& M = It->second;
    const FunctionInfo& I = Infos[Fn];
    if (M.HitIndex >= 0) {
      P.Last = Fn;
      P.Hit = I.Hits[M.HitIndex];
      return P;
    }
    const Edge& E = I.Edges[M.EdgeIndex];
    P.Hops.push_back({Fn, E});
    if (E.Logging && !P.LoggingEntry) P.LoggingEntry = E.Callee;
    Fn = E.Callee;
    B = M.Next;
    Guard = M.NextGuard;
  }
  return std::nullopt;
}

BlockingCallCheck::BlockingCallCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      Strict(Options.get("Strict", false)),
      Transitive(Options.get("Transitive", true)),
      Logging(Options.get("Logging", false)) {
  std::string Err;
  RulesPtr = getRules(*Context, &Err);
  if (!Err.empty()) configurationDiag("%0") << Err;
  Analysis = std::make_unique<BlockingAnalysis>(*RulesPtr, Strict, Logging);
}

BlockingCallCheck::~BlockingCallCheck() = default;

void BlockingCallCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "Strict", Strict);
  Options.store(Opts, "Transitive", Transitive);
  Options.store(Opts, "Logging", Logging);
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

  std::string Coro = functionDisplayName(Fn);

  // The coroutine itself is scanned under a distinct key (its body is not a helper's body).
  const FunctionInfo& Info = A.scan(Fn, Body->getBody());
  for (const DirectHit& H : Info.Hits) {
    if (!A.Reported.insert({H.Loc.getRawEncoding(), H.Rule}).second) continue;
    diag(H.Loc, "blocking %0 '%1' in coroutine '%2'; %3")
        << H.Rule->Category << H.Name << Coro << A.fixFor(*H.Rule);
  }
  if (!Transitive) return;
  unsigned Guard = A.guardBelow(Body->getBody(), 0);
  for (const Edge& E : Info.Edges) {
    if (E.Logging && !Logging) continue;
    std::optional<BlockingAnalysis::Path> P =
        A.mayBlock(E.Callee, A.bindingsFor(E, Fn, {}), Guard);
    if (!P) continue;
    if (!A.Reported.insert({E.Loc.getRawEncoding(), P->Hit.Rule}).second) continue;
    const FunctionDecl* Entry = E.Logging ? E.Callee : P->LoggingEntry;
    if (Entry == E.Callee)
      diag(E.Loc, "blocking %0 '%1' reached through logging call '%2' in coroutine '%3'; %4")
          << P->Hit.Rule->Category << P->Hit.Name << functionDisplayName(E.Callee) << Coro
          << kLoggingFix;
    else if (Entry)
      diag(E.Loc,
           "blocking %0 '%1' reached through call to '%2' (logging call '%3') in coroutine "
           "'%4'; %5")
          << P->Hit.Rule->Category << P->Hit.Name << functionDisplayName(E.Callee)
          << functionDisplayName(Entry) << Coro << kLoggingFix;
    else
      diag(E.Loc, "blocking %0 '%1' reached through call to '%2' in coroutine '%3'; %4")
          << P->Hit.Rule->Category << P->Hit.Name << functionDisplayName(E.Callee) << Coro
          << A.fixFor(*P->Hit.Rule);
    for (const auto& [Caller, Hop] : P->Hops)
      diag(Hop.Loc, "'%0' calls '%1' here", DiagnosticIDs::Note)
          << functionDisplayName(Caller) << functionDisplayName(Hop.Callee);
    diag(P->Hit.Loc, "'%0' calls blocking %1 '%2' here", DiagnosticIDs::Note)
        << functionDisplayName(P->Last) << P->Hit.Rule->Category << P->Hit.Name;
  }
}

void BlockingCallCheck::onEndOfTranslationUnit() {
  Analysis->reset(nullptr);
}

}  // namespace rill::lint
