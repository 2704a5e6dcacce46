// rill's option registry (see RillOptions.h / RillOptions.def).
#include "RillOptions.h"

#include <clang-tidy/ClangTidyCheck.h>
#include <clang-tidy/ClangTidyDiagnosticConsumer.h>

#include <utility>
#include <vector>

namespace rill::lint {

llvm::ArrayRef<RillOptionInfo> registeredOptions() {
  static const RillOptionInfo kOptions[] = {
#define RILL_OPTION(Name, Description) {Name, Description},
#include "RillOptions.def"
  };
  return kOptions;
}

bool isRillOptionKey(llvm::StringRef Key) {
  return Key.starts_with("rill.") || Key.starts_with("rill-");
}

void declareRegisteredOptions(clang::tidy::ClangTidyCheckFactories& Factories) {
  using Factory = clang::tidy::ClangTidyCheckFactories::CheckFactory;
  std::vector<std::pair<std::string, Factory>> Rill;
  for (const auto& Entry : Factories)
    if (Entry.getKey().starts_with("rill-"))
      Rill.emplace_back(Entry.getKey().str(), Entry.getValue());
  for (auto& [Name, Inner] : Rill)
    Factories.registerCheckFactory(
        Name, [Inner = std::move(Inner)](llvm::StringRef CheckName,
                                         clang::tidy::ClangTidyContext* Context) {
          if (llvm::StringSet<>* Collector = Context->getOptionsCollector())
            for (const RillOptionInfo& O : registeredOptions())
              Collector->insert(O.Name);
          return Inner(CheckName, Context);
        });
}

std::string closestOption(llvm::StringRef Key, const llvm::StringSet<>& Known) {
  // First an option of the same check (same text before the last '.'): the one whose local name
  // is closest, e.g. "rill-large-frame.Threshold" -> "rill-large-frame.FrameSizeThreshold".
  auto [Prefix, Local] = Key.rsplit('.');
  std::string Out;
  unsigned Best = ~0U;
  if (!Local.empty()) {
    for (const auto& K : Known) {
      auto [KPrefix, KLocal] = K.getKey().rsplit('.');
      if (KLocal.empty() || !KPrefix.equals_insensitive(Prefix)) continue;
      unsigned D = Local.lower() == KLocal.lower()
                       ? 0
                       : llvm::StringRef(Local.lower()).edit_distance(KLocal.lower());
      if (D < Best) {
        Best = D;
        Out = K.getKey().str();
      }
    }
    if (!Out.empty()) return Out;
  }
  // Else, like clang-tidy's --verify-config: the smallest edit distance, at most a third of the
  // key's length.
  Best = static_cast<unsigned>(Key.size() / 3) + 1;
  for (const auto& K : Known) {
    unsigned D = Key.edit_distance(K.getKey(), /*AllowReplacements=*/true, Best);
    if (D < Best) {
      Best = D;
      Out = K.getKey().str();
    }
  }
  return Out;
}

}  // namespace rill::lint
