#include "BodyParents.h"

#include <clang/AST/RecursiveASTVisitor.h>
#include <llvm/ADT/SmallVector.h>

namespace rill::lint {

using namespace clang;

class BodyParentsBuilder : public RecursiveASTVisitor<BodyParentsBuilder> {
 public:
  explicit BodyParentsBuilder(llvm::DenseMap<const void*, DynTypedNode>& Parent) : Parent(Parent) {}
  void build(Stmt* Body, const Decl* Owner) {
    Stack.push_back(Owner ? DynTypedNode::create(*Owner) : DynTypedNode());
    TraverseStmt(Body);
  }

  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitImplicitCode() const { return true; }
  bool TraverseDecl(Decl* D) {
    if (!D) return true;
    Parent.try_emplace(D, Stack.back());
    Stack.push_back(DynTypedNode::create(*D));
    bool R = RecursiveASTVisitor::TraverseDecl(D);
    Stack.pop_back();
    return R;
  }
  bool TraverseTypeLoc(TypeLoc TL) {
    return TL.isNull() || traverseUnder([&] { return RecursiveASTVisitor::TraverseTypeLoc(TL); });
  }
  bool TraverseNestedNameSpecifierLoc(NestedNameSpecifierLoc L) {
    return !L ||
           traverseUnder([&] { return RecursiveASTVisitor::TraverseNestedNameSpecifierLoc(L); });
  }
  bool TraverseAttr(Attr* A) {
    return !A || traverseUnder([&] { return RecursiveASTVisitor::TraverseAttr(A); });
  }
  // Statements are traversed with data recursion; record them here (as clang's ParentMap).
  bool dataTraverseStmtPre(Stmt* S) {
    Parent.try_emplace(S, Stack.back());
    Stack.push_back(DynTypedNode::create(*S));
    return true;
  }
  bool dataTraverseStmtPost(Stmt*) {
    Stack.pop_back();
    return true;
  }

 private:
  /// A node that is neither a statement nor a declaration: nodes right below it get no parent.
  template <typename Fn>
  bool traverseUnder(Fn Base) {
    Stack.push_back(DynTypedNode());
    bool R = Base();
    Stack.pop_back();
    return R;
  }

  llvm::DenseMap<const void*, DynTypedNode>& Parent;
  llvm::SmallVector<DynTypedNode, 32> Stack;
};

BodyParents::BodyParents(Stmt* Body, const Decl* Owner) {
  if (Body) BodyParentsBuilder(Parent).build(Body, Owner);
}

const DynTypedNode* BodyParents::find(const DynTypedNode& N) const {
  const void* Key = N.get<Stmt>() ? static_cast<const void*>(N.get<Stmt>())
                                  : static_cast<const void*>(N.get<Decl>());
  if (!Key) return nullptr;
  auto It = Parent.find(Key);
  return It == Parent.end() ? nullptr : &It->second;
}

}  // namespace rill::lint
