#include "LargeFrameCheck.h"

#include <algorithm>

#include <clang/AST/ASTContext.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <llvm/Support/raw_ostream.h>

#include "analysis/Coroutine.h"
#include "analysis/FrameLayout.h"

namespace rill::lint {

using namespace clang;
using namespace clang::ast_matchers;

LargeFrameCheck::LargeFrameCheck(llvm::StringRef Name, clang::tidy::ClangTidyContext* Context)
    : ClangTidyCheck(Name, Context),
      FrameSizeThreshold(Options.get("FrameSizeThreshold", uint64_t{16384})),
      MaxContributors(Options.get("MaxContributors", 3U)),
      TidyContext(Context) {}

bool LargeFrameCheck::isLanguageVersionSupported(const LangOptions& LangOpts) const {
  return LangOpts.CPlusPlus20;
}

void LargeFrameCheck::storeOptions(clang::tidy::ClangTidyOptions::OptionMap& Opts) {
  Options.store(Opts, "FrameSizeThreshold", FrameSizeThreshold);
  Options.store(Opts, "MaxContributors", MaxContributors);
}

void LargeFrameCheck::registerMatchers(MatchFinder* Finder) {
  Finder->addMatcher(functionDecl(isDefinition(), hasBody(coroutineBodyStmt())).bind("fn"), this);
}

namespace {
/// "f", "S::g", "lambda", "templated<30000>" (instantiations carry their arguments since their
/// frames differ).
std::string frameOwnerName(const FunctionDecl* FD) {
  if (isLambdaCallOperator(FD)) return "lambda";
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  PrintingPolicy P(FD->getASTContext().getLangOpts());
  P.SuppressUnwrittenScope = true;
  P.SuppressTagKeyword = true;
  FD->getNameForDiagnostic(OS, P, /*Qualified=*/true);
  return Out;
}
}  // namespace

bool LargeFrameCheck::mayReportAt(SourceLocation Loc, const SourceManager& SM) const {
  // Mirrors ClangTidyDiagnosticConsumer's filters (its line filter only removes more).
  if (Loc.isInvalid()) return true;
  Loc = SM.getExpansionLoc(Loc);
  const tidy::ClangTidyOptions& Opts = TidyContext->getOptions();
  if (!Opts.SystemHeaders.value_or(true) && SM.isInSystemHeader(Loc)) return false;
  if (SM.isInMainFile(Loc)) return true;
  OptionalFileEntryRef File = SM.getFileEntryRefForID(SM.getFileID(Loc));
  if (!File || !Opts.HeaderFilterRegex) return true;
  // Compiled once per pattern (the options are per translation unit).
  auto Compiled = [](std::optional<std::pair<std::string, llvm::Regex>>& Cache,
                     const std::string& Pattern) -> const llvm::Regex& {
    if (!Cache || Cache->first != Pattern) Cache.emplace(Pattern, llvm::Regex(Pattern));
    return Cache->second;
  };
  StringRef Name = File->getName();
  if (!Compiled(HeaderFilter, *Opts.HeaderFilterRegex).match(Name)) return false;
  return !Opts.ExcludeHeaderFilterRegex ||
         !Compiled(ExcludeHeaderFilter, *Opts.ExcludeHeaderFilterRegex).match(Name);
}

void LargeFrameCheck::check(const MatchFinder::MatchResult& Result) {
  const auto* FD = Result.Nodes.getNodeAs<FunctionDecl>("fn");
  const SourceManager& SM = *Result.SourceManager;
  // The warning is at the coroutine, its notes at the contributors: in its body, or the promise
  // type's declaration. Skip coroutines none of whose diagnostics could be shown.
  if (!mayReportAt(FD->getLocation(), SM) && !mayReportAt(FD->getBodyRBrace(), SM)) {
    const auto* CBS = getCoroutineBody(FD);
    const VarDecl* Promise = CBS ? CBS->getPromiseDecl() : nullptr;
    const auto* RD = Promise ? Promise->getType()->getAsCXXRecordDecl() : nullptr;
    if (!RD || !mayReportAt(RD->getLocation(), SM)) return;
  }
  std::optional<FrameEstimate> Est = estimateCoroutineFrame(FD, *Result.Context);
  if (!Est || Est->Size <= FrameSizeThreshold) return;

  SourceLocation Loc = SM.getExpansionLoc(FD->getLocation());
  std::string Name = frameOwnerName(FD);

  // Biggest contributors (the header and index are never interesting).
  std::vector<const FrameField*> Top;
  for (const FrameField& F : Est->Fields)
    if (F.FieldKind != FrameField::Kind::Header && F.FieldKind != FrameField::Kind::Index &&
        F.Loc.isValid() && (F.Size >= 1024 || F.Size * 16 >= Est->Size))
      Top.push_back(&F);
  std::sort(Top.begin(), Top.end(), [](const FrameField* L, const FrameField* R) {
    return L->Size != R->Size ? L->Size > R->Size : L < R;  // ties: discovery order
  });
  if (Top.size() > MaxContributors) Top.resize(MaxContributors);

  std::string Largest;
  if (!Top.empty())
    Largest =
        " (largest: " + Top.front()->Name + ", " + std::to_string(Top.front()->Size) + " bytes)";
  std::string Key =
      std::to_string(Loc.getRawEncoding()) + ":" + Name + ":" + std::to_string(Est->Size);
  if (!Reported.insert(Key).second) return;

  diag(Loc,
       "coroutine '%0' has an estimated frame size of %1 bytes, above the threshold of %2 "
       "bytes%3; every call heap-allocates this frame: move large buffers to the heap (e.g. "
       "std::vector, std::unique_ptr) or into a callee that is not a coroutine")
      << Name << static_cast<unsigned>(Est->Size) << static_cast<unsigned>(FrameSizeThreshold)
      << Largest;
  for (const FrameField* F : Top)
    diag(SM.getExpansionLoc(F->Loc), "%0 contributes %1 bytes to the frame of '%2'",
         DiagnosticIDs::Note)
        << F->Name << static_cast<unsigned>(F->Size) << Name;
}

}  // namespace rill::lint
