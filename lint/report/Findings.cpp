// Renderers for rill-lint's findings (SARIF 2.1.0, Markdown, GitHub annotations).
#include "report/Findings.h"

#include <clang-tidy/ClangTidyDiagnosticConsumer.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/xxhash.h>

#include <algorithm>
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

void assignFingerprints(std::vector<Finding>& Findings, llvm::StringRef SourceRoot,
                        llvm::vfs::FileSystem& FS) {
  FileCache Cache(FS);
  llvm::StringMap<unsigned> Occurrences;
  for (Finding& F : Findings) {
    // Stable under line shifts (content of the line, not its number), made unique among
    // identical lines by an occurrence counter, like GitHub's primaryLocationLineHash.
    std::string Rel = displayPath(F.Loc.File, SourceRoot);
    std::string LineText = Cache.line(F.Loc).trim().str();
    std::string Key = F.Check + "\n" + Rel + "\n" + LineText;
    unsigned Occ = Occurrences[Key]++;
    F.LineHash = llvm::formatv("{0:x16}:{1}", llvm::xxh3_64bits(LineText), Occ + 1).str();
    F.Fingerprint = llvm::formatv("{0:x16}", llvm::xxh3_64bits(Key + "\n" + F.Message + "\n" +
                                                               std::to_string(Occ)))
                        .str();
  }
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
      {"rill-discarded-awaitable", "Awaitable discarded without co_await",
       "An expression statement whose value is an awaitable (a type with await_ready, "
       "await_suspend and await_resume, or operator co_await) or a lazy coroutine task, "
       "discarded without co_await. The operation never runs and no error is reported. "
       "co_await it, or spawn it to run detached."},
      {"rill-spawn-dangling-reference", "Spawned task refers to the spawner's locals",
       "A spawned task (rill::spawn, JoinSet::spawn, TaskTracker::spawn, spawn_blocking) binds a "
       "reference, pointer or view parameter, a by-reference lambda capture or `this` to a local, "
       "by-value parameter or temporary of the spawner, and is not awaited before it dies. The "
       "task outlives the spawner and uses freed memory. Pass values (move them in), share with "
       "std::shared_ptr, or co_await the task before the referent goes out of scope."},
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

namespace {
/// The UTF-16 column (1-based) of a 1-based byte column in \p Line (clang's columns are bytes;
/// SARIF's default and GitHub's columnKind is utf16CodeUnits).
unsigned utf16Column(llvm::StringRef Line, unsigned ByteColumn) {
  if (ByteColumn == 0) return 0;
  llvm::StringRef Prefix = Line.take_front(ByteColumn - 1);
  unsigned Units = 0;
  for (size_t I = 0; I < Prefix.size();) {
    unsigned char C = Prefix[I];
    size_t Len = C < 0x80            ? 1
                 : (C >> 5) == 0x6   ? 2
                 : (C >> 4) == 0xE   ? 3
                 : (C >> 3) == 0x1E  ? 4
                                     : 1;
    Units += Len == 4 ? 2 : 1;
    I += Len;
  }
  // Columns past the end of the line (e.g. at the newline) keep their distance.
  if (ByteColumn - 1 > Prefix.size()) Units += ByteColumn - 1 - Prefix.size();
  return Units + 1;
}
}  // namespace

void writeSarif(llvm::ArrayRef<Finding> InFindings, const RenderOptions& Opts,
                llvm::raw_ostream& OS) {
  llvm::vfs::FileSystem& FS = *llvm::vfs::getRealFileSystem();
  FileCache Cache(FS);
  std::vector<Finding> Owned;
  llvm::ArrayRef<Finding> Findings = InFindings;
  if (llvm::any_of(InFindings, [](const Finding& F) { return F.Fingerprint.empty(); })) {
    Owned.assign(InFindings.begin(), InFindings.end());
    assignFingerprints(Owned, Opts.SourceRoot, FS);
    Findings = Owned;
  }
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
    if (L.Line) {
      llvm::StringRef Text = Cache.line(L);
      unsigned Col = Text.empty() ? L.Column : utf16Column(Text, L.Column);
      Phys["region"] = llvm::json::Object{{"startLine", L.Line}, {"startColumn", Col}};
    }
    return llvm::json::Object{{"physicalLocation", std::move(Phys)}};
  };

  llvm::json::Array Rules;
  for (const std::string& Id : RuleIds) {
    CheckDoc D = describeCheck(Id);
    if (!Opts.HelpUriBase.empty() && llvm::StringRef(Id).starts_with("rill-"))
      D.HelpUri = Opts.HelpUriBase + Id + ".md";
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
    Res["partialFingerprints"] = llvm::json::Object{{"primaryLocationLineHash", F.LineHash},
                                                    {"rillFingerprint/v1", F.Fingerprint}};
    Results.push_back(std::move(Res));
  }

  llvm::json::Array Notifications;
  bool Successful = true;
  for (const ToolNotification& N : Opts.Notifications) {
    llvm::json::Object J{{"level", N.IsError ? "error" : "warning"},
                         {"message", llvm::json::Object{{"text", N.Message}}}};
    if (!N.Loc.File.empty()) J["locations"] = llvm::json::Array{location(N.Loc)};
    Notifications.push_back(std::move(J));
    Successful = Successful && !N.IsError;
  }
  llvm::json::Object Invocation{{"executionSuccessful", Successful}};
  if (!Notifications.empty())
    Invocation["toolExecutionNotifications"] = std::move(Notifications);

  llvm::json::Object Run{
      {"tool", llvm::json::Object{{"driver",
                                   llvm::json::Object{{"name", "rill-lint"},
                                                      {"version", Opts.ToolVersion},
                                                      {"semanticVersion", Opts.ToolVersion},
                                                      {"informationUri",
                                                       "https://clang.llvm.org/extra/clang-tidy/"},
                                                      {"rules", std::move(Rules)}}}}},
      {"invocations", llvm::json::Array{std::move(Invocation)}},
      {"results", std::move(Results)},
      {"columnKind", "utf16CodeUnits"}};
  if (!Opts.SarifCategory.empty()) {
    std::string Id = Opts.SarifCategory;
    if (!llvm::StringRef(Id).ends_with("/")) Id += "/";
    Run["automationDetails"] = llvm::json::Object{{"id", Id}};
  }
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

/// One finding as a Markdown list item: location (a link when LinkBase is set), level, message,
/// check, a one-line code excerpt and the notes.
std::string mdFinding(const Finding& F, const RenderOptions& Opts, FileCache& Cache) {
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  std::string Shown = displayPath(F.Loc.File, Opts.SourceRoot);
  if (F.Loc.Line) Shown += ":" + std::to_string(F.Loc.Line);
  OS << "- ";
  std::string RepoRel = displayPath(F.Loc.File, Opts.RepoRoot.empty() ? Opts.SourceRoot
                                                                        : Opts.RepoRoot);
  if (!Opts.LinkBase.empty() && !F.Loc.File.empty() && RepoRel != F.Loc.File) {
    OS << "[`" << Shown << "`](" << Opts.LinkBase << "/" << relUri(RepoRel);
    if (F.Loc.Line) OS << "#L" << F.Loc.Line;
    OS << ")";
  } else {
    OS << "`" << Shown << "`";
  }
  OS << " **" << levelOf(F) << "** " << mdEscape(F.Message) << " (`" << F.Check << "`)\n";
  if (Opts.CodeExcerpts) {
    llvm::StringRef Line = Cache.line(F.Loc).rtrim();
    if (!Line.empty() && !Line.contains("```")) {
      if (Line.size() > 160) Line = Line.take_front(160);
      OS << "  ```cpp\n  " << Line << "\n  ```\n";
    }
  }
  for (const Note& N : F.Notes) {
    OS << "  - note: `" << displayPath(N.Loc.File, Opts.SourceRoot);
    if (N.Loc.Line) OS << ":" << N.Loc.Line;
    OS << "` " << mdEscape(N.Message) << "\n";
  }
  return Out;
}

/// A Markdown table of counts, at most MaxRows rows (the largest counts), then a row with the
/// rest.
void mdCountTable(llvm::StringRef Title, const std::map<std::string, unsigned>& Counts,
                  size_t MaxRows, llvm::raw_ostream& OS) {
  std::vector<std::pair<std::string, unsigned>> Rows(Counts.begin(), Counts.end());
  std::stable_sort(Rows.begin(), Rows.end(),
                   [](const auto& A, const auto& B) { return A.second > B.second; });
  OS << "| " << Title << " | Findings |\n|---|---:|\n";
  unsigned Rest = 0;
  for (size_t I = 0; I < Rows.size(); ++I) {
    if (I < MaxRows)
      OS << "| `" << Rows[I].first << "` | " << Rows[I].second << " |\n";
    else
      Rest += Rows[I].second;
  }
  if (Rows.size() > MaxRows)
    OS << "| " << Rows.size() - MaxRows << " more | " << Rest << " |\n";
}
}  // namespace

void writeMarkdown(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                   llvm::raw_ostream& Out) {
  llvm::vfs::FileSystem& FS = *llvm::vfs::getRealFileSystem();
  FileCache Cache(FS);
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  unsigned Errors = 0;
  std::map<std::string, unsigned> PerCheck, PerFile;
  for (const Finding& F : Findings) {
    Errors += F.IsError;
    ++PerCheck[F.Check];
    ++PerFile[displayPath(F.Loc.File, Opts.SourceRoot)];
  }
  OS << "## rill-lint report\n\n";
  if (!Opts.FilterDescription.empty()) OS << Opts.FilterDescription << "\n\n";
  llvm::StringRef Adj = Opts.Filtered ? "new " : "";
  if (Findings.empty()) {
    OS << (Opts.Filtered ? "No new findings.\n" : "No findings.\n");
  } else {
    OS << "**" << Findings.size() << " " << Adj << (Findings.size() == 1 ? "finding" : "findings")
       << "** (" << Findings.size() - Errors << " warnings, " << Errors << " errors) in "
       << PerFile.size() << (PerFile.size() == 1 ? " file" : " files") << ".";
    if (Opts.HasBaseline)
      OS << " " << Opts.Fixed.size() << (Opts.Fixed.size() == 1 ? " finding" : " findings")
         << " of the baseline fixed.";
    OS << "\n\n";
    mdCountTable("Check", PerCheck, 30, OS);
    OS << "\n";
    mdCountTable("File", PerFile, 20, OS);
  }
  if (Findings.empty() && Opts.HasBaseline)
    OS << "\n" << Opts.Fixed.size() << (Opts.Fixed.size() == 1 ? " finding" : " findings")
       << " of the baseline fixed.\n";

  // The findings, within the size limit: each item goes in whole or not at all; a note says what
  // was left out. Reserve room for the closing lines.
  const size_t Reserve = 600;
  const size_t Max = Opts.MarkdownMaxChars > Reserve ? Opts.MarkdownMaxChars - Reserve : 0;
  size_t OmittedNew = 0, OmittedFixed = 0;
  if (!Findings.empty()) {
    OS << "\n### " << (Opts.Filtered ? "New" : "Findings") << "\n\n";
    size_t Inline = std::min<size_t>(Findings.size(), Opts.MarkdownInlineLimit);
    bool InDetails = false;
    for (size_t I = 0; I < Findings.size(); ++I) {
      std::string Item = mdFinding(Findings[I], Opts, Cache);
      std::string Open;
      if (I == Inline && !InDetails)
        Open = "\n<details>\n<summary>" + std::to_string(Findings.size() - Inline) +
               " more findings</summary>\n\n";
      if (Text.size() + Open.size() + Item.size() > Max) {
        OmittedNew = Findings.size() - I;
        break;
      }
      if (!Open.empty()) {
        OS << Open;
        InDetails = true;
      }
      OS << Item;
    }
    if (InDetails) OS << "\n</details>\n";
  }
  if (Opts.HasBaseline && !Opts.Fixed.empty()) {
    OS << "\n### Fixed\n\n";
    for (size_t I = 0; I < Opts.Fixed.size(); ++I) {
      const Finding& F = Opts.Fixed[I];
      std::string Item = "- `" + displayPath(F.Loc.File, Opts.SourceRoot) +
                         (F.Loc.Line ? ":" + std::to_string(F.Loc.Line) : std::string()) + "` " +
                         mdEscape(F.Message) + " (`" + F.Check + "`)\n";
      if (Text.size() + Item.size() > Max) {
        OmittedFixed = Opts.Fixed.size() - I;
        break;
      }
      OS << Item;
    }
  }
  if (OmittedNew || OmittedFixed) {
    OS << "\n> **Note:** the report is limited to " << Opts.MarkdownMaxChars
       << " characters; left out: ";
    if (OmittedNew) OS << OmittedNew << (Opts.Filtered ? " new" : "") << " findings";
    if (OmittedNew && OmittedFixed) OS << " and ";
    if (OmittedFixed) OS << OmittedFixed << " fixed findings";
    OS << ". Every finding is in the SARIF log and the annotations.\n";
  }
  OS.flush();
  Out << Text;
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
  // GitHub shows at most 10 annotations of each level per step: say so when more were written.
  size_t Errors = llvm::count_if(Findings, [](const Finding& F) { return F.IsError; });
  size_t Warnings = Findings.size() - Errors;
  if (Errors > 10 || Warnings > 10)
    OS << "::notice title=rill-lint::" << Findings.size()
       << " findings annotated; GitHub shows at most 10 errors and 10 warnings per step. Every "
          "finding is in the job summary and the SARIF log.\n";
}

namespace {
llvm::Expected<llvm::json::Value> readJsonFile(llvm::StringRef Path) {
  auto Buf = llvm::MemoryBuffer::getFile(Path);
  if (!Buf)
    return llvm::createStringError(Buf.getError(), "cannot read SARIF file '%s': %s",
                                   Path.str().c_str(), Buf.getError().message().c_str());
  llvm::Expected<llvm::json::Value> V = llvm::json::parse((*Buf)->getBuffer());
  if (!V)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "'%s' is not JSON: %s",
                                   Path.str().c_str(), llvm::toString(V.takeError()).c_str());
  const llvm::json::Object* Log = V->getAsObject();
  if (!Log || !Log->getArray("runs"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'%s' is not a SARIF log (no \"runs\")", Path.str().c_str());
  return V;
}

/// Percent-decoding of a relative URI written by relUri.
std::string uriDecode(llvm::StringRef S) {
  std::string Out;
  for (size_t I = 0; I < S.size(); ++I) {
    unsigned V;
    if (S[I] == '%' && I + 2 < S.size() + 0 && !S.substr(I + 1, 2).getAsInteger(16, V)) {
      Out += static_cast<char>(V);
      I += 2;
    } else {
      Out += S[I];
    }
  }
  return Out;
}

Location sarifLocation(const llvm::json::Object* L, llvm::StringRef SourceRoot) {
  Location Out;
  if (!L) return Out;
  const llvm::json::Object* Phys = L->getObject("physicalLocation");
  if (!Phys) return Out;
  if (const llvm::json::Object* Art = Phys->getObject("artifactLocation")) {
    llvm::StringRef Uri = Art->getString("uri").value_or("");
    if (Uri.consume_front("file://")) {
      Out.File = uriDecode(Uri);
    } else if (Art->getString("uriBaseId")) {
      llvm::SmallString<256> P(SourceRoot);
      llvm::sys::path::append(P, uriDecode(Uri));
      Out.File = std::string(P);
    } else {
      Out.File = uriDecode(Uri);
    }
  }
  if (const llvm::json::Object* R = Phys->getObject("region")) {
    Out.Line = static_cast<unsigned>(R->getInteger("startLine").value_or(0));
    Out.Column = static_cast<unsigned>(R->getInteger("startColumn").value_or(0));
  }
  return Out;
}
}  // namespace

llvm::Expected<std::vector<Finding>> readSarif(llvm::StringRef Path, llvm::StringRef SourceRoot) {
  llvm::Expected<llvm::json::Value> V = readJsonFile(Path);
  if (!V) return V.takeError();
  std::vector<Finding> Out;
  for (const llvm::json::Value& RunV : *V->getAsObject()->getArray("runs")) {
    const llvm::json::Object* Run = RunV.getAsObject();
    const llvm::json::Array* Results = Run ? Run->getArray("results") : nullptr;
    if (!Results) continue;
    for (const llvm::json::Value& RV : *Results) {
      const llvm::json::Object* R = RV.getAsObject();
      if (!R) continue;
      Finding F;
      F.Check = R->getString("ruleId").value_or("").str();
      F.IsError = R->getString("level").value_or("") == "error";
      if (const llvm::json::Object* M = R->getObject("message"))
        F.Message = M->getString("text").value_or("").str();
      if (const llvm::json::Array* Ls = R->getArray("locations"); Ls && !Ls->empty())
        F.Loc = sarifLocation((*Ls)[0].getAsObject(), SourceRoot);
      if (const llvm::json::Object* FP = R->getObject("partialFingerprints")) {
        F.Fingerprint = FP->getString("rillFingerprint/v1").value_or("").str();
        F.LineHash = FP->getString("primaryLocationLineHash").value_or("").str();
      }
      Out.push_back(std::move(F));
    }
  }
  return Out;
}

llvm::Error mergeSarif(llvm::ArrayRef<std::string> Inputs, llvm::raw_ostream& OS) {
  // One merged run per tool name, in first-seen order.
  std::vector<llvm::json::Object> Runs;
  std::vector<std::string> RunTool;
  std::vector<llvm::StringMap<unsigned>> RuleIndexes;
  std::string Schema = "https://json.schemastore.org/sarif-2.1.0.json";
  for (const std::string& In : Inputs) {
    llvm::Expected<llvm::json::Value> V = readJsonFile(In);
    if (!V) return V.takeError();
    for (llvm::json::Value& RunV : *V->getAsObject()->getArray("runs")) {
      llvm::json::Object* Run = RunV.getAsObject();
      if (!Run) continue;
      llvm::json::Object* Driver = nullptr;
      if (llvm::json::Object* Tool = Run->getObject("tool")) Driver = Tool->getObject("driver");
      std::string Name = Driver ? Driver->getString("name").value_or("").str() : "";
      size_t Idx = std::find(RunTool.begin(), RunTool.end(), Name) - RunTool.begin();
      if (Idx == RunTool.size()) {
        llvm::json::Object Fresh = *Run;
        Fresh["results"] = llvm::json::Array{};
        Fresh["invocations"] = llvm::json::Array{};
        if (llvm::json::Object* T = Fresh.getObject("tool"))
          if (llvm::json::Object* D = T->getObject("driver")) (*D)["rules"] = llvm::json::Array{};
        Runs.push_back(std::move(Fresh));
        RunTool.push_back(Name);
        RuleIndexes.emplace_back();
      }
      llvm::json::Object& Into = Runs[Idx];
      llvm::json::Array* IntoRules = nullptr;
      if (llvm::json::Object* T = Into.getObject("tool"))
        if (llvm::json::Object* D = T->getObject("driver")) IntoRules = D->getArray("rules");
      // Map this run's rule indexes to the merged ones.
      std::vector<unsigned> Map;
      if (Driver)
        if (llvm::json::Array* Rules = Driver->getArray("rules"))
          for (llvm::json::Value& RuleV : *Rules) {
            std::string Id;
            if (const llvm::json::Object* Rule = RuleV.getAsObject())
              Id = Rule->getString("id").value_or("").str();
            auto [It, New] = RuleIndexes[Idx].try_emplace(Id, IntoRules ? IntoRules->size() : 0);
            if (New && IntoRules) IntoRules->push_back(RuleV);
            Map.push_back(It->second);
          }
      if (llvm::json::Array* Results = Run->getArray("results"))
        for (llvm::json::Value& ResV : *Results) {
          if (llvm::json::Object* Res = ResV.getAsObject())
            if (std::optional<int64_t> RI = Res->getInteger("ruleIndex"))
              if (*RI >= 0 && static_cast<size_t>(*RI) < Map.size()) (*Res)["ruleIndex"] = Map[*RI];
          Into.getArray("results")->push_back(std::move(ResV));
        }
      if (llvm::json::Array* Invs = Run->getArray("invocations"))
        for (llvm::json::Value& Inv : *Invs)
          Into.getArray("invocations")->push_back(std::move(Inv));
    }
  }
  llvm::json::Array RunsOut;
  for (llvm::json::Object& R : Runs)
    RunsOut.push_back(std::move(R));
  llvm::json::Object Log{{"$schema", Schema}, {"version", "2.1.0"}, {"runs", std::move(RunsOut)}};
  OS << llvm::formatv("{0:2}", llvm::json::Value(std::move(Log))) << "\n";
  return llvm::Error::success();
}

}  // namespace rill::lint::report
