// rill's option registry: the options clang-tidy cannot discover from the checks themselves
// (listed in RillOptions.def) and the helpers that make them known to clang-tidy's
// --verify-config and to rill-lint's unknown-option warnings.
#pragma once

#include <clang-tidy/ClangTidyModule.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/StringSet.h>

#include <string>

namespace rill::lint {

/// One option of RillOptions.def.
struct RillOptionInfo {
  const char* Name;
  const char* Description;
};

/// The options listed in RillOptions.def, in file order. Static storage; thread-safe.
llvm::ArrayRef<RillOptionInfo> registeredOptions();

/// True for option keys that belong to rill: "rill.*" and "rill-<check>.*".
bool isRillOptionKey(llvm::StringRef Key);

/// Wraps the factories of the rill-* checks already registered in \p Factories so that, when
/// clang-tidy collects the known options (getAllChecksAndOptions, used by --verify-config), the
/// options of RillOptions.def are reported too. Call at the end of the module's
/// addCheckFactories. Changes nothing else: with no options collector set the wrapped factory
/// just constructs the check.
void declareRegisteredOptions(clang::tidy::ClangTidyCheckFactories& Factories);

/// The known option closest to \p Key by edit distance (for "did you mean"), or empty when none
/// is close enough.
std::string closestOption(llvm::StringRef Key, const llvm::StringSet<>& Known);

}  // namespace rill::lint
