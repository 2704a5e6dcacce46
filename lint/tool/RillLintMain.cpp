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
#include <clang-tidy/ClangTidyForceLinker.h>
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
#include <llvm/Support/WithColor.h>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include "analysis/Rules.h"
#include "report/Findings.h"

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
/// Sets HadError for missing paths.
std::vector<std::string> resolveSources(const CompilationDatabase* JsonDB, bool& HadError) {
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
      error() << "no such file or directory: '" << Src << "'\n";
      HadError = true;
      continue;
    }
    Add(Abs);
  }
  return Out;
}

/// Result of linting one TU.
struct TUResult {
  std::vector<ClangTidyError> Errors;
  ClangTidyStats Stats;
};

}  // namespace

int main(int argc, const char** argv) {
  llvm::InitLLVM X(argc, argv);

  // Split off "--" compile arguments (a fixed compilation database), like CommonOptionsParser.
  std::string FixedError;
  int ArgCount = argc;
  std::unique_ptr<CompilationDatabase> FixedDB =
      FixedCompilationDatabase::loadFromCommandLine(ArgCount, argv, FixedError);
  if (!FixedError.empty()) {
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
  std::vector<std::string> Files = resolveSources(JsonDB, InputError);

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
    auto Raw = Provider->getRawOptions(FilePath);
    NamesAndOptions Valid = getAllChecksAndOptions(AllowEnablingAnalyzerAlphaCheckers);
    bool AnyInvalid = false;
    for (const auto& [Opts, Source] : Raw) {
      if (Opts.Checks) {
        for (const auto& Item : GlobList(*Opts.Checks).getItems()) {
          if (Item.Text.starts_with("clang-diagnostic")) continue;
          if (llvm::none_of(Valid.Names.keys(),
                            [&](llvm::StringRef S) { return Item.Regex.match(S); })) {
            AnyInvalid = true;
            llvm::WithColor::warning(llvm::errs(), Source)
                << "unknown check '" << Item.Text << "' [-verify-config]\n";
          }
        }
      }
      for (auto Key : Opts.CheckOptions.keys()) {
        if (Valid.Options.contains(Key) || Key.starts_with("rill.")) continue;
        AnyInvalid = true;
        llvm::WithColor::warning(llvm::errs(), Source)
            << "unknown check option '" << Key << "' [-verify-config]\n";
      }
    }
    if (AnyInvalid) return kExitInputError;
    llvm::outs() << "No config errors detected.\n";
    return 0;
  }

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

  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmParsers();

  // Lint: one ClangTidyContext per TU so TUs can run on parallel workers (-j).
  std::vector<TUResult> Results(Files.size());
  bool SetupFailed = false;
  std::mutex SetupMutex;
  auto LintOne = [&](size_t I) {
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
    std::vector<rill::lint::report::Finding> Findings =
        rill::lint::report::collectFindings(Errors, *BaseFS);
    rill::lint::report::RenderOptions RO;
    llvm::SmallString<256> Cwd;
    if (!llvm::sys::fs::current_path(Cwd)) RO.SourceRoot = std::string(Cwd);
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
