// The parents of the statements and declarations of one function body, without ASTContext's
// whole-translation-unit parent map.
#pragma once

#include <clang/AST/ASTTypeTraits.h>
#include <clang/AST/Decl.h>
#include <clang/AST/Stmt.h>
#include <llvm/ADT/DenseMap.h>

namespace rill::lint {

/// The first parent of every statement and declaration in one body, as
/// ASTContext::getParents() (TK_AsIs) returns it first, built by the traversal clang's ParentMap
/// uses (implicit code and template instantiations included), but over that body only: the
/// first getParents() call would traverse the whole translation unit (seconds on a TU that
/// includes large headers). Nodes below a type, a nested-name-specifier or an attribute have no
/// parent here. Built once, then read-only; not thread-safe to build, safe to read concurrently.
class BodyParents {
 public:
  /// Maps \p Body; \p Owner (the function or lambda operator owning it, may be null) is the
  /// body's own parent.
  BodyParents(clang::Stmt* Body, const clang::Decl* Owner);
  /// Whether \p S is in the body.
  bool contains(const clang::Stmt* S) const { return Parent.count(S) != 0; }
  /// The first parent of \p N (a statement or a declaration of the body), which is an empty node
  /// when it is neither a statement nor a declaration; null when \p N is not in the body.
  const clang::DynTypedNode* find(const clang::DynTypedNode& N) const;
  /// The first parent of \p S when it is a statement of the body, else null.
  const clang::Stmt* parentStmt(const clang::Stmt* S) const {
    auto It = Parent.find(S);
    return It == Parent.end() ? nullptr : It->second.get<clang::Stmt>();
  }

 private:
  llvm::DenseMap<const void*, clang::DynTypedNode> Parent;
};

}  // namespace rill::lint
