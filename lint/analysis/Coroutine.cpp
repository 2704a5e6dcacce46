#include "Coroutine.h"

#include <clang/AST/DeclTemplate.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/PrettyPrinter.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/Basic/SourceManager.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

namespace rill::lint {

using namespace clang;

const CoroutineBodyStmt* getCoroutineBody(const FunctionDecl* FD) {
  if (!FD || FD->isDependentContext()) return nullptr;
  const FunctionDecl* Def = nullptr;
  if (!FD->hasBody(Def) || Def != FD) return nullptr;
  return dyn_cast_or_null<CoroutineBodyStmt>(FD->getBody());
}

bool isLambdaCallOperator(const FunctionDecl* FD) {
  const auto* MD = dyn_cast_or_null<CXXMethodDecl>(FD);
  return MD && MD->getParent()->isLambda() && MD->getOverloadedOperator() == OO_Call;
}

std::string coroutineDisplayName(const FunctionDecl* FD) {
  if (isLambdaCallOperator(FD)) {
    // Lambdas are named by where they are written: "lambda at server.cpp:42".
    const SourceManager& SM = FD->getASTContext().getSourceManager();
    PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(
        cast<CXXMethodDecl>(FD)->getParent()->getLocation()));
    if (P.isInvalid()) return "lambda";
    return "lambda at " + llvm::sys::path::filename(P.getFilename()).str() + ":" +
           std::to_string(P.getLine());
  }
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  PrintingPolicy Policy(FD->getASTContext().getLangOpts());
  Policy.SuppressUnwrittenScope = true;
  FD->printQualifiedName(OS, Policy);
  return Out;
}

std::string functionDisplayName(const FunctionDecl* FD) {
  if (isLambdaCallOperator(FD)) return coroutineDisplayName(FD);
  return FD->getQualifiedNameAsString();
}

bool isSuspensionPoint(const Stmt* S) {
  if (!S) return false;
  if (const auto* A = dyn_cast<CoawaitExpr>(S)) return !A->isImplicit();
  return isa<CoyieldExpr>(S) || isa<DependentCoawaitExpr>(S);
}

namespace {
class SuspendCollector : public RecursiveASTVisitor<SuspendCollector> {
 public:
  explicit SuspendCollector(llvm::SmallVectorImpl<const Expr*>& Out) : Out(Out) {}
  bool TraverseLambdaExpr(LambdaExpr*) { return true; }
  bool TraverseBlockExpr(BlockExpr*) { return true; }
  bool TraverseCXXRecordDecl(CXXRecordDecl*) { return true; }
  bool VisitExpr(Expr* E) {
    if (isSuspensionPoint(E)) Out.push_back(E);
    return true;
  }

 private:
  llvm::SmallVectorImpl<const Expr*>& Out;
};
}  // namespace

void collectSuspensionPoints(const Stmt* Body, llvm::SmallVectorImpl<const Expr*>& Out) {
  if (!Body) return;
  SuspendCollector C(Out);
  C.TraverseStmt(const_cast<Stmt*>(Body));
}

std::string qualifiedRecordName(const NamedDecl* D) {
  if (!D || !D->getDeclName()) return {};
  if (const auto* Spec = dyn_cast<ClassTemplateSpecializationDecl>(D))
    D = Spec->getSpecializedTemplate();
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  PrintingPolicy Policy(D->getASTContext().getLangOpts());
  Policy.SuppressUnwrittenScope = true;
  Policy.SuppressInlineNamespace = true;
  D->printQualifiedName(OS, Policy);
  return Out;
}

bool matchesQualifiedName(llvm::StringRef Name, llvm::ArrayRef<std::string> Patterns) {
  for (llvm::StringRef P : Patterns) {
    P.consume_front("::");
    if (P == Name) return true;
  }
  return false;
}

const CXXRecordDecl* getRecord(QualType T) {
  if (T.isNull()) return nullptr;
  T = T.getNonReferenceType().getCanonicalType();
  return T->getAsCXXRecordDecl();
}

}  // namespace rill::lint
