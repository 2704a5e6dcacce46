// rill-lint's result cache (see Cache.h).
#include "tool/Cache.h"

#include <clang/Tooling/Core/Replacement.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

namespace rill::lint::tool {
namespace json = llvm::json;
using clang::tidy::ClangTidyError;
using clang::tooling::DiagnosticMessage;

std::string hashFile(llvm::StringRef Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!Buf) return "";
  return llvm::formatv("{0:x16}", llvm::xxh3_64bits((*Buf)->getBuffer())).str();
}

ResultCache::ResultCache(std::string Dir, std::string ToolIdentity)
    : Dir(std::move(Dir)), ToolIdentity(std::move(ToolIdentity)) {
  llvm::sys::fs::create_directories(this->Dir);
}

std::string ResultCache::key(llvm::StringRef File, llvm::ArrayRef<std::string> KeyParts) const {
  std::string All = ToolIdentity + '\0' + File.str();
  for (const std::string& P : KeyParts) {
    All += '\0';
    All += P;
  }
  // Two independent 64-bit hashes: a 128-bit key.
  return llvm::formatv("{0:x16}{1:x16}", llvm::xxh3_64bits(All),
                       llvm::xxh3_64bits("rill-lint-cache/v1\n" + All))
      .str();
}

std::string ResultCache::entryPath(llvm::StringRef Key) const {
  llvm::SmallString<256> P(Dir);
  llvm::sys::path::append(P, Key.take_front(2), Key.drop_front(2) + ".json");
  return std::string(P);
}

namespace {
json::Object message(const DiagnosticMessage& M) {
  json::Array Fix;
  for (const auto& [File, Reps] : M.Fix)
    for (const clang::tooling::Replacement& R : Reps)
      Fix.push_back(json::Object{{"file", R.getFilePath()},
                                 {"offset", R.getOffset()},
                                 {"length", R.getLength()},
                                 {"text", R.getReplacementText()},
                                 {"key", File}});
  json::Array Ranges;
  for (const auto& R : M.Ranges)
    Ranges.push_back(
        json::Object{{"file", R.FilePath}, {"offset", R.FileOffset}, {"length", R.Length}});
  return json::Object{{"message", M.Message},
                      {"file", M.FilePath},
                      {"offset", M.FileOffset},
                      {"fix", std::move(Fix)},
                      {"ranges", std::move(Ranges)}};
}

bool readMessage(const json::Object* O, DiagnosticMessage& M) {
  if (!O) return false;
  M.Message = O->getString("message").value_or("").str();
  M.FilePath = O->getString("file").value_or("").str();
  M.FileOffset = static_cast<unsigned>(O->getInteger("offset").value_or(0));
  if (const json::Array* Fix = O->getArray("fix"))
    for (const json::Value& V : *Fix) {
      const json::Object* R = V.getAsObject();
      if (!R) return false;
      clang::tooling::Replacement Rep(R->getString("file").value_or(""),
                                      static_cast<unsigned>(R->getInteger("offset").value_or(0)),
                                      static_cast<unsigned>(R->getInteger("length").value_or(0)),
                                      R->getString("text").value_or(""));
      if (llvm::Error E = M.Fix[R->getString("key").value_or("")].add(Rep)) {
        llvm::consumeError(std::move(E));
        return false;
      }
    }
  if (const json::Array* Ranges = O->getArray("ranges"))
    for (const json::Value& V : *Ranges) {
      const json::Object* R = V.getAsObject();
      if (!R) return false;
      clang::tooling::FileByteRange BR;
      BR.FilePath = R->getString("file").value_or("").str();
      BR.FileOffset = static_cast<unsigned>(R->getInteger("offset").value_or(0));
      BR.Length = static_cast<unsigned>(R->getInteger("length").value_or(0));
      M.Ranges.push_back(std::move(BR));
    }
  return true;
}
}  // namespace

std::string ResultCache::serialize(const CachedResult& R) {
  json::Array Errors;
  for (const ClangTidyError& E : R.Errors) {
    json::Array Notes;
    for (const DiagnosticMessage& N : E.Notes)
      Notes.push_back(message(N));
    json::Array Aliases;
    for (const std::string& A : E.EnabledDiagnosticAliases)
      Aliases.push_back(A);
    Errors.push_back(json::Object{{"name", E.DiagnosticName},
                                  {"level", static_cast<int>(E.DiagLevel)},
                                  {"buildDir", E.BuildDirectory},
                                  {"werror", E.IsWarningAsError},
                                  {"aliases", std::move(Aliases)},
                                  {"message", message(E.Message)},
                                  {"notes", std::move(Notes)}});
  }
  const clang::tidy::ClangTidyStats& S = R.Stats;
  json::Object Stats{{"displayed", S.ErrorsDisplayed},
                     {"checkFilter", S.ErrorsIgnoredCheckFilter},
                     {"nolint", S.ErrorsIgnoredNOLINT},
                     {"nonUser", S.ErrorsIgnoredNonUserCode},
                     {"lineFilter", S.ErrorsIgnoredLineFilter}};
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  OS << json::Value(json::Object{{"errors", std::move(Errors)}, {"stats", std::move(Stats)}});
  return Out;
}

std::optional<CachedResult> ResultCache::deserialize(llvm::StringRef Text) {
  llvm::Expected<json::Value> V = json::parse(Text);
  if (!V) {
    llvm::consumeError(V.takeError());
    return std::nullopt;
  }
  const json::Object* Root = V->getAsObject();
  const json::Array* Errors = Root ? Root->getArray("errors") : nullptr;
  if (!Errors) return std::nullopt;
  CachedResult R;
  for (const json::Value& EV : *Errors) {
    const json::Object* E = EV.getAsObject();
    if (!E) return std::nullopt;
    ClangTidyError Err(E->getString("name").value_or(""),
                       static_cast<ClangTidyError::Level>(E->getInteger("level").value_or(0)),
                       E->getString("buildDir").value_or(""),
                       E->getBoolean("werror").value_or(false));
    if (!readMessage(E->getObject("message"), Err.Message)) return std::nullopt;
    if (const json::Array* Notes = E->getArray("notes"))
      for (const json::Value& N : *Notes) {
        DiagnosticMessage M;
        if (!readMessage(N.getAsObject(), M)) return std::nullopt;
        Err.Notes.push_back(std::move(M));
      }
    if (const json::Array* Aliases = E->getArray("aliases"))
      for (const json::Value& A : *Aliases)
        if (auto S = A.getAsString()) Err.EnabledDiagnosticAliases.push_back(S->str());
    R.Errors.push_back(std::move(Err));
  }
  if (const json::Object* S = Root->getObject("stats")) {
    auto Get = [&](llvm::StringRef K) {
      return static_cast<unsigned>(S->getInteger(K).value_or(0));
    };
    R.Stats.ErrorsDisplayed = Get("displayed");
    R.Stats.ErrorsIgnoredCheckFilter = Get("checkFilter");
    R.Stats.ErrorsIgnoredNOLINT = Get("nolint");
    R.Stats.ErrorsIgnoredNonUserCode = Get("nonUser");
    R.Stats.ErrorsIgnoredLineFilter = Get("lineFilter");
  }
  return R;
}

std::optional<CachedResult> ResultCache::lookup(llvm::StringRef Key) const {
  auto Buf = llvm::MemoryBuffer::getFile(entryPath(Key));
  if (!Buf) return std::nullopt;
  llvm::StringRef Text = (*Buf)->getBuffer();
  // Line 1: the dependency manifest; the rest: the result.
  auto [Manifest, Result] = Text.split('\n');
  llvm::Expected<json::Value> M = json::parse(Manifest);
  if (!M) {
    llvm::consumeError(M.takeError());
    return std::nullopt;
  }
  const json::Array* Deps = M->getAsArray();
  if (!Deps) return std::nullopt;
  for (const json::Value& D : *Deps) {
    const json::Array* Pair = D.getAsArray();
    if (!Pair || Pair->size() != 2) return std::nullopt;
    auto Path = (*Pair)[0].getAsString();
    auto Hash = (*Pair)[1].getAsString();
    if (!Path || !Hash || hashFile(*Path) != *Hash) return std::nullopt;
  }
  return deserialize(Result);
}

void ResultCache::store(llvm::StringRef Key, const CachedResult& R,
                        llvm::ArrayRef<std::string> Deps) const {
  json::Array Manifest;
  for (const std::string& D : Deps) {
    std::string H = hashFile(D);
    if (H.empty()) return;  // a file that cannot be read back cannot validate the entry
    Manifest.push_back(json::Array{D, H});
  }
  std::string Path = entryPath(Key);
  llvm::sys::fs::create_directories(llvm::sys::path::parent_path(Path));
  llvm::SmallString<256> Tmp;
  int FD;
  if (llvm::sys::fs::createUniqueFile(Path + ".tmp-%%%%%%", FD, Tmp)) return;
  {
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << json::Value(std::move(Manifest)) << "\n" << serialize(R);
    if (OS.has_error()) {
      OS.clear_error();
      llvm::sys::fs::remove(Tmp);
      return;
    }
  }
  if (llvm::sys::fs::rename(Tmp, Path)) llvm::sys::fs::remove(Tmp);
}

}  // namespace rill::lint::tool
