// Shared helpers for checks that reason about C++20 coroutines (rill-lock-across-await,
// rill-large-frame; reusable by rill-blocking-call / rill-unbounded-fanout).
#pragma once

#include <string>

#include <clang/AST/Decl.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringRef.h>

namespace rill::lint {

/// Returns the coroutine body of `FD` when `FD` is a coroutine definition (free function,
/// member function, coroutine lambda's call operator, or a template instantiation), else null.
/// Returns null for dependent (uninstantiated) templates: callers analyse instantiations, which
/// carry full type information. Pure query; thread-compatible (reads the immutable AST).
const clang::CoroutineBodyStmt* getCoroutineBody(const clang::FunctionDecl* FD);

/// True when `FD` is the call operator of a lambda.
bool isLambdaCallOperator(const clang::FunctionDecl* FD);

/// Name of the coroutine for diagnostics: "f", "Server::run", or "lambda at FILE:LINE" (file
/// name without directories) for a coroutine lambda. Template arguments are not printed, so instantiations share one name.
std::string coroutineDisplayName(const clang::FunctionDecl* FD);

/// Name of any function for diagnostics: "lambda at FILE:LINE" for a lambda's call operator (as
/// coroutineDisplayName), otherwise the qualified name. Pure query; thread-compatible.
std::string functionDisplayName(const clang::FunctionDecl* FD);

/// True when `S` is a user-written suspension point: a `co_await` (CoawaitExpr or
/// DependentCoawaitExpr) or `co_yield` (CoyieldExpr) that is not one of the implicit
/// initial/final suspends clang synthesizes.
bool isSuspensionPoint(const clang::Stmt* S);

/// Appends the user-written suspension points inside `Body` in source order. Does not descend
/// into nested lambdas, blocks or local classes (their suspensions belong to other coroutines).
void collectSuspensionPoints(const clang::Stmt* Body,
                             llvm::SmallVectorImpl<const clang::Expr*>& Out);

/// Fully qualified name of a record without template arguments, inline namespaces or a leading
/// "::", e.g. "std::unique_lock" for `std::unique_lock<std::mutex>`. Empty for anonymous records.
std::string qualifiedRecordName(const clang::NamedDecl* D);

/// True when `Name` (as produced by qualifiedRecordName) equals one of `Patterns`; patterns may
/// be written with a leading "::" (rules files use both spellings).
bool matchesQualifiedName(llvm::StringRef Name, llvm::ArrayRef<std::string> Patterns);

/// The record type behind `T` (through references, typedefs and elaborated types), or null.
const clang::CXXRecordDecl* getRecord(clang::QualType T);

}  // namespace rill::lint
