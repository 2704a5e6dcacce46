// rill-clangd: clangd 19 with the rill clang-tidy module linked in, so every editor that speaks
// clangd shows rill's findings while typing (clangd cannot load clang-tidy plugins). It is
// upstream clangd (clangdMain from Debian's libclangdMain.a) with two differences:
//   - rill's checks pass clangd's FastCheckFilter by default (clangd 19 runs only checks it
//     knows to be fast unless `Diagnostics: ClangTidy: FastCheckFilter: None`): rill's checks
//     are written to run per TU in editor time (see docs/lint/editors.md for measurements);
//   - the resource dir (builtin headers) resolves to clang 19's wherever rill-clangd is
//     installed, unless --resource-dir is given.
// Enable the checks in the project's .clangd:  Diagnostics: { ClangTidy: { Add: rill-* } }
#include <llvm/ADT/StringRef.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include <optional>
#include <string>
#include <vector>

namespace clang::clangd {
int clangdMain(int argc, char* argv[]);  // libclangdMain.a (ClangdMain.h is not installed)
}  // namespace clang::clangd

// Forces the rill module's object file into the link (see RillTidyModule.cpp).
extern volatile int RillModuleAnchorSource;
static int LLVM_ATTRIBUTE_UNUSED RillModuleAnchorDestination = RillModuleAnchorSource;

// clangd's "is this check fast" table (generated upstream) knows nothing of rill's checks, so
// Strict filtering (clangd 19's default) would drop them. The link wraps the function
// (-Wl,--wrap, see lint/CMakeLists.txt): rill-* checks are fast, the rest is clangd's answer.
std::optional<bool> realIsFastTidyCheck(llvm::StringRef Check) asm(
    "__real__ZN5clang6clangd15isFastTidyCheckEN4llvm9StringRefE");
std::optional<bool> wrapIsFastTidyCheck(llvm::StringRef Check) asm(
    "__wrap__ZN5clang6clangd15isFastTidyCheckEN4llvm9StringRefE");
std::optional<bool> wrapIsFastTidyCheck(llvm::StringRef Check) {
  if (Check.starts_with("rill-")) return true;
  return realIsFastTidyCheck(Check);
}

namespace {
/// clang 19's resource dir: next to the executable when it is a clang install layout
/// (<prefix>/bin/rill-clangd -> <prefix>/lib/clang/19), else the one of the clang 19 rill-clangd
/// was built with.
std::string resourceDir(const char* Argv0) {
  std::string Exe = llvm::sys::fs::getMainExecutable(Argv0, reinterpret_cast<void*>(&resourceDir));
  llvm::SmallString<256> Local(llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
  llvm::sys::path::append(Local, "lib", "clang", std::to_string(LLVM_VERSION_MAJOR));
  llvm::sys::path::append(Local, "include", "stddef.h");
  if (llvm::sys::fs::exists(Local))
    return std::string(llvm::sys::path::parent_path(llvm::sys::path::parent_path(Local)));
  return RILL_CLANG_RESOURCE_DIR;
}
}  // namespace

int main(int argc, char* argv[]) {
  std::vector<char*> Args(argv, argv + argc);
  bool HasResourceDir = false;
  for (int I = 1; I < argc; ++I) {
    llvm::StringRef A = argv[I];
    HasResourceDir |= A.starts_with("--resource-dir") || A.starts_with("-resource-dir");
  }
  std::string ResourceFlag = "--resource-dir=" + resourceDir(argv[0]);
  if (!HasResourceDir) Args.insert(Args.begin() + 1, ResourceFlag.data());
  return clang::clangd::clangdMain(static_cast<int>(Args.size()), Args.data());
}
