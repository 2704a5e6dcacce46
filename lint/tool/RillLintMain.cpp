// rill-lint: clang-tidy's driver (mirrors clang-tools-extra/clang-tidy/tool/ClangTidyMain.cpp,
// release/19.x) with the rill module and all upstream modules linked in, plus rill's flags:
// --format=text|sarif|markdown|github, --output FILE, --rules FILE (repeatable), -j N and
// --frame-report. Every report view is rendered from the single list of ClangTidyErrors that
// clang::tidy::runClangTidy returns.
//
// Exit status: 0 clean (warnings alone are still 0); 1 when a finding was promoted by
// --warnings-as-errors; 2 on usage or input errors (bad flags, missing source file, bad rules
// YAML, unreadable/broken compile_commands.json, invalid config) and when a TU failed to parse
// (its compiler errors are reported and the other TUs are still linted). 2 wins over 1.
#include <clang-tidy/ClangTidy.h>
#include <clang-tidy/ClangTidyCheck.h>
#include <clang-tidy/ClangTidyForceLinker.h>
#include <clang-tidy/ClangTidyModule.h>
#include <clang-tidy/ClangTidyModuleRegistry.h>
#include <clang-tidy/ClangTidyOptions.h>
#include <clang-tidy/GlobList.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/CommonOptionsParser.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/JSONCompilationDatabase.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/InitLLVM.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Process.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/ThreadPool.h>
#include <llvm/Support/Threading.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/WithColor.h>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include "RillOptions.h"
#include "analysis/Rules.h"
#include "report/Findings.h"
#include "tool/Cache.h"
#include "tool/Changes.h"

#if __has_include("analysis/FrameReport.h")
#include "analysis/FrameReport.h"
#define RILL_HAVE_FRAME_REPORT 1
#endif

// Forces the rill module's object file into the link (see RillTidyModule.cpp).
extern volatile int RillModuleAnchorSource;
static int LLVM_ATTRIBUTE_UNUSED RillModuleAnchorDestination = RillModuleAnchorSource;

using namespace clang;
using namespace clang::tidy;
using namespace clang::tooling;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory TidyCategory("clang-tidy options (same meaning as in clang-tidy)");
cl::OptionCategory RillCategory("rill-lint options");

cl::desc desc(llvm::StringRef D) {
  return {D.ltrim()};
}

// ---- Compilation database / sources (like CommonOptionsParser) ----------------------------
cl::opt<std::string> BuildPath("p",
                               desc("Build path: a directory containing compile_commands.json.\n"
                                    "With no source files, lints every file in it."),
                               cl::Optional, cl::cat(TidyCategory));
cl::list<std::string> SourcePaths(cl::Positional,
                                  desc("<source0> [... <sourceN>] (files or directories)"),
                                  cl::cat(TidyCategory));
cl::list<std::string> ArgsAfter("extra-arg",
                                desc("Additional argument to append to the compiler command line"),
                                cl::cat(TidyCategory));
cl::list<std::string> ArgsBefore(
    "extra-arg-before", desc("Additional argument to prepend to the compiler command line"),
    cl::cat(TidyCategory));

// ---- clang-tidy's own flags ------------------------------------------------------------------
cl::opt<std::string> Checks("checks", desc(R"(
Comma-separated list of globs with optional '-' prefix (as in clang-tidy). Appended to the
'Checks' of .clang-tidy, if any. Default when nothing sets them: rill-*.)"),
                            cl::init(""), cl::cat(TidyCategory));
cl::opt<std::string> WarningsAsErrors("warnings-as-errors",
                                      desc("Upgrades warnings to errors. Same format as --checks."),
                                      cl::init(""), cl::cat(TidyCategory));
cl::opt<std::string> HeaderFilter("header-filter", desc(R"(
Regular expression matching the names of the headers to output diagnostics from.)"),
                                  cl::init(""), cl::cat(TidyCategory));
cl::opt<std::string> ExcludeHeaderFilter("exclude-header-filter",
                                         desc("Regular expression of headers to exclude."),
                                         cl::init(""), cl::cat(TidyCategory));
cl::opt<bool> SystemHeaders("system-headers", desc("Display the errors from system headers."),
                            cl::init(false), cl::cat(TidyCategory));
cl::opt<std::string> LineFilter("line-filter",
                                desc("JSON list of files and line ranges (as in clang-tidy)."),
                                cl::init(""), cl::cat(TidyCategory));
cl::opt<bool> Fix("fix", desc("Apply suggested fixes."), cl::init(false), cl::cat(TidyCategory));
cl::opt<bool> FixErrors("fix-errors",
                        desc("Apply suggested fixes even if compilation errors were found."),
                        cl::init(false), cl::cat(TidyCategory));
cl::opt<bool> FixNotes("fix-notes", desc("Apply fixes found in notes (implies --fix)."),
                       cl::init(false), cl::cat(TidyCategory));
cl::opt<std::string> FormatStyle("format-style",
                                 desc("Style for formatting code around applied fixes."),
                                 cl::init("none"), cl::cat(TidyCategory));
cl::opt<bool> ListChecks("list-checks", desc("List all enabled checks and exit."), cl::init(false),
                         cl::cat(TidyCategory));
cl::opt<bool> ExplainConfig("explain-config", desc("Explain where each enabled check is enabled."),
                            cl::init(false), cl::cat(TidyCategory));
cl::opt<std::string> Config("config", desc("Configuration in YAML/JSON format (as in clang-tidy)."),
                            cl::init(""), cl::cat(TidyCategory));
cl::opt<std::string> ConfigFile("config-file", desc("Path of a .clang-tidy style config file."),
                                cl::init(""), cl::cat(TidyCategory));
cl::opt<bool> DumpConfig("dump-config", desc("Dump the configuration in YAML and exit."),
                         cl::init(false), cl::cat(TidyCategory));
cl::opt<bool> EnableCheckProfile("enable-check-profile", desc("Enable per-check timing profiles."),
                                 cl::init(false), cl::cat(TidyCategory));
cl::opt<std::string> StoreCheckProfile("store-check-profile",
                                       desc("Store per-TU profiles as JSON in <prefix>."),
                                       cl::value_desc("prefix"), cl::cat(TidyCategory));
cl::opt<bool> AllowEnablingAnalyzerAlphaCheckers("allow-enabling-analyzer-alpha-checkers",
                                                 cl::init(false), cl::Hidden,
                                                 cl::cat(TidyCategory));
cl::opt<bool> EnableModuleHeadersParsing("enable-module-headers-parsing",
                                         desc("Enable preprocessor-level module header parsing."),
                                         cl::init(false), cl::cat(TidyCategory));
cl::opt<std::string> ExportFixes("export-fixes", desc("YAML file to store suggested fixes in."),
                                 cl::value_desc("filename"), cl::cat(TidyCategory));
cl::opt<bool> Quiet("quiet", desc("Suppress statistics about ignored warnings."), cl::init(false),
                    cl::cat(TidyCategory));
cl::opt<std::string> VfsOverlay("vfsoverlay",
                                desc("Overlay the virtual filesystem described by file."),
                                cl::value_desc("filename"), cl::cat(TidyCategory));
cl::opt<bool> UseColor("use-color", desc("Use colors in diagnostics."), cl::init(false),
                       cl::cat(TidyCategory));
cl::opt<bool> VerifyConfig("verify-config", desc("Check the config files and exit."),
                           cl::init(false), cl::cat(TidyCategory));
cl::opt<bool> AllowNoChecks("allow-no-checks", desc("Allow empty enabled checks."), cl::init(false),
                            cl::cat(TidyCategory));

// ---- rill-lint's flags -------------------------------------------------------------------------
enum class OutputFormat { Text, Sarif, Markdown, GitHub };
cl::opt<OutputFormat> Format(
    "format", desc("Report format."), cl::init(OutputFormat::Text),
    cl::values(clEnumValN(OutputFormat::Text, "text", "clang-tidy's text diagnostics (default)"),
               clEnumValN(OutputFormat::Sarif, "sarif", "SARIF 2.1.0 (GitHub code scanning)"),
               clEnumValN(OutputFormat::Markdown, "markdown", "Markdown pull-request summary"),
               clEnumValN(OutputFormat::GitHub, "github", "GitHub Actions workflow annotations")),
    cl::cat(RillCategory));
cl::opt<std::string> OutputFile("output", desc("Write the report to FILE instead of stdout."),
                                cl::value_desc("FILE"), cl::cat(RillCategory));
cl::list<std::string> ExtraReports(
    "report",
    desc("Also write a report in another format from the same run: FORMAT=FILE with FORMAT "
         "sarif, markdown or github (repeatable), e.g. --format=sarif --output=r.sarif "
         "--report=markdown=r.md."),
    cl::value_desc("FORMAT=FILE"), cl::cat(RillCategory));
cl::list<std::string> RulesFiles(
    "rules", desc("Extra rules YAML file (repeatable); merged over the built-in rules."),
    cl::value_desc("FILE"), cl::cat(RillCategory));
cl::opt<unsigned> Jobs("j", desc("Number of translation units linted in parallel (0 = all cores)."),
                       cl::init(1), cl::value_desc("N"), cl::Prefix, cl::cat(RillCategory));
cl::opt<bool> FrameReport(
    "frame-report", desc("Compile the TUs and print every coroutine's exact frame size, sorted."),
    cl::init(false), cl::cat(RillCategory));
cl::opt<bool> FrameReportJson("frame-report-json",
                              desc("With --frame-report: print the frame sizes as JSON."),
                              cl::init(false), cl::cat(RillCategory));

// ---- Pull requests, CI and big repositories ----------------------------------------------------
cl::opt<std::string> ChangedSince("changed-since", desc(R"(
Lint only the TUs whose source or included project headers changed since the merge base of HEAD
with git REF, and report only findings on added or changed lines (every format).)"),
                                  cl::value_desc("REF"), cl::cat(RillCategory));
cl::opt<std::string> Baseline("baseline", desc(R"(
A SARIF log of an earlier run: report only findings whose fingerprint is not in it, and list its
findings that are gone as fixed (Markdown "Fixed").)"),
                              cl::value_desc("FILE.sarif"), cl::cat(RillCategory));
cl::opt<std::string> SarifCategory(
    "sarif-category", desc("SARIF runs[0].automationDetails.id (code scanning category)."),
    cl::value_desc("NAME"), cl::cat(RillCategory));
cl::opt<std::string> HelpUriBase(
    "help-uri-base",
    desc("SARIF helpUri of rill's checks: this URL + '<check>.md' (the docs/lint pages)."),
    cl::init(RILL_LINT_HELP_URI_BASE), cl::value_desc("URL"), cl::cat(RillCategory));
cl::opt<unsigned> MarkdownMaxChars("markdown-max-chars",
                                   desc("Hard size limit of the Markdown report (default 65000)."),
                                   cl::init(65000), cl::value_desc("N"), cl::cat(RillCategory));
cl::opt<std::string> CacheDir("cache-dir", desc(R"(
Cache results per TU in DIR: a TU whose preprocessed input, flags, configuration, rules and
rill-lint version are unchanged is not parsed again. Prints the hit rate.)"),
                              cl::value_desc("DIR"), cl::cat(RillCategory));
cl::opt<std::string> Shard("shard", desc(R"(
Lint shard I of N (1 <= I <= N): a stable 1/N of the TUs (sorted by path, every N-th), for a CI
matrix; join the SARIF logs with `rill-lint merge-sarif`.)"),
                           cl::value_desc("I/N"), cl::cat(RillCategory));

constexpr int kExitFindingsAsErrors = 1;
constexpr int kExitInputError = 2;

const char kDefaultChecks[] = "rill-*";

void printStats(const ClangTidyStats& Stats) {
  if (!Stats.errorsIgnored()) return;
  llvm::errs() << "Suppressed " << Stats.errorsIgnored() << " warnings (";
  llvm::StringRef Sep = "";
  if (Stats.ErrorsIgnoredNonUserCode) {
    llvm::errs() << Stats.ErrorsIgnoredNonUserCode << " in non-user code";
    Sep = ", ";
  }
  if (Stats.ErrorsIgnoredLineFilter) {
    llvm::errs() << Sep << Stats.ErrorsIgnoredLineFilter << " due to line filter";
    Sep = ", ";
  }
  if (Stats.ErrorsIgnoredNOLINT) {
    llvm::errs() << Sep << Stats.ErrorsIgnoredNOLINT << " NOLINT";
    Sep = ", ";
  }
  if (Stats.ErrorsIgnoredCheckFilter)
    llvm::errs() << Sep << Stats.ErrorsIgnoredCheckFilter << " with check filters";
  llvm::errs() << ").\n";
  if (Stats.ErrorsIgnoredNonUserCode)
    llvm::errs() << "Use -header-filter=.* to display errors from all non-system headers. Use "
                    "-system-headers to display errors from system headers as well.\n";
}

llvm::raw_ostream& error() {
  return llvm::WithColor::error(llvm::errs(), "rill-lint");
}

/// The absolute paths of the --rules files, joined for the rill.ExtraRulesFiles option.
std::string extraRulesOption() {
  std::string Joined;
  for (const std::string& F : RulesFiles) {
    llvm::SmallString<256> Abs(F);
    llvm::sys::fs::make_absolute(Abs);
    if (!Joined.empty()) Joined += ';';
    Joined += std::string(Abs);
  }
  return Joined;
}

/// Builds the options provider exactly like clang-tidy (defaults < .clang-tidy files < flags),
/// with rill's default checks and the --rules files as the rill.ExtraRulesFiles option.
/// Returns null after printing an error.
std::unique_ptr<ClangTidyOptionsProvider> createOptionsProvider(
    llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> FS) {
  ClangTidyGlobalOptions GlobalOptions;
  if (std::error_code Err = parseLineFilter(LineFilter, GlobalOptions)) {
    error() << "invalid --line-filter: " << Err.message() << "\n";
    return nullptr;
  }
  ClangTidyOptions DefaultOptions;
  DefaultOptions.Checks = kDefaultChecks;
  DefaultOptions.WarningsAsErrors = "";
  DefaultOptions.HeaderFilterRegex = HeaderFilter;
  DefaultOptions.ExcludeHeaderFilterRegex = ExcludeHeaderFilter;
  DefaultOptions.SystemHeaders = SystemHeaders;
  DefaultOptions.FormatStyle = FormatStyle;
  DefaultOptions.User = llvm::sys::Process::GetEnv("USER");

  ClangTidyOptions OverrideOptions;
  if (Checks.getNumOccurrences() > 0) OverrideOptions.Checks = Checks;
  if (WarningsAsErrors.getNumOccurrences() > 0) OverrideOptions.WarningsAsErrors = WarningsAsErrors;
  if (HeaderFilter.getNumOccurrences() > 0) OverrideOptions.HeaderFilterRegex = HeaderFilter;
  if (ExcludeHeaderFilter.getNumOccurrences() > 0)
    OverrideOptions.ExcludeHeaderFilterRegex = ExcludeHeaderFilter;
  if (SystemHeaders.getNumOccurrences() > 0) OverrideOptions.SystemHeaders = SystemHeaders;
  if (FormatStyle.getNumOccurrences() > 0) OverrideOptions.FormatStyle = FormatStyle;
  if (UseColor.getNumOccurrences() > 0) OverrideOptions.UseColor = UseColor;
  if (!RulesFiles.empty())
    OverrideOptions.CheckOptions["rill.ExtraRulesFiles"] =
        ClangTidyOptions::ClangTidyValue(extraRulesOption());

  auto LoadConfig = [&](llvm::StringRef Configuration,
                        llvm::StringRef Source) -> std::unique_ptr<ClangTidyOptionsProvider> {
    llvm::ErrorOr<ClangTidyOptions> Parsed =
        parseConfiguration(llvm::MemoryBufferRef(Configuration, Source));
    if (Parsed)
      return std::make_unique<ConfigOptionsProvider>(
          std::move(GlobalOptions), ClangTidyOptions::getDefaults().merge(DefaultOptions, 0),
          std::move(*Parsed), std::move(OverrideOptions), std::move(FS));
    error() << "invalid configuration in " << Source << ": " << Parsed.getError().message() << "\n";
    return nullptr;
  };
  if (ConfigFile.getNumOccurrences() > 0) {
    if (Config.getNumOccurrences() > 0) {
      error() << "--config-file and --config are mutually exclusive. Specify only one.\n";
      return nullptr;
    }
    auto Text = llvm::MemoryBuffer::getFile(ConfigFile);
    if (std::error_code EC = Text.getError()) {
      error() << "can't read config-file '" << ConfigFile << "': " << EC.message() << "\n";
      return nullptr;
    }
    return LoadConfig((*Text)->getBuffer(), ConfigFile);
  }
  if (Config.getNumOccurrences() > 0) return LoadConfig(Config, "<command-line-config>");
  return std::make_unique<FileOptionsProvider>(std::move(GlobalOptions), std::move(DefaultOptions),
                                               std::move(OverrideOptions), std::move(FS));
}

/// A file system with its own working directory (ClangTool changes it per compile command), so
/// parallel workers do not race on the process CWD. Null (after an error) on a bad --vfsoverlay.
llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> createBaseFS() {
  llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> Physical(
      llvm::vfs::createPhysicalFileSystem().release());
  llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> BaseFS(
      new llvm::vfs::OverlayFileSystem(Physical));
  if (!VfsOverlay.empty()) {
    auto Buffer = BaseFS->getBufferForFile(VfsOverlay);
    if (!Buffer) {
      error() << "can't load virtual filesystem overlay file '" << VfsOverlay
              << "': " << Buffer.getError().message() << "\n";
      return nullptr;
    }
    auto FS = llvm::vfs::getVFSFromYAML(std::move(*Buffer), nullptr, VfsOverlay);
    if (!FS) {
      error() << "invalid virtual filesystem overlay file '" << VfsOverlay << "'\n";
      return nullptr;
    }
    BaseFS->pushOverlay(std::move(FS));
  }
  return BaseFS;
}

std::string makeAbsolute(llvm::StringRef Input) {
  llvm::SmallString<256> P(Input);
  llvm::sys::fs::make_absolute(P);
  llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

bool isSourceFile(llvm::StringRef Path) {
  llvm::StringRef Ext = llvm::sys::path::extension(Path);
  return Ext == ".cpp" || Ext == ".cc" || Ext == ".cxx" || Ext == ".c++" || Ext == ".C" ||
         Ext == ".c";
}

/// Expands the positional sources: files are kept (missing ones reported), directories become
/// the compilation database's files under them (or, without a database, every C/C++ source file
/// found recursively). With no sources and a database from -p, every file of the database.
/// Missing paths are appended to \p Missing (reported only when TUs are linted: like clang-tidy,
/// --list-checks and the other configuration queries ignore the sources, e.g. run-clang-tidy's
/// `--list-checks -` probe).
std::vector<std::string> resolveSources(const CompilationDatabase* JsonDB,
                                        std::vector<std::string>& Missing) {
  std::vector<std::string> Out;
  llvm::StringSet<> Seen;
  auto Add = [&](const std::string& P) {
    if (Seen.insert(P).second) Out.push_back(P);
  };
  // Database entries that are not C/C++ sources (assembly .S, .asm, ...) are skipped, as
  // clang-tidy's run-clang-tidy.py does.
  if (SourcePaths.empty() && JsonDB) {
    for (const std::string& F : JsonDB->getAllFiles())
      if (isSourceFile(F)) Add(makeAbsolute(F));
    return Out;
  }
  for (const std::string& Src : SourcePaths) {
    std::string Abs = makeAbsolute(Src);
    if (llvm::sys::fs::is_directory(Abs)) {
      std::string Prefix = Abs + "/";
      size_t Before = Out.size();
      if (JsonDB) {
        for (const std::string& F : JsonDB->getAllFiles()) {
          std::string FA = makeAbsolute(F);
          if (llvm::StringRef(FA).starts_with(Prefix) && isSourceFile(FA)) Add(FA);
        }
      } else {
        std::error_code EC;
        std::vector<std::string> Found;
        for (llvm::sys::fs::recursive_directory_iterator I(Abs, EC), E; I != E && !EC;
             I.increment(EC))
          if (isSourceFile(I->path())) Found.push_back(I->path());
        llvm::sort(Found);
        for (const std::string& F : Found)
          Add(F);
      }
      if (Out.size() == Before)
        llvm::WithColor::warning(llvm::errs(), "rill-lint")
            << "no source files under directory '" << Src << "'\n";
      continue;
    }
    if (!llvm::sys::fs::exists(Abs)) {
      Missing.push_back(Src);
      continue;
    }
    Add(Abs);
  }
  return Out;
}

/// Like getAllChecksAndOptions, for the rill-* checks only (constructing every upstream check
/// costs a noticeable fraction of a second per process, e.g. per TU under CMake's
/// CXX_CLANG_TIDY): their names and the options they read (plus RillOptions.def's).
NamesAndOptions rillChecksAndOptions() {
  NamesAndOptions Result;
  ClangTidyOptions Opts;
  Opts.Checks = "rill-*";
  ClangTidyContext Context(std::make_unique<DefaultOptionsProvider>(ClangTidyGlobalOptions(), Opts),
                           /*AllowEnablingAnalyzerAlphaCheckers=*/false);
  ClangTidyCheckFactories Factories;
  for (const ClangTidyModuleRegistry::entry& Module : ClangTidyModuleRegistry::entries())
    Module.instantiate()->addCheckFactories(Factories);
  Context.setOptionsCollector(&Result.Options);
  for (const auto& Factory : Factories) {
    if (!Factory.getKey().starts_with("rill-")) continue;
    Result.Names.insert(Factory.getKey());
    Factory.getValue()(Factory.getKey(), &Context);
  }
  return Result;
}

/// Warns about unknown checks (unless \p RillOnly) and unknown check options in \p Raw, with a
/// "did you mean" when a known option is close. With \p RillOnly only rill's options
/// ("rill.*", "rill-<check>.*") are looked at. Known options are the ones the checks read
/// (collected by getAllChecksAndOptions) plus RillOptions.def. Returns false when something
/// was unknown.
bool reportUnknownConfig(const std::vector<std::pair<ClangTidyOptions, std::string>>& Raw,
                         const NamesAndOptions& Valid, bool RillOnly, llvm::StringRef Tag) {
  llvm::StringSet<> Known;
  for (const auto& K : Valid.Options)
    Known.insert(K.getKey());
  for (const rill::lint::RillOptionInfo& O : rill::lint::registeredOptions())
    Known.insert(O.Name);
  bool AllKnown = true;
  for (const auto& [Opts, Source] : Raw) {
    if (Opts.Checks && !RillOnly) {
      GlobList Globs(*Opts.Checks);  // named: its items hold regexes used below
      for (const auto& Item : Globs.getItems()) {
        if (Item.Text.starts_with("clang-diagnostic")) continue;
        if (llvm::none_of(Valid.Names.keys(),
                          [&](llvm::StringRef S) { return Item.Regex.match(S); })) {
          AllKnown = false;
          auto& W = llvm::WithColor::warning(llvm::errs(), Source);
          if (Item.Text.contains('*'))
            W << "check glob '" << Item.Text << "' doesn't match any known check";
          else
            W << "unknown check '" << Item.Text << "'";
          W << " [" << Tag << "]\n";
        }
      }
    }
    for (const auto& KV : Opts.CheckOptions) {
      llvm::StringRef Key = KV.getKey();
      if (Known.contains(Key)) continue;
      if (RillOnly && !rill::lint::isRillOptionKey(Key)) continue;
      AllKnown = false;
      auto& W = llvm::WithColor::warning(llvm::errs(), Source)
                << "unknown " << (rill::lint::isRillOptionKey(Key) ? "rill " : "")
                << "check option '" << Key << "'";
      std::string Close = rill::lint::closestOption(Key, Known);
      if (!Close.empty()) W << "; did you mean '" << Close << "'?";
      W << " [" << Tag << "]\n";
    }
  }
  return AllKnown;
}

/// Result of linting one TU.
struct TUResult {
  std::vector<ClangTidyError> Errors;
  ClangTidyStats Stats;
  bool FromCache = false;
};

/// `rill-lint merge-sarif A.sarif B.sarif ... -o all.sarif`
int mergeSarifMain(int argc, const char** argv) {
  std::vector<std::string> Inputs;
  std::string Out;
  for (int I = 2; I < argc; ++I) {
    llvm::StringRef A = argv[I];
    if ((A == "-o" || A == "--output") && I + 1 < argc) {
      Out = argv[++I];
    } else if (A.consume_front("-o=") || A.consume_front("--output=")) {
      Out = A.str();
    } else if (A == "-h" || A == "--help") {
      llvm::outs() << "USAGE: rill-lint merge-sarif A.sarif B.sarif ... -o all.sarif\n"
                      "Joins SARIF logs (e.g. the --shard runs of a CI matrix) into one.\n";
      return 0;
    } else if (A.starts_with("-")) {
      error() << "merge-sarif: unknown option '" << A << "'\n";
      return kExitInputError;
    } else {
      Inputs.push_back(A.str());
    }
  }
  if (Inputs.empty() || Out.empty()) {
    error() << "usage: rill-lint merge-sarif A.sarif B.sarif ... -o all.sarif\n";
    return kExitInputError;
  }
  std::string Text;
  llvm::raw_string_ostream OS(Text);
  if (llvm::Error E = rill::lint::report::mergeSarif(Inputs, OS)) {
    error() << llvm::toString(std::move(E)) << "\n";
    return kExitInputError;
  }
  std::error_code EC;
  llvm::raw_fd_ostream File(Out, EC, llvm::sys::fs::OF_Text);
  if (EC) {
    error() << "cannot open output file '" << Out << "': " << EC.message() << "\n";
    return kExitInputError;
  }
  File << Text;
  return 0;
}

/// Identity of this rill-lint for the cache key: version and the binary's size and time.
std::string toolIdentity(const char* Argv0) {
  std::string Exe = llvm::sys::fs::getMainExecutable(Argv0, reinterpret_cast<void*>(&toolIdentity));
  llvm::sys::fs::file_status St;
  std::string Id = std::string(RILL_LINT_VERSION) + "/" + LLVM_VERSION_STRING;
  if (!llvm::sys::fs::status(Exe, St))
    Id += "/" + std::to_string(St.getSize()) + "/" +
          std::to_string(St.getLastModificationTime().time_since_epoch().count());
  return Id;
}

}  // namespace

int main(int argc, const char** argv) {
  llvm::InitLLVM X(argc, argv);
  if (argc >= 2 && llvm::StringRef(argv[1]) == "merge-sarif") return mergeSarifMain(argc, argv);

  // Split off "--" compile arguments (a fixed compilation database), like CommonOptionsParser.
  std::string FixedError;
  int ArgCount = argc;
  std::unique_ptr<CompilationDatabase> FixedDB =
      FixedCompilationDatabase::loadFromCommandLine(ArgCount, argv, FixedError);
  // Like clang-tidy (CommonOptionsParser): the driver's complaints while stripping the input
  // files from the "--" command (e.g. "cannot specify -o when generating multiple output files"
  // for CMake's `<compiler> ... -o x.o -c f.cpp`) are not errors when a database was built; the
  // output flags are stripped again before each TU is parsed.
  if (!FixedDB && !FixedError.empty()) {
    error() << FixedError << "\n";
    return kExitInputError;
  }

  cl::HideUnrelatedOptions({&TidyCategory, &RillCategory});
  cl::extrahelp Help(R"(
rill-lint runs the rill coroutine checks (rill-*) and any clang-tidy check, with clang-tidy's
flags, configuration files (.clang-tidy, --config-file) and NOLINT comments.

Examples:
  rill-lint src/server.cpp -- -std=c++20 -Iinclude
  rill-lint -p build                          # every file of build/compile_commands.json
  rill-lint -p build src/ --format=sarif --output rill.sarif -j 2
  rill-lint -p build src/ --format=sarif --output rill.sarif --report=markdown=rill.md
  rill-lint -p build --frame-report           # exact coroutine frame sizes

Exit status: 0 clean, 1 findings promoted by --warnings-as-errors, 2 usage or input errors
(missing file, bad rules YAML, broken compile_commands.json, a TU that fails to parse).
Docs: docs/lint/README.md.
)");
  // --version: rill-lint's version, then (like clang-tidy) the LLVM it is built on.
  cl::AddExtraVersionPrinter([](llvm::raw_ostream& OS) {
    OS << "rill-lint version " << RILL_LINT_VERSION << " (clang-tidy " << LLVM_VERSION_STRING
       << " with the rill module)\n";
  });
  if (!cl::ParseCommandLineOptions(ArgCount, argv, "rill-lint: coroutine checks for rill\n",
                                   &llvm::errs()))
    return kExitInputError;
  // --report FORMAT=FILE: checked before any TU is linted, so a typo costs no lint run.
  std::vector<std::pair<OutputFormat, std::string>> Extra;
  for (const std::string& R : ExtraReports) {
    const auto [Name, File] = llvm::StringRef(R).split('=');
    std::optional<OutputFormat> F;
    if (Name == "sarif") F = OutputFormat::Sarif;
    if (Name == "markdown") F = OutputFormat::Markdown;
    if (Name == "github") F = OutputFormat::GitHub;
    if (!F || File.empty()) {
      error() << "--report expects FORMAT=FILE with FORMAT sarif, markdown or github, got '" << R
              << "'\n";
      return kExitInputError;
    }
    Extra.emplace_back(*F, File.str());
  }

  // Compilation database: "--" args, else -p DIR, else auto-detected from the first source.
  std::unique_ptr<CompilationDatabase> DB;
  const CompilationDatabase* JsonDB = nullptr;
  if (FixedDB) {
    DB = std::move(FixedDB);
  } else if (!BuildPath.empty()) {
    std::string Err;
    DB = CompilationDatabase::autoDetectFromDirectory(BuildPath, Err);
    if (!DB) {
      error() << "cannot load compilation database from '" << BuildPath << "': " << Err << "\n";
      return kExitInputError;
    }
    JsonDB = DB.get();
  } else if (!SourcePaths.empty()) {
    std::string Err;
    DB = CompilationDatabase::autoDetectFromSource(makeAbsolute(SourcePaths.front()), Err);
    if (DB) {
      JsonDB = DB.get();
    } else {
      llvm::errs() << "Error while trying to load a compilation database:\n"
                   << Err << "Running without flags.\n";
      DB = std::make_unique<FixedCompilationDatabase>(".", std::vector<std::string>());
    }
  } else {
    DB = std::make_unique<FixedCompilationDatabase>(".", std::vector<std::string>());
  }
  if (JsonDB) {
    // Headers and other files without an entry borrow the closest entry's flags.
    DB = inferMissingCompileCommands(std::move(DB));
    JsonDB = DB.get();
  }
  auto Adjusting = std::make_unique<ArgumentsAdjustingCompilations>(std::move(DB));
  Adjusting->appendArgumentsAdjuster(
      getInsertArgumentAdjuster(std::vector<std::string>(ArgsBefore.begin(), ArgsBefore.end()),
                                ArgumentInsertPosition::BEGIN));
  Adjusting->appendArgumentsAdjuster(getInsertArgumentAdjuster(
      std::vector<std::string>(ArgsAfter.begin(), ArgsAfter.end()), ArgumentInsertPosition::END));
  std::unique_ptr<CompilationDatabase> Compilations = std::move(Adjusting);
  if (JsonDB) JsonDB = Compilations.get();

  bool InputError = false;
  std::vector<std::string> MissingSources;
  std::vector<std::string> Files = resolveSources(JsonDB, MissingSources);
  auto ReportMissingSources = [&] {
    for (const std::string& M : MissingSources)
      error() << "no such file or directory: '" << M << "'\n";
    if (!MissingSources.empty()) InputError = true;
  };

  // --rules files are validated up front: a bad file is an input error (exit 2), never a
  // silently smaller rule set.
  if (!RulesFiles.empty()) {
    std::string Err;
    std::vector<std::string> Abs;
    for (const std::string& F : RulesFiles)
      Abs.push_back(makeAbsolute(F));
    if (!rill::lint::loadRules(Abs, &Err)) {
      error() << Err << "\n";
      return kExitInputError;
    }
  }

  llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> BaseFS = createBaseFS();
  if (!BaseFS) return kExitInputError;
  auto OwningProvider = createOptionsProvider(BaseFS);
  if (!OwningProvider) return kExitInputError;
  ClangTidyOptionsProvider* Provider = OwningProvider.get();

  std::string FilePath = makeAbsolute(Files.empty() ? std::string("dummy") : Files.front());
  ClangTidyOptions Effective = Provider->getOptions(FilePath);
  std::vector<std::string> EnabledChecks =
      getCheckNames(Effective, AllowEnablingAnalyzerAlphaCheckers);

  if (ExplainConfig) {
    auto Raw = Provider->getRawOptions(FilePath);
    for (const std::string& Check : EnabledChecks)
      for (const auto& [Opts, Source] : llvm::reverse(Raw))
        if (Opts.Checks && GlobList(*Opts.Checks).contains(Check)) {
          llvm::outs() << "'" << Check << "' is enabled in the " << Source << ".\n";
          break;
        }
    return 0;
  }
  if (ListChecks) {
    if (EnabledChecks.empty() && !AllowNoChecks) {
      llvm::errs() << "No checks enabled.\n";
      return kExitInputError;
    }
    llvm::outs() << "Enabled checks:";
    for (const std::string& C : EnabledChecks)
      llvm::outs() << "\n    " << C;
    llvm::outs() << "\n\n";
    return 0;
  }
  if (DumpConfig) {
    Effective.CheckOptions = getCheckOptions(Effective, AllowEnablingAnalyzerAlphaCheckers);
    llvm::outs() << configurationAsText(ClangTidyOptions::getDefaults().merge(Effective, 0))
                 << "\n";
    return 0;
  }
  if (VerifyConfig) {
    // Like clang-tidy's --verify-config, knowing rill's options (RillOptions.def).
    NamesAndOptions Valid = getAllChecksAndOptions(AllowEnablingAnalyzerAlphaCheckers);
    bool AnyInvalid = !reportUnknownConfig(Provider->getRawOptions(FilePath), Valid,
                                          /*RillOnly=*/false, "-verify-config");
    if (AnyInvalid) return kExitInputError;
    llvm::outs() << "No config errors detected.\n";
    return 0;
  }

  ReportMissingSources();
  if (FrameReport) {
#ifdef RILL_HAVE_FRAME_REPORT
    if (Files.empty()) {
      error() << "no input files specified\n";
      return kExitInputError;
    }
    rill::lint::FrameReportOptions FO;
    FO.JSON = FrameReportJson;
    int RC = rill::lint::runFrameReport(*Compilations, Files, llvm::outs(), llvm::errs(), FO);
    return InputError ? kExitInputError : RC;
#else
    error() << "--frame-report is not available in this build\n";
    return kExitInputError;
#endif
  }

  if (EnabledChecks.empty()) {
    if (AllowNoChecks) {
      llvm::outs() << "No checks enabled.\n";
      return InputError ? kExitInputError : 0;
    }
    error() << "no checks enabled\n";
    return kExitInputError;
  }
  if (Files.empty()) {
    if (!InputError) error() << "no input files specified (give source files, or -p BUILD_DIR)\n";
    return kExitInputError;
  }
  llvm::SmallString<256> CwdBuf;
  llvm::sys::fs::current_path(CwdBuf);
  const std::string Cwd(CwdBuf);

  // --shard I/N: every N-th TU of the list sorted by path relative to the working directory
  // (the same on every machine of a CI matrix).
  if (!Shard.empty()) {
    auto [IS, NS] = llvm::StringRef(Shard).split('/');
    unsigned SI = 0, SN = 0;
    if (IS.getAsInteger(10, SI) || NS.getAsInteger(10, SN) || SN == 0 || SI == 0 || SI > SN) {
      error() << "--shard expects I/N with 1 <= I <= N, got '" << Shard << "'\n";
      return kExitInputError;
    }
    std::vector<std::string> Sorted = Files;
    llvm::sort(Sorted, [&](const std::string& A, const std::string& B) {
      return llvm::StringRef(A).drop_front(llvm::StringRef(A).starts_with(Cwd) ? Cwd.size() : 0) <
             llvm::StringRef(B).drop_front(llvm::StringRef(B).starts_with(Cwd) ? Cwd.size() : 0);
    });
    llvm::StringSet<> Mine;
    for (size_t I = SI - 1; I < Sorted.size(); I += SN)
      Mine.insert(Sorted[I]);
    llvm::erase_if(Files, [&](const std::string& F) { return !Mine.contains(F); });
  }

  // --changed-since REF: the TUs whose main file, or a project header they include, changed.
  std::optional<rill::lint::tool::ChangedLines> Changed;
  if (!ChangedSince.empty()) {
    llvm::Expected<rill::lint::tool::ChangedLines> C =
        rill::lint::tool::changedLinesSince(ChangedSince, Cwd);
    if (!C) {
      error() << llvm::toString(C.takeError()) << "\n";
      return kExitInputError;
    }
    Changed = std::move(*C);
    size_t Before = Files.size();
    llvm::StringSet<> TUs;
    for (const std::string& F : Files)
      TUs.insert(F);
    bool HeaderChanged = false;
    for (const auto& E : Changed->Files)
      HeaderChanged = HeaderChanged || !TUs.contains(E.getKey());
    std::vector<std::string> Affected;
    std::vector<std::string> Rest;
    for (const std::string& F : Files)
      (Changed->containsFile(F) ? Affected : Rest).push_back(F);
    if (HeaderChanged && !Rest.empty()) {
      std::vector<std::vector<std::string>> Deps =
          rill::lint::tool::scanIncludes(*Compilations, Rest, /*WithSystemHeaders=*/false);
      for (size_t I = 0; I < Rest.size(); ++I)
        if (llvm::any_of(Deps[I], [&](const std::string& D) { return Changed->containsFile(D); }))
          Affected.push_back(Rest[I]);
    }
    llvm::StringSet<> Keep;
    for (const std::string& F : Affected)
      Keep.insert(F);
    llvm::erase_if(Files, [&](const std::string& F) { return !Keep.contains(F); });
    if (!Quiet)
      llvm::errs() << "rill-lint: --changed-since " << ChangedSince << ": merge base "
                   << llvm::StringRef(Changed->MergeBase).take_front(12) << ", "
                   << Changed->Files.size() << " changed files, " << Files.size() << " of "
                   << Before << " TUs affected\n";
  }

  // Baseline: read up front, so a bad file costs no lint run.
  std::optional<std::vector<rill::lint::report::Finding>> BaselineFindings;
  if (!Baseline.empty()) {
    auto B = rill::lint::report::readSarif(Baseline, Cwd);
    if (!B) {
      error() << "--baseline: " << llvm::toString(B.takeError()) << "\n";
      return kExitInputError;
    }
    BaselineFindings = std::move(*B);
  }

  // --cache-dir: keys are computed here, sequentially (the options provider is not
  // thread-safe), from everything that changes a TU's result but its included files.
  std::optional<rill::lint::tool::ResultCache> Cache;
  std::vector<std::string> CacheKeys(Files.size());
  if (!CacheDir.empty() && !EnableCheckProfile && StoreCheckProfile.empty()) {
    Cache.emplace(makeAbsolute(CacheDir), toolIdentity(argv[0]));
    std::string Common = "line-filter=" + LineFilter + "\nfix-notes=" +
                         std::to_string(FixNotes) + "\nmodule-headers=" +
                         std::to_string(EnableModuleHeadersParsing) + "\nalpha=" +
                         std::to_string(AllowEnablingAnalyzerAlphaCheckers) + "\nvfs=" +
                         VfsOverlay + "\n";
    for (size_t I = 0; I < Files.size(); ++I) {
      std::vector<std::string> Parts{Common};
      for (const CompileCommand& C : Compilations->getCompileCommands(Files[I])) {
        std::string Cmd = C.Directory + "\n" + C.Filename;
        for (const std::string& A : C.CommandLine)
          Cmd += "\n" + A;
        Parts.push_back(std::move(Cmd));
      }
      ClangTidyOptions O = Provider->getOptions(Files[I]);
      Parts.push_back(configurationAsText(O));
      for (const char* Key : {"rill.RulesFiles", "rill.ExtraRulesFiles"}) {
        auto It = O.CheckOptions.find(Key);
        if (It == O.CheckOptions.end()) continue;
        for (const std::string& RF : rill::lint::splitRulesFileList(It->second.Value))
          Parts.push_back(RF + "=" + rill::lint::tool::hashFile(makeAbsolute(RF)));
      }
      CacheKeys[I] = Cache->key(Files[I], Parts);
    }
  }

  // Rules named in configuration files (CheckOptions rill.RulesFiles) are input too: validate
  // them per file before linting so a typo is a clear error, not a silent fallback.
  {
    llvm::StringSet<> Checked;
    for (const std::string& F : Files) {
      ClangTidyOptions O = Provider->getOptions(F);
      auto It = O.CheckOptions.find("rill.RulesFiles");
      if (It == O.CheckOptions.end()) continue;
      std::vector<std::string> Resolved =
          rill::lint::resolveConfigRulesFiles(It->second.Value, F);
      if (!Checked.insert(llvm::join(Resolved, ";")).second) continue;
      std::string Err;
      if (!rill::lint::loadRules(Resolved, &Err)) {
        error() << Err << " (from CheckOptions rill.RulesFiles)\n";
        return kExitInputError;
      }
    }
  }

  // A misspelt rill option would silently keep its default: warn (the run goes on, as clang-tidy
  // does for unknown options; --verify-config makes them errors).
  {
    NamesAndOptions Valid = rillChecksAndOptions();
    std::vector<std::pair<ClangTidyOptions, std::string>> Raw;
    llvm::StringSet<> Sources;
    for (const std::string& F : Files)
      for (auto& [Opts, Source] : Provider->getRawOptions(F))
        if (Sources.insert(Source).second) Raw.emplace_back(std::move(Opts), std::move(Source));
    reportUnknownConfig(Raw, Valid, /*RillOnly=*/true, "rill-lint");
  }

  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmParsers();

  // Lint: one ClangTidyContext per TU so TUs can run on parallel workers (-j).
  std::vector<TUResult> Results(Files.size());
  bool SetupFailed = false;
  std::mutex SetupMutex;
  auto LintOne = [&](size_t I) {
    if (Cache) {
      if (std::optional<rill::lint::tool::CachedResult> Hit = Cache->lookup(CacheKeys[I])) {
        Results[I].Errors = std::move(Hit->Errors);
        Results[I].Stats = Hit->Stats;
        Results[I].FromCache = true;
        return;
      }
    }
    auto FS = createBaseFS();
    std::unique_ptr<ClangTidyOptionsProvider> P = FS ? createOptionsProvider(FS) : nullptr;
    if (!P) {
      std::lock_guard<std::mutex> L(SetupMutex);
      SetupFailed = true;
      return;
    }
    ClangTidyContext Context(std::move(P), AllowEnablingAnalyzerAlphaCheckers,
                             EnableModuleHeadersParsing);
    std::string Profile =
        StoreCheckProfile.empty() ? std::string() : makeAbsolute(StoreCheckProfile);
    Results[I].Errors =
        runClangTidy(Context, *Compilations, {Files[I]}, FS, FixNotes, EnableCheckProfile, Profile);
    Results[I].Stats = Context.getStats();
    if (Cache) {
      // The files this TU read, system headers included, validate the entry next time.
      std::vector<std::vector<std::string>> Deps =
          rill::lint::tool::scanIncludes(*Compilations, {Files[I]}, /*WithSystemHeaders=*/true);
      rill::lint::tool::CachedResult R{Results[I].Errors, Results[I].Stats};
      Cache->store(CacheKeys[I], R, Deps.front());
    }
  };
  unsigned NJobs = Jobs == 0 ? llvm::hardware_concurrency().compute_thread_count() : Jobs;
  if (NJobs <= 1 || Files.size() == 1) {
    for (size_t I = 0; I < Files.size(); ++I)
      LintOne(I);
  } else {
    llvm::DefaultThreadPool Pool(llvm::hardware_concurrency(NJobs));
    for (size_t I = 0; I < Files.size(); ++I)
      Pool.async([&, I] { LintOne(I); });
    Pool.wait();
  }
  if (SetupFailed) return kExitInputError;

  std::vector<rill::lint::report::ToolNotification> Notifications;
  for (size_t I = 0; I < Results.size(); ++I) {
    for (const ClangTidyError& E : Results[I].Errors) {
      if (E.DiagLevel != ClangTidyError::Error || E.IsWarningAsError) continue;
      rill::lint::report::ToolNotification N;
      N.Loc.File = Files[I];
      N.Message = "failed to parse " + Files[I] + ": " + E.Message.Message +
                  "; its findings are incomplete";
      Notifications.push_back(std::move(N));
      break;
    }
  }
  if (Cache && !Quiet) {
    size_t Hits = llvm::count_if(Results, [](const TUResult& R) { return R.FromCache; });
    llvm::errs() << "rill-lint: cache: " << Hits << " of " << Results.size()
                 << " TUs from the cache (" << (Results.empty() ? 100 : Hits * 100 / Results.size())
                 << "% hit rate)\n";
  }

  std::vector<ClangTidyError> Errors;
  ClangTidyStats Stats;
  for (TUResult& R : Results) {
    for (ClangTidyError& E : R.Errors)
      Errors.push_back(std::move(E));
    Stats.ErrorsDisplayed += R.Stats.ErrorsDisplayed;
    Stats.ErrorsIgnoredCheckFilter += R.Stats.ErrorsIgnoredCheckFilter;
    Stats.ErrorsIgnoredNOLINT += R.Stats.ErrorsIgnoredNOLINT;
    Stats.ErrorsIgnoredNonUserCode += R.Stats.ErrorsIgnoredNonUserCode;
    Stats.ErrorsIgnoredLineFilter += R.Stats.ErrorsIgnoredLineFilter;
  }
  // The same header diagnostic can come from several TUs: keep the first.
  {
    llvm::StringSet<> Seen;
    llvm::erase_if(Errors, [&](const ClangTidyError& E) {
      std::string Key = E.DiagnosticName + "\x1f" + E.Message.FilePath + "\x1f" +
                        std::to_string(E.Message.FileOffset) + "\x1f" + E.Message.Message;
      return !Seen.insert(Key).second;
    });
  }

  // The one list of findings, and the filters on it (changed lines, baseline): applied before
  // any view, to Errors (the text view, --fix, --export-fixes) and Findings alike.
  std::vector<rill::lint::report::Finding> Findings =
      rill::lint::report::collectFindings(Errors, *BaseFS);
  rill::lint::report::assignFingerprints(Findings, Cwd, *BaseFS);
  std::vector<rill::lint::report::Finding> Fixed;
  std::string FilterDescription;
  if (Changed || BaselineFindings) {
    std::vector<bool> Keep(Findings.size(), true);
    for (size_t I = 0; I < Findings.size(); ++I) {
      const rill::lint::report::Finding& F = Findings[I];
      // Compiler errors stay: a TU that no longer parses is news wherever the error is.
      bool CompilerError = F.IsError && !F.IsWarningAsError &&
                           llvm::StringRef(F.Check).starts_with("clang-diagnostic-");
      if (Changed && !CompilerError && !Changed->contains(F.Loc.File, F.Loc.Line))
        Keep[I] = false;
    }
    if (BaselineFindings) {
      llvm::StringSet<> Old, Now;
      for (const auto& B : *BaselineFindings)
        Old.insert(B.Fingerprint);
      for (const auto& F : Findings)
        Now.insert(F.Fingerprint);
      for (size_t I = 0; I < Findings.size(); ++I)
        if (Old.contains(Findings[I].Fingerprint)) Keep[I] = false;
      // Fixed: baseline findings gone from this run, among the files this run looked at (all
      // of them, unless the run was narrowed by --changed-since or --shard).
      llvm::StringSet<> Scope;
      bool Narrowed = Changed || !Shard.empty();
      for (const std::string& F : Files)
        Scope.insert(F);
      for (const auto& F : Findings)
        Scope.insert(F.Loc.File);
      if (Changed)
        for (const auto& E : Changed->Files)
          Scope.insert(E.getKey());
      for (const auto& B : *BaselineFindings)
        if (!Now.contains(B.Fingerprint) && (!Narrowed || Scope.contains(B.Loc.File)))
          Fixed.push_back(B);
    }
    std::vector<ClangTidyError> KeptErrors;
    std::vector<rill::lint::report::Finding> KeptFindings;
    for (size_t I = 0; I < Findings.size(); ++I) {
      if (!Keep[I]) continue;
      KeptErrors.push_back(std::move(Errors[I]));
      KeptFindings.push_back(std::move(Findings[I]));
    }
    if (!Quiet)
      llvm::errs() << "rill-lint: " << KeptFindings.size() << " of " << Findings.size()
                   << " findings are new"
                   << (Changed ? " on changed lines" : "")
                   << (BaselineFindings ? " against the baseline" : "")
                   << (BaselineFindings ? ", " + std::to_string(Fixed.size()) + " fixed" : "")
                   << "\n";
    Errors = std::move(KeptErrors);
    Findings = std::move(KeptFindings);
    if (Changed)
      FilterDescription = "Findings on lines added or changed since `" +
                          Changed->MergeBase.substr(0, 12) + "` (the merge base with `" +
                          ChangedSince + "`)";
    if (BaselineFindings)
      FilterDescription += std::string(FilterDescription.empty() ? "Findings" : ",") +
                           " not in the baseline `" + Baseline + "`";
    FilterDescription += ".";
  }

  bool FoundCompilerErrors = llvm::any_of(Errors, [](const ClangTidyError& E) {
    return E.DiagLevel == ClangTidyError::Error && !E.IsWarningAsError;
  });
  FixBehaviour Behaviour = FixNotes ? FB_FixNotes : (Fix || FixErrors) ? FB_Fix : FB_NoFix;
  const bool DisableFixes = FoundCompilerErrors && !FixErrors;

  // Where the report goes.
  std::optional<llvm::raw_fd_ostream> OutFile;
  int OutFd = -1;
  if (!OutputFile.empty()) {
    std::error_code EC = llvm::sys::fs::openFileForWrite(
        OutputFile, OutFd, llvm::sys::fs::CD_CreateAlways, llvm::sys::fs::OF_Text);
    if (!EC) OutFile.emplace(OutFd, /*shouldClose=*/true);
    if (EC) {
      error() << "cannot open output file '" << OutputFile << "': " << EC.message() << "\n";
      return kExitInputError;
    }
  }

  // The text view (and applying fixes) is clang-tidy's handleErrors, which prints to stdout.
  // Redirect stdout around it: into --output for the text format; to stderr for other formats
  // (so --fix messages never corrupt a SARIF/Markdown/GitHub report on stdout).
  unsigned WErrorCount = 0;
  ClangTidyContext ReportContext(createOptionsProvider(BaseFS), AllowEnablingAnalyzerAlphaCheckers);
  auto RunHandleErrors = [&](int TargetFd) {
    llvm::outs().flush();
    int Saved = -1;
    if (TargetFd >= 0) {
      Saved = ::dup(1);
      ::dup2(TargetFd, 1);
    }
    handleErrors(Errors, ReportContext, DisableFixes ? FB_NoFix : Behaviour, WErrorCount, BaseFS);
    llvm::outs().flush();
    if (Saved >= 0) {
      ::dup2(Saved, 1);
      ::close(Saved);
    }
  };
  if (Format == OutputFormat::Text) {
    if (OutFile) {
      OutFile->flush();
      RunHandleErrors(OutFd);
    } else {
      RunHandleErrors(-1);
    }
  } else {
    if (Behaviour != FB_NoFix) RunHandleErrors(2);
    for (const ClangTidyError& E : Errors)
      WErrorCount += E.IsWarningAsError;
  }
  // The structured reports: --format's (unless text) and every --report, from one set of
  // findings.
  std::vector<std::pair<OutputFormat, llvm::raw_ostream*>> Reports;
  if (Format != OutputFormat::Text)
    Reports.emplace_back(Format,
                         OutFile ? static_cast<llvm::raw_ostream*>(&*OutFile) : &llvm::outs());
  std::vector<std::unique_ptr<llvm::raw_fd_ostream>> ExtraFiles;
  for (const auto& [F, Path] : Extra) {
    std::error_code EC;
    ExtraFiles.push_back(std::make_unique<llvm::raw_fd_ostream>(Path, EC, llvm::sys::fs::OF_Text));
    if (EC) {
      error() << "cannot open report file '" << Path << "': " << EC.message() << "\n";
      return kExitInputError;
    }
    Reports.emplace_back(F, ExtraFiles.back().get());
  }
  if (!Reports.empty()) {
    rill::lint::report::RenderOptions RO;
    RO.ToolVersion = RILL_LINT_VERSION;
    RO.SourceRoot = Cwd;
    RO.MarkdownMaxChars = MarkdownMaxChars;
    RO.Filtered = Changed || BaselineFindings;
    RO.FilterDescription = FilterDescription;
    RO.HasBaseline = BaselineFindings.has_value();
    RO.Fixed = std::move(Fixed);
    RO.HelpUriBase = HelpUriBase;
    if (!RO.HelpUriBase.empty() && !llvm::StringRef(RO.HelpUriBase).ends_with("/"))
      RO.HelpUriBase += "/";
    RO.SarifCategory = SarifCategory;
    RO.Notifications = Notifications;
    // Links to the lines on GitHub (GitHub Actions sets these variables).
    std::optional<std::string> Server = llvm::sys::Process::GetEnv("GITHUB_SERVER_URL");
    std::optional<std::string> Repo = llvm::sys::Process::GetEnv("GITHUB_REPOSITORY");
    std::optional<std::string> Sha = llvm::sys::Process::GetEnv("GITHUB_SHA");
    if (Server && Repo && Sha && !Server->empty() && !Repo->empty() && !Sha->empty())
      RO.LinkBase = *Server + "/" + *Repo + "/blob/" + *Sha;
    if (Changed) {
      RO.RepoRoot = Changed->RepoRoot;
    } else if (auto WS = llvm::sys::Process::GetEnv("GITHUB_WORKSPACE")) {
      RO.RepoRoot = *WS;
    } else {
      std::string Top, Err;
      if (rill::lint::tool::runCapture({"git", "rev-parse", "--show-toplevel"}, Top, Err, Cwd))
        RO.RepoRoot = llvm::StringRef(Top).trim().str();
    }
    for (auto& [F, OS] : Reports) {
      switch (F) {
        case OutputFormat::Sarif:
          rill::lint::report::writeSarif(Findings, RO, *OS);
          break;
        case OutputFormat::Markdown:
          rill::lint::report::writeMarkdown(Findings, RO, *OS);
          break;
        case OutputFormat::GitHub:
          rill::lint::report::writeGitHub(Findings, RO, *OS);
          break;
        case OutputFormat::Text:
          break;
      }
      OS->flush();
    }
  }

  if (!ExportFixes.empty() && !Errors.empty()) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(ExportFixes, EC, llvm::sys::fs::OF_None);
    if (EC) {
      error() << "cannot open export-fixes file: " << EC.message() << "\n";
      return kExitInputError;
    }
    exportReplacements(FilePath, Errors, OS);
  }

  if (!Quiet) {
    printStats(Stats);
    if (DisableFixes && Behaviour != FB_NoFix)
      llvm::errs() << "Found compiler errors, but -fix-errors was not specified.\n"
                      "Fixes have NOT been applied.\n\n";
  }
  if (FoundCompilerErrors) {
    if (!Quiet) llvm::errs() << "Found compiler error(s).\n";
    InputError = true;
  }
  if (InputError) return kExitInputError;
  if (WErrorCount) {
    if (!Quiet)
      llvm::errs() << WErrorCount << " warning" << (WErrorCount == 1 ? "" : "s")
                   << " treated as error" << (WErrorCount == 1 ? "" : "s") << "\n";
    return kExitFindingsAsErrors;
  }
  return 0;
}
