// Renderers for rill-lint's findings (SARIF 2.1.0, Markdown, GitHub annotations).
#include "report/Findings.h"

#include <clang-tidy/ClangTidyDiagnosticConsumer.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/xxhash.h>

#include <map>

namespace rill::lint::report {
namespace {

/// Caches file contents for offset -> line/column resolution.
class FileCache {
 public:
  explicit FileCache(llvm::vfs::FileSystem& FS) : FS(FS) {}

  /// Returns the text of Path (empty when unreadable).
  llvm::StringRef text(const std::string& Path) {
    auto It = Files.find(Path);
    if (It != Files.end()) return It->second;
    std::string Content;
    if (auto Buf = FS.getBufferForFile(Path)) Content = (*Buf)->getBuffer().str();
    return Files.try_emplace(Path, std::move(Content)).first->second;
  }

  Location locate(llvm::StringRef File, unsigned Offset, llvm::StringRef BuildDir) {
    Location L;
    if (File.empty()) return L;
    llvm::SmallString<256> Abs(File);
    if (!llvm::sys::path::is_absolute(Abs) && !BuildDir.empty()) {
      Abs = BuildDir;
      llvm::sys::path::append(Abs, File);
    }
    llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
    L.File = std::string(Abs);
    llvm::StringRef T = text(L.File);
    if (T.empty() || Offset > T.size()) return L;
    llvm::StringRef Before = T.take_front(Offset);
    L.Line = static_cast<unsigned>(Before.count('\n')) + 1;
    size_t LastNl = Before.rfind('\n');
    L.Column =
        static_cast<unsigned>(LastNl == llvm::StringRef::npos ? Offset + 1 : Offset - LastNl);
    return L;
  }

  /// The text of a 1-based line (without the newline), empty when unknown.
  llvm::StringRef line(const Location& L) {
    if (L.Line == 0) return {};
    llvm::StringRef T = text(L.File);
    for (unsigned I = 1; I < L.Line && !T.empty(); ++I)
      T = T.split('\n').second;
    return T.split('\n').first;
  }

 private:
  llvm::vfs::FileSystem& FS;
  std::map<std::string, std::string> Files;
};

std::string displayPath(llvm::StringRef File, llvm::StringRef Root) {
  if (File.empty()) return "<command-line>";
  if (!Root.empty()) {
    llvm::SmallString<256> R(Root);
    if (!R.ends_with("/")) R += "/";
    if (File.starts_with(R)) return File.drop_front(R.size()).str();
  }
  return File.str();
}

std::string levelOf(const Finding& F) {
  return F.IsError ? "error" : "warning";
}

/// A file:// URI for an absolute path (percent-encoding the few characters that need it).
std::string fileUri(llvm::StringRef Path) {
  std::string Out = "file://";
  for (char C : Path) {
    if (llvm::isAlnum(C) || llvm::StringRef("/-_.~").contains(C))
      Out += C;
    else
      Out += llvm::formatv("%{0:X2}", static_cast<unsigned char>(C)).str();
  }
  return Out;
}

std::string relUri(llvm::StringRef Path) {
  std::string Out;
  for (char C : Path) {
    if (llvm::isAlnum(C) || llvm::StringRef("/-_.~").contains(C))
      Out += C;
    else
      Out += llvm::formatv("%{0:X2}", static_cast<unsigned char>(C)).str();
  }
  return Out;
}

}  // namespace

std::vector<Finding> collectFindings(llvm::ArrayRef<clang::tidy::ClangTidyError> Errors,
                                     llvm::vfs::FileSystem& FS) {
  FileCache Cache(FS);
  std::vector<Finding> Out;
  Out.reserve(Errors.size());
  for (const clang::tidy::ClangTidyError& E : Errors) {
    Finding F;
    F.Check = E.DiagnosticName;
    F.IsError = E.DiagLevel == clang::tooling::Diagnostic::Error || E.IsWarningAsError;
    F.IsWarningAsError = E.IsWarningAsError;
    F.Message = E.Message.Message;
    F.Loc = Cache.locate(E.Message.FilePath, E.Message.FileOffset, E.BuildDirectory);
    F.HasFix = !E.Message.Fix.empty();
    for (const clang::tooling::DiagnosticMessage& N : E.Notes) {
      F.Notes.push_back({Cache.locate(N.FilePath, N.FileOffset, E.BuildDirectory), N.Message});
      if (!N.Fix.empty()) F.HasFix = true;
    }
    Out.push_back(std::move(F));
  }
  return Out;
}

CheckDoc describeCheck(llvm::StringRef Check) {
  struct Entry {
    const char* Name;
    const char* Short;
    const char* Full;
  };
  static const Entry kRill[] = {
      {"rill-blocking-call", "Blocking call inside a coroutine",
       "A call to a blocking function (sleep, file I/O, DNS, password hashing, compression, "
       "synchronous database or HTTP clients, Runtime::block_on) inside a coroutine body, "
       "directly or through helper functions. It stalls the worker thread and every task "
       "scheduled on it. Move the call into rill::spawn_blocking or use the async equivalent."},
      {"rill-lock-across-await", "Synchronous lock held across a suspension point",
       "A std::mutex-style lock (lock_guard, unique_lock, scoped_lock, shared_lock, manual "
       "lock()) that may still be held when the coroutine suspends at co_await/co_yield. Another "
       "task on the same thread can then deadlock on it. Release it before suspending or use "
       "rill::sync::Mutex."},
      {"rill-unbounded-fanout", "Unbounded concurrency (fan-out)",
       "A spawn inside a loop whose trip count is not a small constant, a join_all over a "
       "container filled in such a loop, or an unbounded channel. Load grows without "
       "backpressure. Bound it with a semaphore permit moved into the task, a JoinSet with a "
       "limit, rill::for_each_concurrent, or a bounded channel."},
      {"rill-large-frame", "Coroutine frame larger than the threshold",
       "The coroutine's frame (locals live across suspension points, parameter copies, promise, "
       "awaiters) exceeds FrameSizeThreshold bytes; every spawned task allocates it on the heap. "
       "Box large buffers or move them out of the coroutine."},
  };
  CheckDoc D;
  for (const Entry& E : kRill) {
    if (Check == E.Name) {
      D.Short = E.Short;
      D.Full = E.Full;
      D.HelpMarkdown = (llvm::Twine(E.Full) + "\n\nSee `docs/lint/" + Check + ".md`.").str();
      return D;
    }
  }
  if (Check.starts_with("clang-diagnostic-")) {
    D.Short = "Clang compiler diagnostic";
    D.Full = ("Compiler diagnostic " + Check.drop_front(17) + " reported while parsing.").str();
    D.HelpMarkdown = D.Full;
    return D;
  }
  D.Short = ("clang-tidy check " + Check).str();
  D.Full = D.Short;
  size_t Dash = Check.find('-');
  if (Dash != llvm::StringRef::npos && !Check.starts_with("clang-tidy-")) {
    D.HelpUri = ("https://clang.llvm.org/extra/clang-tidy/checks/" + Check.take_front(Dash) + "/" +
                 Check.drop_front(Dash + 1) + ".html")
                    .str();
  }
  D.HelpMarkdown = D.HelpUri.empty() ? D.Full : "See " + D.HelpUri;
  return D;
}

void writeSarif(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                llvm::raw_ostream& OS) {
  llvm::vfs::FileSystem& FS = *llvm::vfs::getRealFileSystem();
  FileCache Cache(FS);
  // Rules: one per distinct check, in first-seen order.
  std::vector<std::string> RuleIds;
  llvm::StringMap<unsigned> RuleIndex;
  for (const Finding& F : Findings)
    if (RuleIndex.try_emplace(F.Check, RuleIds.size()).second) RuleIds.push_back(F.Check);

  auto location = [&](const Location& L) -> llvm::json::Object {
    llvm::json::Object Art;
    std::string Rel = displayPath(L.File, Opts.SourceRoot);
    if (Rel != L.File) {
      Art["uri"] = relUri(Rel);
      Art["uriBaseId"] = "%SRCROOT%";
    } else {
      Art["uri"] = L.File.empty() ? std::string("command-line") : fileUri(L.File);
    }
    llvm::json::Object Phys{{"artifactLocation", std::move(Art)}};
    if (L.Line)
      Phys["region"] = llvm::json::Object{{"startLine", L.Line}, {"startColumn", L.Column}};
    return llvm::json::Object{{"physicalLocation", std::move(Phys)}};
  };

  llvm::json::Array Rules;
  for (const std::string& Id : RuleIds) {
    CheckDoc D = describeCheck(Id);
    llvm::json::Object R{
        {"id", Id},
        {"name", Id},
        {"shortDescription", llvm::json::Object{{"text", D.Short}}},
        {"fullDescription", llvm::json::Object{{"text", D.Full}}},
        {"help", llvm::json::Object{{"text", D.Full}, {"markdown", D.HelpMarkdown}}},
        {"defaultConfiguration",
         llvm::json::Object{{"level", llvm::StringRef(Id).starts_with("clang-diagnostic-error")
                                          ? "error"
                                          : "warning"}}}};
    if (!D.HelpUri.empty()) R["helpUri"] = D.HelpUri;
    Rules.push_back(std::move(R));
  }

  llvm::json::Array Results;
  llvm::StringMap<unsigned> Occurrences;
  for (const Finding& F : Findings) {
    llvm::json::Object Res{{"ruleId", F.Check},
                           {"ruleIndex", RuleIndex[F.Check]},
                           {"level", levelOf(F)},
                           {"message", llvm::json::Object{{"text", F.Message}}}};
    Res["locations"] = llvm::json::Array{location(F.Loc)};
    if (!F.Notes.empty()) {
      llvm::json::Array Related;
      unsigned Id = 0;
      for (const Note& N : F.Notes) {
        llvm::json::Object RL = location(N.Loc);
        RL["id"] = Id++;
        RL["message"] = llvm::json::Object{{"text", N.Message}};
        Related.push_back(std::move(RL));
      }
      Res["relatedLocations"] = std::move(Related);
    }
    // Fingerprints: stable under line shifts (content of the line, not its number), made unique
    // among identical lines by an occurrence counter, like GitHub's primaryLocationLineHash.
    std::string Rel = displayPath(F.Loc.File, Opts.SourceRoot);
    std::string LineText = Cache.line(F.Loc).trim().str();
    std::string Key = F.Check + "\n" + Rel + "\n" + LineText;
    unsigned Occ = Occurrences[Key]++;
    std::string LineHash = llvm::formatv("{0:x16}:{1}", llvm::xxh3_64bits(LineText), Occ + 1).str();
    std::string RillHash = llvm::formatv("{0:x16}", llvm::xxh3_64bits(Key + "\n" + F.Message +
                                                                      "\n" + std::to_string(Occ)))
                               .str();
    Res["partialFingerprints"] =
        llvm::json::Object{{"primaryLocationLineHash", LineHash}, {"rillFingerprint/v1", RillHash}};
    Results.push_back(std::move(Res));
  }

  llvm::json::Object Run{
      {"tool", llvm::json::Object{{"driver",
                                   llvm::json::Object{{"name", "rill-lint"},
                                                      {"version", Opts.ToolVersion},
                                                      {"semanticVersion", Opts.ToolVersion},
                                                      {"informationUri",
                                                       "https://clang.llvm.org/extra/clang-tidy/"},
                                                      {"rules", std::move(Rules)}}}}},
      {"results", std::move(Results)},
      {"columnKind", "unicodeCodePoints"}};
  if (!Opts.SourceRoot.empty()) {
    std::string Root = Opts.SourceRoot;
    if (!llvm::StringRef(Root).ends_with("/")) Root += "/";
    Run["originalUriBaseIds"] =
        llvm::json::Object{{"%SRCROOT%", llvm::json::Object{{"uri", fileUri(Root)}}}};
  }
  llvm::json::Object Log{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                         {"version", "2.1.0"},
                         {"runs", llvm::json::Array{std::move(Run)}}};
  OS << llvm::formatv("{0:2}", llvm::json::Value(std::move(Log))) << "\n";
}

namespace {
std::string mdEscape(llvm::StringRef S) {
  std::string Out;
  for (char C : S) {
    if (llvm::StringRef("\\`*_[]<>|").contains(C)) Out += '\\';
    Out += C == '\n' ? ' ' : C;
  }
  return Out;
}

void mdFinding(const Finding& F, const RenderOptions& Opts, llvm::raw_ostream& OS) {
  OS << "- `" << displayPath(F.Loc.File, Opts.SourceRoot);
  if (F.Loc.Line) OS << ":" << F.Loc.Line;
  OS << "` **" << levelOf(F) << "** " << mdEscape(F.Message) << " (`" << F.Check << "`)\n";
  for (const Note& N : F.Notes) {
    OS << "  - note: `" << displayPath(N.Loc.File, Opts.SourceRoot);
    if (N.Loc.Line) OS << ":" << N.Loc.Line;
    OS << "` " << mdEscape(N.Message) << "\n";
  }
}
}  // namespace

void writeMarkdown(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                   llvm::raw_ostream& OS) {
  unsigned Errors = 0;
  std::map<std::string, unsigned> PerCheck, PerFile;
  for (const Finding& F : Findings) {
    Errors += F.IsError;
    ++PerCheck[F.Check];
    ++PerFile[displayPath(F.Loc.File, Opts.SourceRoot)];
  }
  OS << "## rill-lint report\n\n";
  if (Findings.empty()) {
    OS << "No findings.\n";
    return;
  }
  OS << "**" << Findings.size() << (Findings.size() == 1 ? " finding" : " findings") << "** ("
     << Findings.size() - Errors << " warnings, " << Errors << " errors) in " << PerFile.size()
     << (PerFile.size() == 1 ? " file" : " files") << ".\n\n";
  OS << "| Check | Findings |\n|---|---:|\n";
  for (const auto& [Check, N] : PerCheck)
    OS << "| `" << Check << "` | " << N << " |\n";
  OS << "\n| File | Findings |\n|---|---:|\n";
  for (const auto& [File, N] : PerFile)
    OS << "| `" << File << "` | " << N << " |\n";
  OS << "\n### Findings\n\n";
  size_t Inline = std::min<size_t>(Findings.size(), Opts.MarkdownInlineLimit);
  for (size_t I = 0; I < Inline; ++I)
    mdFinding(Findings[I], Opts, OS);
  if (Findings.size() > Inline) {
    OS << "\n<details>\n<summary>" << Findings.size() - Inline << " more findings</summary>\n\n";
    for (size_t I = Inline; I < Findings.size(); ++I)
      mdFinding(Findings[I], Opts, OS);
    OS << "\n</details>\n";
  }
}

std::string escapeGitHubData(llvm::StringRef S) {
  std::string Out;
  for (char C : S) {
    if (C == '%')
      Out += "%25";
    else if (C == '\r')
      Out += "%0D";
    else if (C == '\n')
      Out += "%0A";
    else
      Out += C;
  }
  return Out;
}

std::string escapeGitHubProperty(llvm::StringRef S) {
  std::string Out;
  for (char C : escapeGitHubData(S)) {
    if (C == ':')
      Out += "%3A";
    else if (C == ',')
      Out += "%2C";
    else
      Out += C;
  }
  return Out;
}

void writeGitHub(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                 llvm::raw_ostream& OS) {
  for (const Finding& F : Findings) {
    std::string Msg = F.Message;
    for (const Note& N : F.Notes) {
      Msg += "\nnote: " + displayPath(N.Loc.File, Opts.SourceRoot);
      if (N.Loc.Line) Msg += ":" + std::to_string(N.Loc.Line) + ":" + std::to_string(N.Loc.Column);
      Msg += ": " + N.Message;
    }
    OS << "::" << levelOf(F) << " ";
    if (!F.Loc.File.empty()) {
      OS << "file=" << escapeGitHubProperty(displayPath(F.Loc.File, Opts.SourceRoot));
      if (F.Loc.Line) OS << ",line=" << F.Loc.Line << ",col=" << F.Loc.Column;
      OS << ",";
    }
    OS << "title=" << escapeGitHubProperty(F.Check) << "::" << escapeGitHubData(Msg) << "\n";
  }
}

}  // namespace rill::lint::report
