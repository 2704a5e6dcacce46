// rill-clangd leaves out clangd's remote-index client (Debian's libclangdRemoteIndex.a needs
// gRPC). This is upstream's no-gRPC variant (clangd/index/remote/unimplemented/
// UnimplementedClient.cpp): --remote-index-address yields no index.
#include <llvm/ADT/StringRef.h>

#include <memory>

namespace clang::clangd {
class SymbolIndex;
namespace remote {
std::unique_ptr<clangd::SymbolIndex> getClient(llvm::StringRef Address, llvm::StringRef IndexRoot) {
  return nullptr;
}
}  // namespace remote
}  // namespace clang::clangd
