// rill-lint findings: one list of findings (built from clang-tidy's ClangTidyError list) and the
// views rendered from it: SARIF 2.1.0, a Markdown PR summary and GitHub workflow annotations.
// The text view is clang-tidy's own (clang::tidy::handleErrors), so it is byte-identical to
// clang-tidy's output.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Support/raw_ostream.h>

#include <string>
#include <vector>

namespace clang::tidy {
struct ClangTidyError;
}  // namespace clang::tidy

namespace rill::lint::report {

/// A source position: path as reported by clang (absolute when known), 1-based line and
/// column (column in bytes, like clang's diagnostics). Line 0 means "no location" (e.g. a
/// configuration error).
struct Location {
  std::string File;
  unsigned Line = 0;
  unsigned Column = 0;
};

/// A note attached to a finding (e.g. one hop of a transitive blocking call).
struct Note {
  Location Loc;
  std::string Message;
};

/// One finding: a warning of a check, or a compiler error of a TU that failed to parse.
struct Finding {
  std::string Check;     ///< check name, e.g. "rill-blocking-call" or "clang-diagnostic-error"
  bool IsError = false;  ///< error level (compiler error or promoted warning)
  bool IsWarningAsError = false;  ///< promoted by --warnings-as-errors
  std::string Message;
  Location Loc;
  std::vector<Note> Notes;
  bool HasFix = false;  ///< carries a fix-it (applied with --fix)
  /// Stable identity across runs (SARIF partialFingerprints "rillFingerprint/v1"): check, path
  /// relative to the source root, the trimmed text of the line, message and an occurrence
  /// counter; unaffected by unrelated line shifts. Set by assignFingerprints.
  std::string Fingerprint;
  std::string LineHash;  ///< GitHub's primaryLocationLineHash: "<hash of line text>:<occurrence>"
};

/// A tool notification: something the run could not do, e.g. a TU that failed to parse (SARIF
/// invocations[].toolExecutionNotifications).
struct ToolNotification {
  Location Loc;
  std::string Message;
  bool IsError = true;
};

/// Converts clang-tidy's errors to findings, resolving byte offsets to line/column by reading the
/// files through \p FS (paths relative to each error's build directory are resolved against it).
/// Order is preserved. Unreadable files leave line/column 0 and never fail.
std::vector<Finding> collectFindings(llvm::ArrayRef<clang::tidy::ClangTidyError> Errors,
                                     llvm::vfs::FileSystem& FS);

/// Computes Finding::Fingerprint and Finding::LineHash for every finding, in order (the
/// occurrence counter makes identical twins distinct). Paths are taken relative to
/// \p SourceRoot; line text is read through \p FS. Call on the complete list of a run, before
/// any filter, so fingerprints do not depend on the filter.
void assignFingerprints(std::vector<Finding>& Findings, llvm::StringRef SourceRoot,
                        llvm::vfs::FileSystem& FS);

/// Options shared by the renderers.
struct RenderOptions {
  /// Paths under this directory are printed relative to it (SARIF: relative URIs with
  /// uriBaseId %SRCROOT%). Usually the current working directory.
  std::string SourceRoot;
  std::string ToolVersion = "0.1.0";
  /// Markdown: findings listed before the rest is collapsed into <details>.
  unsigned MarkdownInlineLimit = 50;
  /// Markdown: hard limit of the report's size in characters (GitHub comments and check
  /// summaries take at most 65,536). Findings that do not fit are left out with a note.
  size_t MarkdownMaxChars = 65000;
  /// Markdown: each finding links to its line as LinkBase + "/" + repo-relative path + "#L<line>"
  /// when set (e.g. "https://github.com/o/r/blob/<sha>", from GITHUB_SERVER_URL,
  /// GITHUB_REPOSITORY and GITHUB_SHA). Paths are made relative to RepoRoot (default SourceRoot).
  std::string LinkBase;
  std::string RepoRoot;
  /// Markdown: show each finding's source line as an excerpt.
  bool CodeExcerpts = true;
  /// The findings are "new" ones (a baseline or --changed-since filtered them): the Markdown
  /// section is titled "New"; FilterDescription says what they are new against.
  bool Filtered = false;
  std::string FilterDescription;
  /// With a baseline: the baseline's findings that are gone (Markdown "Fixed" section).
  std::vector<Finding> Fixed;
  bool HasBaseline = false;
  /// SARIF: helpUri of rill's checks is HelpUriBase + "<check>.md" when set.
  std::string HelpUriBase;
  /// SARIF: runs[0].automationDetails.id when set (GitHub code scanning's category).
  std::string SarifCategory;
  /// SARIF: invocations[0].toolExecutionNotifications (e.g. TUs that failed to parse) and
  /// executionSuccessful.
  std::vector<ToolNotification> Notifications;
};

/// Writes a SARIF 2.1.0 log (accepted by GitHub code scanning): one run, tool.driver.rules with
/// one rule per check that has findings (id = check name, descriptions, help, helpUri), results
/// with ruleId/ruleIndex/level/message/locations/relatedLocations (the notes) and
/// partialFingerprints ("primaryLocationLineHash" and "rillFingerprint/v1", stable across line
/// shifts; computed here when not yet assigned), invocations with tool notifications,
/// automationDetails.id and columnKind utf16CodeUnits (byte columns are converted).
void writeSarif(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts, llvm::raw_ostream& OS);

/// Writes a Markdown PR summary: totals, counts per check and per file, then each finding as
/// `path:line` with its message; findings past MarkdownInlineLimit go into a <details> block.
void writeMarkdown(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                   llvm::raw_ostream& OS);

/// Writes GitHub Actions workflow commands (`::warning file=...,line=...,col=...,title=...::msg`),
/// escaped per GitHub's rules (data: % CR LF; properties additionally ':' and ',').
void writeGitHub(llvm::ArrayRef<Finding> Findings, const RenderOptions& Opts,
                 llvm::raw_ostream& OS);

/// Reads the findings of a SARIF log (one written by rill-lint, or any log whose results carry
/// partialFingerprints "rillFingerprint/v1"): check, level, message, location (relative URIs
/// resolved against \p SourceRoot, columns as written) and fingerprint. Errors (unreadable file,
/// not SARIF) are returned as llvm::Error with a message naming the file.
llvm::Expected<std::vector<Finding>> readSarif(llvm::StringRef Path, llvm::StringRef SourceRoot);

/// Joins SARIF logs (e.g. the shards of a CI matrix) into one log with one run per tool: results
/// and invocations concatenated, rules merged by id (ruleIndex remapped). Errors name the file.
llvm::Error mergeSarif(llvm::ArrayRef<std::string> Inputs, llvm::raw_ostream& OS);

/// GitHub workflow-command escaping of a message (data) or property value.
std::string escapeGitHubData(llvm::StringRef S);
std::string escapeGitHubProperty(llvm::StringRef S);

/// Short and full description and help (Markdown) for a check name; generic text for checks
/// that are not rill's (upstream clang-tidy checks, clang-diagnostic-*).
struct CheckDoc {
  std::string Short;
  std::string Full;
  std::string HelpMarkdown;
  std::string HelpUri;  ///< empty when none
};
CheckDoc describeCheck(llvm::StringRef Check);

}  // namespace rill::lint::report
