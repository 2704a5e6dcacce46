// The `rill` clang-tidy module: registers the rill-* checks. Linked into rill-lint and
// into the librill-tidy.so plugin (where clang-tidy-19's ClangTidyModuleRegistry picks it up
// when the library is loaded with --load). Like upstream modules (e.g. misc/MiscTidyModule.cpp).
#include <clang-tidy/ClangTidyModule.h>
#include <clang-tidy/ClangTidyModuleRegistry.h>

#include "RillOptions.h"
#include "checks/BlockingCallCheck.h"
#include "checks/DiscardedAwaitableCheck.h"
#include "checks/LargeFrameCheck.h"
#include "checks/LockAcrossAwaitCheck.h"
#include "checks/SpawnDanglingReferenceCheck.h"
#include "checks/UnboundedFanoutCheck.h"

namespace rill::lint {
namespace {

class RillTidyModule : public clang::tidy::ClangTidyModule {
 public:
  void addCheckFactories(clang::tidy::ClangTidyCheckFactories& Factories) override {
    Factories.registerCheck<BlockingCallCheck>("rill-blocking-call");
    Factories.registerCheck<LockAcrossAwaitCheck>("rill-lock-across-await");
    Factories.registerCheck<UnboundedFanoutCheck>("rill-unbounded-fanout");
    Factories.registerCheck<LargeFrameCheck>("rill-large-frame");
    Factories.registerCheck<DiscardedAwaitableCheck>("rill-discarded-awaitable");
    Factories.registerCheck<SpawnDanglingReferenceCheck>("rill-spawn-dangling-reference");
    // Last: makes RillOptions.def's options known to --verify-config.
    declareRegisteredOptions(Factories);
  }
};

}  // namespace

// Registers the module with clang-tidy's registry (static initializer).
static clang::tidy::ClangTidyModuleRegistry::Add<RillTidyModule> X("rill-module",
                                                                   "Adds rill coroutine checks.");

}  // namespace rill::lint

/// Anchor referenced by rill-lint's main to force this object file (and so the registration
/// above) to be linked, like clang-tidy's MiscModuleAnchorSource.
// NOLINTNEXTLINE(misc-use-internal-linkage)
volatile int RillModuleAnchorSource = 0;
