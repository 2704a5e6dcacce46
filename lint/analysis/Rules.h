// rill-lint rules model and loader: the data the rill-* checks read (blocking functions, lock
// types, spawn-like functions, bounding constructs, unbounded channels, async-safe types).
//
// Built-in rules are the YAML files of the repository's rules/ directory, embedded into the
// binary at build time (no files are read at run time). User files extend them; they are named by
// `rill-lint --rules FILE` or by the clang-tidy option `rill.RulesFiles` (CheckOptions in
// .clang-tidy). The schema is documented in docs/lint/README.md.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/StringRef.h>

#include <memory>
#include <string>
#include <vector>

namespace clang {
class NamedDecl;
namespace tidy {
class ClangTidyContext;
}  // namespace tidy
}  // namespace clang

namespace rill::lint {

/// A condition under which a call of a blocking function does not block (rules key
/// `nonblocking_when`; any one condition that holds makes the call non-blocking).
struct NonBlockingCondition {
  enum class Kind {
    /// Argument `Arg` names the flag `Name` (a macro or enumerator, e.g. LOCK_NB, MSG_DONTWAIT,
    /// WNOHANG), directly or through the initializer/assignments of a local variable.
    HasFlag,
    /// Argument `Arg` is a constant equal to `Value` (a std::chrono duration counts by its tick
    /// count, so `0s` equals 0).
    Equals,
    /// Argument `Arg` is a file descriptor whose non-blocking mode is set in view (created with
    /// O_NONBLOCK / SOCK_NONBLOCK / *_NONBLOCK, or fcntl(fd, F_SETFL, ...O_NONBLOCK...) /
    /// ioctl(fd, FIONBIO, ...) anywhere in the translation unit), or the calling function handles
    /// EAGAIN / EWOULDBLOCK itself.
    FdNonBlocking,
    /// The call comes after a call of `Name` (unqualified or qualified) on the same object (member
    /// calls) or the same first argument in the same function: PQgetResult after PQisBusy,
    /// fut.get() after fut.wait_for(0s).
    After,
  };
  Kind K = Kind::HasFlag;
  int Arg = -1;  ///< argument index, 0-based, not counting the object of a member call
  std::string Name;
  long long Value = 0;
};

/// One blocking function, method or class (a class means its user-declared constructors and every
/// operator call and non-const member call on an object of that class; see rill-blocking-call).
struct BlockingFunction {
  /// Fully qualified name without template arguments or inline namespaces and without a leading
  /// "::", e.g. "sleep", "std::this_thread::sleep_for", "std::basic_ifstream", "std::future::get".
  /// (The YAML may write a leading "::"; it is stripped on load.)
  std::string Name;
  /// Human-readable category used in messages, e.g. "file I/O", "sleep", "DNS resolution".
  std::string Category;
  /// The fix to suggest, e.g. "use rill::fs or move it into rill::spawn_blocking".
  std::string Fix;
  /// The fix to suggest in code that does not use rill (no rill namespace in the translation
  /// unit); empty means Fix. Rules key `generic_fix`.
  std::string GenericFix;
  /// Only reported when rill-blocking-call's option `Strict` is true (e.g. std::mutex::lock).
  bool Strict = false;
  /// Reported only when rill-blocking-call's option `Logging` is true (console logging:
  /// printf, fprintf(stderr), std::cerr, fmt::print). Rules key `logging`.
  bool Logging = false;
  /// A call whose first argument is a C stdio `FILE*` that is not a console stream (those take
  /// their own rule) takes this function's rule instead: `fmt::print(file, ...)` writes a file,
  /// like `fprintf(file, ...)`. Empty: no such rule. Must name a blocking function of the
  /// loaded rules (built-in or any rules file; loadRules reports it otherwise). Rules key
  /// `file_argument`.
  std::string FileArgumentRule;
  /// How telling the call is when several blocking calls are reached through one call (the
  /// highest is reported): deadlocks 100, thread joins and synchronous waits 80, sleeps 70,
  /// process control 60, network, DNS and database calls 50 (the default), file I/O 40,
  /// CPU-heavy work 30, Strict-only calls 20, console logging 10. Rules key `priority`.
  int Priority = 50;
  /// Argument conditions that make a call non-blocking (rules key `nonblocking_when`).
  std::vector<NonBlockingCondition> NonBlockingWhen;
  /// "file:line" of the YAML entry that defined it (for diagnostics about the rules themselves).
  std::string Origin;
};

/// A function that parses an address from a string and reports failure through an error-code
/// out-parameter instead of an exception (rules key `address_parsers`): asio::ip::make_address.
/// rill-blocking-call folds the error code it writes into branch conditions (`if (!ec)`), so a
/// fallback taken only when parsing fails (DNS resolution) is not followed for an input the
/// parser accepts.
struct AddressParser {
  /// What the parser accepts: the inputs for which it reports no error.
  enum class Accepts {
    /// A numeric IP address literal: what inet_pton(AF_INET) or inet_pton(AF_INET6) accepts
    /// ("0.0.0.0", "127.0.0.1", "::", "::1"); not a host name ("localhost").
    NumericIp,
    /// An IPv4 literal only (inet_pton(AF_INET)): asio::ip::make_address_v4.
    NumericIpv4,
    /// An IPv6 literal only (inet_pton(AF_INET6)): asio::ip::make_address_v6.
    NumericIpv6,
  };
  /// Normalized qualified name, as BlockingFunction::Name.
  std::string Name;
  /// The argument holding the text (0-based, the object of a member call not counted).
  int Input = 0;
  /// The argument the error code is written to (an error_code passed by reference).
  int ErrorOut = 1;
  Accepts SucceedsOn = Accepts::NumericIp;
  /// "file:line" of the YAML entry that defined it.
  std::string Origin;
};

/// The merged rule set. All name lists hold fully qualified names in the same normal form as
/// BlockingFunction::Name. Lists are de-duplicated, in load order (built-ins first).
struct Rules {
  std::vector<BlockingFunction> Blocking;
  /// RAII guard classes that hold a lock while alive: std::lock_guard, std::unique_lock, ...
  std::vector<std::string> LockTypes;
  /// Methods that acquire a lock: lock, lock_shared, try_lock, ... (unqualified method names).
  std::vector<std::string> LockMethods;
  /// Methods that release a lock: unlock, unlock_shared, release (unqualified method names).
  std::vector<std::string> UnlockMethods;
  /// Synchronous mutex classes: std::mutex, std::shared_mutex, std::recursive_mutex, ...
  std::vector<std::string> MutexTypes;
  /// Functions whose callable arguments run off the async worker: rill::spawn_blocking, ...
  std::vector<std::string> OffloadFunctions;
  /// Spawn-like functions/methods/classes (a class = its constructors): rill::spawn, std::async,
  /// std::thread, rill::JoinSet::spawn, ...
  std::vector<std::string> SpawnFunctions;
  /// Functions that await every element of a container at once: rill::join_all.
  std::vector<std::string> JoinAllFunctions;
  /// Every bounding construct below, flattened (permit types, acquire functions, limited
  /// spawners, concurrent algorithms).
  std::vector<std::string> BoundingConstructs;
  /// Semaphore permit classes; a permit moved into a spawned task bounds the loop.
  std::vector<std::string> PermitTypes;
  /// Functions returning a permit (rill::sync::Semaphore::acquire / acquire_owned).
  std::vector<std::string> PermitAcquireFunctions;
  /// Classes whose spawn is bounded when the object was constructed with arguments (a limit):
  /// rill::JoinSet.
  std::vector<std::string> LimitedSpawners;
  /// Algorithms that bound concurrency themselves: rill::for_each_concurrent.
  std::vector<std::string> ConcurrentAlgorithms;
  /// Functions creating an unbounded channel: rill::sync::mpsc::unbounded_channel.
  std::vector<std::string> UnboundedChannelConstructors;
  /// Guard types that are safe to hold across co_await (the runtime's async mutex guards).
  std::vector<std::string> AsyncSafeTypes;
  /// Entry points of logging libraries: a function, or a class / namespace standing for
  /// everything declared in it (spdlog, easylog, google::LogMessage, boost::log). A blocking call
  /// reached through one is logging (rill-blocking-call's `Logging` option). Rules key
  /// `logging_functions`.
  std::vector<std::string> LoggingFunctions;
  /// Address parsers reporting failure through an error-code argument (rules key
  /// `address_parsers`).
  std::vector<AddressParser> AddressParsers;

  /// Looks up an address parser by normalized qualified name; nullptr when absent.
  const AddressParser* findAddressParser(llvm::StringRef QualifiedName) const;

  /// Looks up a blocking entry by normalized qualified name; nullptr when absent.
  const BlockingFunction* findBlocking(llvm::StringRef QualifiedName) const;
  /// True when \p QualifiedName is a logging entry point: it is in LoggingFunctions or is
  /// declared in a class or namespace that is.
  bool isLoggingEntry(llvm::StringRef QualifiedName) const;
  /// True when \p QualifiedName is in \p List (normalized comparison, leading "::" ignored).
  static bool contains(const std::vector<std::string>& List, llvm::StringRef QualifiedName);

  /// Rebuilds the lookup index; called by the loader after merging (not needed by readers).
  void reindex();

 private:
  llvm::StringMap<size_t> BlockingIndex;
};

/// Parses one rules YAML document set from \p Buffer (named \p FileName in errors) and merges it
/// into \p Into. Returns false and sets \p Error to "FILE:LINE:COL: error: ..." on the first
/// problem (syntax error, unknown key, wrong node kind); \p Into is left unchanged then.
bool parseRulesInto(Rules& Into, llvm::StringRef Buffer, llvm::StringRef FileName,
                    std::string* Error);

/// The built-in rules (the embedded rules/*.yaml), parsed once; thread-safe. The built-in files
/// are validated by the test suite, so this never fails at run time (a broken embedded file
/// aborts with a message, since it is a build defect).
std::shared_ptr<const Rules> builtinRules();

/// Built-in rules merged with the user files \p Files (read from disk, in order). Cached per
/// file list (+ modification times); thread-safe. On error returns nullptr and sets \p Error to
/// a message naming FILE:LINE:COL (or "FILE: cannot read: reason").
std::shared_ptr<const Rules> loadRules(llvm::ArrayRef<std::string> Files, std::string* Error);

/// Splits a ';'- or ','-separated option value of rules file names (empty parts dropped).
std::vector<std::string> splitRulesFileList(llvm::StringRef Value);

/// Splits the value of the CheckOptions `rill.RulesFiles` (as seen for the source file
/// \p ForFile) and makes each relative path absolute with clang-tidy's rule for paths in
/// configuration: relative to the directory of the configuration file that sets it (the nearest
/// `.clang-tidy` / `_clang-tidy` above \p ForFile that mentions rill.RulesFiles). A relative path
/// with no such file (the option came from --config) stays relative to the current directory.
std::vector<std::string> resolveConfigRulesFiles(llvm::StringRef Value, llvm::StringRef ForFile);

/// The accessor every rill-* check uses (call it from the check's constructor, where the
/// context's current file is set). Reads the CheckOptions `rill.RulesFiles` (from .clang-tidy /
/// --config) and `rill.ExtraRulesFiles` (set by `rill-lint --rules`), both ';'-separated lists,
/// and returns loadRules() of their concatenation. On error it returns the built-in rules (never
/// nullptr) and sets \p Error (when non-null) to the message; the caller should report it with
/// ClangTidyCheck::configurationDiag(). Thread-safe (the cache is shared by all checks).
std::shared_ptr<const Rules> getRules(clang::tidy::ClangTidyContext& Context, std::string* Error);

/// The normalized fully qualified name used for rule matching: namespaces and classes joined
/// with "::", inline namespaces (std::__cxx11, std::__1) and anonymous namespaces dropped,
/// template arguments dropped (std::future<int>::get -> "std::future::get"), no leading "::".
std::string qualifiedNameForRules(const clang::NamedDecl* D);

/// Normalizes a user-written name: strips a leading "::" and surrounding blanks.
std::string normalizeRuleName(llvm::StringRef Name);

/// Splits a check option's ';'-separated list of names, each normalized as normalizeRuleName;
/// empty entries are dropped.
std::vector<std::string> splitRuleNames(llvm::StringRef Value);

}  // namespace rill::lint
