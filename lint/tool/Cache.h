// rill-lint's result cache (--cache-dir DIR), like ctcache for clang-tidy: a TU whose inputs are
// unchanged is not parsed again; its findings come from the cache.
//
// Key: rill-lint's version and binary, the TU's path and compile command, the effective
// configuration (checks, options, header filter, ...), the contents of the rules files and the
// driver flags that change results. Each entry records every file the TU read (system headers
// included) with a hash of its contents, and is valid only while all of them are unchanged: the
// preprocessed input is the same (ccache's "direct mode"; like ccache, a header newly created
// earlier on the include path is not noticed).
#pragma once

#include <clang-tidy/ClangTidy.h>
#include <clang-tidy/ClangTidyDiagnosticConsumer.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>
#include <vector>

namespace rill::lint::tool {

/// What one TU produced.
struct CachedResult {
  std::vector<clang::tidy::ClangTidyError> Errors;
  clang::tidy::ClangTidyStats Stats;
};

class ResultCache {
 public:
  /// \p Dir is created when missing. \p ToolIdentity covers the version and the binary.
  ResultCache(std::string Dir, std::string ToolIdentity);

  /// The key of a TU from everything but its included files' contents.
  std::string key(llvm::StringRef File, llvm::ArrayRef<std::string> KeyParts) const;

  /// The cached result for \p Key when every file it read is unchanged.
  std::optional<CachedResult> lookup(llvm::StringRef Key) const;

  /// Stores \p R for \p Key with the files the TU read (\p Deps, absolute). Write errors are
  /// ignored (a cache never fails a run); entries are written atomically (rename).
  void store(llvm::StringRef Key, const CachedResult& R, llvm::ArrayRef<std::string> Deps) const;

  /// Serialization (exposed for tests).
  static std::string serialize(const CachedResult& R);
  static std::optional<CachedResult> deserialize(llvm::StringRef Json);

 private:
  std::string entryPath(llvm::StringRef Key) const;
  std::string Dir;
  std::string ToolIdentity;
};

/// A hash of a file's contents ("" when unreadable).
std::string hashFile(llvm::StringRef Path);

}  // namespace rill::lint::tool
