// AST estimate of a coroutine's frame size, calibrated against clang-19's CoroSplit at -O0.
//
// What clang-19 puts in a coroutine frame at -O0 (measured with the CoroSplit remark
// "Split 'f' (frame_size=N, align=A)" and the IR frame types, see tests/lint/frames/):
//  - a header of two function pointers (resume, destroy) and the promise, at fixed offsets;
//  - the suspend index (1 byte);
//  - every local variable whose lifetime a suspension point can interrupt: clang emits lifetime
//    markers in coroutines even at -O0, and CoroFrame keeps an alloca in the frame when a path
//    goes from its lifetime start through a suspension to a use (scope end included). So a buffer
//    whose scope contains a co_await is in the frame even if only used before it; one in a block
//    that closes before the next co_await, or declared after the last one, is not; a local of a
//    loop body whose next iteration suspends is. At -O0 frame slots are not shared between scopes;
//  - the copies of by-value parameters, a spilled pointer per reference parameter, and `this`
//    when the body uses it;
//  - each suspension point's awaiter temporary (including the initial and final suspends),
//    materialized temporaries of suspending full-expressions and of every statement in a loop
//    whose body suspends (their address escapes and must be the same in every iteration),
//    by-value class arguments (e.g. co_return's operand), the slot carrying a suspending
//    expression's value past its cleanups in such a loop, and the exception slots when the final
//    awaiter transfers symmetrically;
//  - padding: LLVM lays the non-header fields out with performOptimizedStructLayout (decreasing
//    alignment, each offset taking the first field that fits without padding); the size is
//    rounded up to the frame alignment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>
#include <clang/Basic/SourceLocation.h>

namespace rill::lint {

/// One field of the estimated frame.
struct FrameField {
  enum class Kind { Header, Promise, Index, Parameter, This, Local, Awaiter, Temporary };
  Kind FieldKind;
  /// For diagnostics: the variable name, or a description ("awaiter of type 'X'").
  std::string Name;
  /// Where the contributor is declared/written (invalid for the header and index).
  clang::SourceLocation Loc;
  /// Size and alignment in bytes.
  uint64_t Size = 0;
  uint64_t Align = 1;
};

/// The estimate for one coroutine.
struct FrameEstimate {
  /// Estimated frame size in bytes, including padding.
  uint64_t Size = 0;
  /// Frame alignment in bytes.
  uint64_t Align = 1;
  /// Every field, in discovery order (header first).
  std::vector<FrameField> Fields;
};

/// Estimates the -O0 frame of coroutine \p FD (a definition whose body is a CoroutineBodyStmt, not
/// a dependent template). Returns std::nullopt when \p FD is not such a coroutine or a type size
/// is unknown. Pure function of the AST; thread-compatible.
std::optional<FrameEstimate> estimateCoroutineFrame(const clang::FunctionDecl* FD,
                                                    clang::ASTContext& Ctx);

/// Lays \p Fields out like LLVM's frame builder: the leading Header/Promise fields in order at
/// their natural alignment, then the rest like performOptimizedStructLayout; returns the size
/// rounded up to the largest alignment (stored in \p AlignOut when non-null).
uint64_t layoutFrameFields(const std::vector<FrameField>& Fields, uint64_t* AlignOut);

}  // namespace rill::lint
