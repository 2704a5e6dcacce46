// Rules loader: parses rules YAML (schema in docs/lint/README.md) with LLVM's YAMLParser so every
// error names FILE:LINE:COL, merges built-in and user files, and caches the result.
#include "analysis/Rules.h"

#include <clang-tidy/ClangTidyDiagnosticConsumer.h>
#include <clang/AST/Decl.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/ADT/StringSet.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/YAMLParser.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

namespace rill::lint {
namespace {

struct EmbeddedFile {
  const char* Name;
  const char* Text;
};

const EmbeddedFile kEmbedded[] = {
#include "RulesEmbedded.inc"
};

/// A parse error: the node where it happened and the message.
struct ParseError {
  llvm::SMRange Range;
  std::string Message;
};

class RulesParser {
 public:
  RulesParser(llvm::SourceMgr& SM, llvm::StringRef FileName) : SM(SM), FileName(FileName) {}

  /// Parses all documents of the buffer into Out. Returns the first error, if any.
  std::optional<ParseError> parse(unsigned BufferId, Rules& Out) {
    llvm::yaml::Stream Stream(SM.getMemoryBuffer(BufferId)->getMemBufferRef(), SM,
                              /*ShowColors=*/false);
    for (llvm::yaml::Document& Doc : Stream) {
      llvm::yaml::Node* Root = Doc.getRoot();
      if (Stream.failed() || Failed) break;
      if (!Root || llvm::isa<llvm::yaml::NullNode>(Root)) continue;
      auto* Map = llvm::dyn_cast<llvm::yaml::MappingNode>(Root);
      if (!Map) {
        fail(Root, "a rules file must be a mapping (keys: version, blocking, locks, ...)");
        break;
      }
      parseTop(*Map, Out);
      if (Failed) break;
    }
    if (!Failed && Stream.failed() && !Err) {
      Err = ParseError{llvm::SMRange(), "invalid YAML"};
    }
    return Err;
  }

  /// The diagnostics the YAML scanner itself printed (syntax errors).
  std::string ScannerMessage;

 private:
  llvm::SourceMgr& SM;
  std::string FileName;
  bool Failed = false;
  std::optional<ParseError> Err;
  std::string CurrentOrigin;

  void fail(llvm::yaml::Node* N, const llvm::Twine& Msg) {
    if (Failed) return;
    Failed = true;
    Err = ParseError{N ? N->getSourceRange() : llvm::SMRange(), Msg.str()};
  }

  std::optional<std::string> scalar(llvm::yaml::Node* N, llvm::StringRef What) {
    auto* S = llvm::dyn_cast_or_null<llvm::yaml::ScalarNode>(N);
    if (!S) {
      fail(N, "expected a string for '" + What + "'");
      return std::nullopt;
    }
    llvm::SmallString<64> Storage;
    return S->getValue(Storage).str();
  }

  std::optional<bool> boolean(llvm::yaml::Node* N, llvm::StringRef What) {
    auto V = scalar(N, What);
    if (!V) return std::nullopt;
    llvm::StringRef L(*V);
    if (L == "true" || L == "yes" || L == "on") return true;
    if (L == "false" || L == "no" || L == "off") return false;
    fail(N, "expected true or false for '" + What + "'");
    return std::nullopt;
  }

  std::string origin(llvm::yaml::Node* N) {
    auto LC = SM.getLineAndColumn(N->getSourceRange().Start);
    return FileName + ":" + std::to_string(LC.first);
  }

  /// A list of names: a sequence of strings (a single string is accepted as a 1-element list).
  bool nameList(llvm::yaml::Node* N, llvm::StringRef What, std::vector<std::string>& Out) {
    if (auto* S = llvm::dyn_cast_or_null<llvm::yaml::ScalarNode>(N)) {
      llvm::SmallString<64> Storage;
      std::string V = normalizeRuleName(S->getValue(Storage));
      if (V.empty()) {
        fail(N, "empty name in '" + What + "'");
        return false;
      }
      Out.push_back(V);
      return true;
    }
    auto* Seq = llvm::dyn_cast_or_null<llvm::yaml::SequenceNode>(N);
    if (!Seq) {
      fail(N, "expected a list of names for '" + What + "'");
      return false;
    }
    for (llvm::yaml::Node& Item : *Seq) {
      auto V = scalar(&Item, What);
      if (!V) return false;
      std::string Name = normalizeRuleName(*V);
      if (Name.empty()) {
        fail(&Item, "empty name in '" + What + "'");
        return false;
      }
      Out.push_back(std::move(Name));
    }
    return true;
  }

  template <typename Fn>
  void forEachKey(llvm::yaml::MappingNode& Map, llvm::StringRef Where, Fn&& Handle) {
    for (llvm::yaml::KeyValueNode& KV : Map) {
      if (Failed) return;
      auto* KeyNode = llvm::dyn_cast_or_null<llvm::yaml::ScalarNode>(KV.getKey());
      if (!KeyNode) {
        fail(KV.getKey(), "expected a string key in " + Where);
        return;
      }
      llvm::SmallString<32> Storage;
      llvm::StringRef Key = KeyNode->getValue(Storage);
      llvm::yaml::Node* Value = KV.getValue();
      if (!Handle(Key, Value)) {
        if (!Failed) fail(KeyNode, "unknown key '" + Key + "' in " + Where);
        return;
      }
    }
  }

  void parseTop(llvm::yaml::MappingNode& Map, Rules& Out) {
    forEachKey(Map, "a rules file", [&](llvm::StringRef Key, llvm::yaml::Node* V) {
      if (Key == "version") {
        auto Ver = scalar(V, "version");
        if (Ver && *Ver != "1") fail(V, "unsupported rules version '" + *Ver + "' (expected 1)");
        return true;
      }
      if (Key == "blocking") return parseBlocking(V, Out), true;
      if (Key == "exclude_blocking") {
        std::vector<std::string> Names;
        if (nameList(V, Key, Names)) {
          for (const std::string& N : Names)
            llvm::erase_if(Out.Blocking, [&](const BlockingFunction& B) { return B.Name == N; });
        }
        return true;
      }
      if (Key == "locks") return parseLocks(V, Out), true;
      if (Key == "bounding") return parseBounding(V, Out), true;
      if (Key == "offload_functions") return nameList(V, Key, Out.OffloadFunctions), true;
      if (Key == "spawn_functions") return nameList(V, Key, Out.SpawnFunctions), true;
      if (Key == "join_all_functions") return nameList(V, Key, Out.JoinAllFunctions), true;
      if (Key == "unbounded_channel_constructors")
        return nameList(V, Key, Out.UnboundedChannelConstructors), true;
      if (Key == "async_safe_types") return nameList(V, Key, Out.AsyncSafeTypes), true;
      if (Key == "logging_functions") return nameList(V, Key, Out.LoggingFunctions), true;
      if (Key == "address_parsers") return parseAddressParsers(V, Out), true;
      return false;
    });
  }

  void parseBlocking(llvm::yaml::Node* N, Rules& Out) {
    auto* Seq = llvm::dyn_cast_or_null<llvm::yaml::SequenceNode>(N);
    if (!Seq) return fail(N, "'blocking' must be a list of entries");
    for (llvm::yaml::Node& Item : *Seq) {
      auto* Map = llvm::dyn_cast<llvm::yaml::MappingNode>(&Item);
      if (!Map)
        return fail(&Item,
                    "a 'blocking' entry must be a mapping with 'name' or 'functions', "
                    "'category' and 'fix'");
      std::vector<std::string> Names;
      std::optional<std::string> Category, Fix, GenericFix, FileArgument;
      bool Strict = false, Logging = false;
      std::optional<long long> Priority;
      std::vector<NonBlockingCondition> Conds;
      forEachKey(*Map, "a 'blocking' entry", [&](llvm::StringRef Key, llvm::yaml::Node* V) {
        if (Key == "name" || Key == "functions") return nameList(V, Key, Names), true;
        if (Key == "category") return (Category = scalar(V, Key)), true;
        if (Key == "fix") return (Fix = scalar(V, Key)), true;
        if (Key == "generic_fix") return (GenericFix = scalar(V, Key)), true;
        if (Key == "file_argument") {
          FileArgument = scalar(V, Key);
          if (FileArgument) *FileArgument = normalizeRuleName(*FileArgument);
          return true;
        }
        if (Key == "strict") {
          if (auto B = boolean(V, Key)) Strict = *B;
          return true;
        }
        if (Key == "logging") {
          if (auto B = boolean(V, Key)) Logging = *B;
          return true;
        }
        if (Key == "nonblocking_when") return parseConditions(V, Conds), true;
        if (Key == "priority") {
          Priority = integer(V, Key);
          if (Priority && (*Priority < 0 || *Priority > 1000))
            fail(V, "'priority' must be between 0 and 1000");
          return true;
        }
        return false;
      });
      if (Failed) return;
      if (Names.empty()) return fail(&Item, "'blocking' entry has no 'name' or 'functions'");
      if (!Category || Category->empty()) return fail(&Item, "'blocking' entry has no 'category'");
      if (!Fix || Fix->empty()) return fail(&Item, "'blocking' entry has no 'fix'");
      for (std::string& Name : Names) {
        BlockingFunction B;
        B.Name = Name;
        B.Category = *Category;
        B.Fix = *Fix;
        B.Strict = Strict;
        B.Origin = origin(&Item);
        if (GenericFix) B.GenericFix = *GenericFix;
        B.Logging = Logging;
        if (FileArgument) B.FileArgumentRule = *FileArgument;
        if (Priority) B.Priority = static_cast<int>(*Priority);
        B.NonBlockingWhen = Conds;
        // A later definition (e.g. a user file) replaces an earlier one of the same name.
        auto It =
            llvm::find_if(Out.Blocking, [&](const BlockingFunction& E) { return E.Name == Name; });
        if (It != Out.Blocking.end())
          *It = std::move(B);
        else
          Out.Blocking.push_back(std::move(B));
      }
    }
  }

  std::optional<long long> integer(llvm::yaml::Node* N, llvm::StringRef What) {
    auto V = scalar(N, What);
    if (!V) return std::nullopt;
    long long I = 0;
    if (llvm::StringRef(*V).getAsInteger(0, I)) {
      fail(N, "expected an integer for '" + What + "'");
      return std::nullopt;
    }
    return I;
  }

  /// `nonblocking_when`: a list of mappings, each one condition:
  ///   {arg: N, has_flag: NAME} | {arg: N, equals: INT} | {arg: N, fd_nonblocking: true} |
  ///   {after: NAME}
  void parseConditions(llvm::yaml::Node* N, std::vector<NonBlockingCondition>& Out) {
    auto* Seq = llvm::dyn_cast_or_null<llvm::yaml::SequenceNode>(N);
    if (!Seq) return fail(N, "'nonblocking_when' must be a list of conditions");
    for (llvm::yaml::Node& Item : *Seq) {
      auto* Map = llvm::dyn_cast<llvm::yaml::MappingNode>(&Item);
      if (!Map)
        return fail(&Item,
                    "a 'nonblocking_when' condition must be a mapping: {arg: N, has_flag: NAME}, "
                    "{arg: N, equals: INT}, {arg: N, fd_nonblocking: true} or {after: NAME}");
      NonBlockingCondition C;
      int Kinds = 0;
      forEachKey(*Map, "a 'nonblocking_when' condition",
                 [&](llvm::StringRef Key, llvm::yaml::Node* V) {
                   if (Key == "arg") {
                     if (auto I = integer(V, Key)) {
                       if (*I < 0 || *I > 64) fail(V, "'arg' must be between 0 and 64");
                       C.Arg = static_cast<int>(*I);
                     }
                     return true;
                   }
                   if (Key == "has_flag" || Key == "after") {
                     if (auto S = scalar(V, Key)) C.Name = normalizeRuleName(*S);
                     C.K = Key == "after" ? NonBlockingCondition::Kind::After
                                          : NonBlockingCondition::Kind::HasFlag;
                     ++Kinds;
                     return true;
                   }
                   if (Key == "equals") {
                     if (auto I = integer(V, Key)) C.Value = *I;
                     C.K = NonBlockingCondition::Kind::Equals;
                     ++Kinds;
                     return true;
                   }
                   if (Key == "fd_nonblocking") {
                     auto B = boolean(V, Key);
                     if (B && !*B) fail(V, "'fd_nonblocking' can only be true");
                     C.K = NonBlockingCondition::Kind::FdNonBlocking;
                     ++Kinds;
                     return true;
                   }
                   return false;
                 });
      if (Failed) return;
      if (Kinds != 1)
        return fail(&Item,
                    "a 'nonblocking_when' condition needs exactly one of has_flag, equals, "
                    "fd_nonblocking, after");
      if (C.K != NonBlockingCondition::Kind::After && C.Arg < 0)
        return fail(&Item, "this 'nonblocking_when' condition needs 'arg'");
      if ((C.K == NonBlockingCondition::Kind::HasFlag ||
           C.K == NonBlockingCondition::Kind::After) &&
          C.Name.empty())
        return fail(&Item, "empty name in 'nonblocking_when' condition");
      Out.push_back(std::move(C));
    }
  }

  /// `address_parsers`: a list of mappings
  ///   {functions: [NAME...], input: N, error_out: N,
  ///    succeeds_on: numeric_ip | numeric_ipv4 | numeric_ipv6}
  void parseAddressParsers(llvm::yaml::Node* N, Rules& Out) {
    auto* Seq = llvm::dyn_cast_or_null<llvm::yaml::SequenceNode>(N);
    if (!Seq) return fail(N, "'address_parsers' must be a list of entries");
    for (llvm::yaml::Node& Item : *Seq) {
      auto* Map = llvm::dyn_cast<llvm::yaml::MappingNode>(&Item);
      if (!Map)
        return fail(&Item,
                    "an 'address_parsers' entry must be a mapping with 'functions', 'input', "
                    "'error_out' and 'succeeds_on'");
      std::vector<std::string> Names;
      std::optional<long long> Input, ErrorOut;
      std::optional<AddressParser::Accepts> Accepts;
      auto Index = [&](llvm::yaml::Node* V, llvm::StringRef Key) {
        auto I = integer(V, Key);
        if (I && (*I < 0 || *I > 64)) {
          fail(V, "'" + Key + "' must be between 0 and 64");
          return std::optional<long long>();
        }
        return I;
      };
      forEachKey(*Map, "an 'address_parsers' entry", [&](llvm::StringRef Key, llvm::yaml::Node* V) {
        if (Key == "name" || Key == "functions") return nameList(V, Key, Names), true;
        if (Key == "input") return (Input = Index(V, Key)), true;
        if (Key == "error_out") return (ErrorOut = Index(V, Key)), true;
        if (Key == "succeeds_on") {
          if (auto S = scalar(V, Key)) {
            if (*S == "numeric_ip")
              Accepts = AddressParser::Accepts::NumericIp;
            else if (*S == "numeric_ipv4")
              Accepts = AddressParser::Accepts::NumericIpv4;
            else if (*S == "numeric_ipv6")
              Accepts = AddressParser::Accepts::NumericIpv6;
            else
              fail(V, "unknown 'succeeds_on' value '" + *S +
                          "' (expected numeric_ip, numeric_ipv4 or numeric_ipv6)");
          }
          return true;
        }
        return false;
      });
      if (Failed) return;
      if (Names.empty()) return fail(&Item, "'address_parsers' entry has no 'functions'");
      if (!Input) return fail(&Item, "'address_parsers' entry has no 'input'");
      if (!ErrorOut) return fail(&Item, "'address_parsers' entry has no 'error_out'");
      if (!Accepts) return fail(&Item, "'address_parsers' entry has no 'succeeds_on'");
      if (*Input == *ErrorOut)
        return fail(&Item,
                    "'address_parsers' entry: 'input' and 'error_out' are the same argument");
      for (std::string& Name : Names) {
        AddressParser P;
        P.Name = Name;
        P.Input = static_cast<int>(*Input);
        P.ErrorOut = static_cast<int>(*ErrorOut);
        P.SucceedsOn = *Accepts;
        P.Origin = origin(&Item);
        auto It = llvm::find_if(Out.AddressParsers,
                                [&](const AddressParser& E) { return E.Name == Name; });
        if (It != Out.AddressParsers.end())
          *It = std::move(P);
        else
          Out.AddressParsers.push_back(std::move(P));
      }
    }
  }

  void parseLocks(llvm::yaml::Node* N, Rules& Out) {
    auto* Map = llvm::dyn_cast_or_null<llvm::yaml::MappingNode>(N);
    if (!Map) return fail(N, "'locks' must be a mapping");
    forEachKey(*Map, "'locks'", [&](llvm::StringRef Key, llvm::yaml::Node* V) {
      if (Key == "guard_types") return nameList(V, Key, Out.LockTypes), true;
      if (Key == "lock_methods") return nameList(V, Key, Out.LockMethods), true;
      if (Key == "unlock_methods") return nameList(V, Key, Out.UnlockMethods), true;
      if (Key == "mutex_types") return nameList(V, Key, Out.MutexTypes), true;
      return false;
    });
  }

  void parseBounding(llvm::yaml::Node* N, Rules& Out) {
    auto* Map = llvm::dyn_cast_or_null<llvm::yaml::MappingNode>(N);
    if (!Map) return fail(N, "'bounding' must be a mapping");
    forEachKey(*Map, "'bounding'", [&](llvm::StringRef Key, llvm::yaml::Node* V) {
      if (Key == "permit_types") return nameList(V, Key, Out.PermitTypes), true;
      if (Key == "permit_acquire_functions")
        return nameList(V, Key, Out.PermitAcquireFunctions), true;
      if (Key == "limited_spawners") return nameList(V, Key, Out.LimitedSpawners), true;
      if (Key == "concurrent_algorithms") return nameList(V, Key, Out.ConcurrentAlgorithms), true;
      return false;
    });
  }
};

void dedupe(std::vector<std::string>& V) {
  llvm::StringSet<> Seen;
  llvm::erase_if(V, [&](const std::string& S) { return !Seen.insert(S).second; });
}

void finalize(Rules& R) {
  for (auto* L : {&R.LockTypes, &R.LockMethods, &R.UnlockMethods, &R.MutexTypes,
                  &R.OffloadFunctions, &R.SpawnFunctions, &R.JoinAllFunctions, &R.PermitTypes,
                  &R.PermitAcquireFunctions, &R.LimitedSpawners, &R.ConcurrentAlgorithms,
                  &R.UnboundedChannelConstructors, &R.AsyncSafeTypes, &R.LoggingFunctions})
    dedupe(*L);
  R.BoundingConstructs.clear();
  for (auto* L :
       {&R.PermitTypes, &R.PermitAcquireFunctions, &R.LimitedSpawners, &R.ConcurrentAlgorithms})
    R.BoundingConstructs.insert(R.BoundingConstructs.end(), L->begin(), L->end());
  dedupe(R.BoundingConstructs);
  R.reindex();
}

std::mutex CacheMutex;
std::map<std::string, std::shared_ptr<const Rules>>& cache() {
  static std::map<std::string, std::shared_ptr<const Rules>> C;
  return C;
}

}  // namespace

const BlockingFunction* Rules::findBlocking(llvm::StringRef QualifiedName) const {
  auto It = BlockingIndex.find(QualifiedName);
  return It == BlockingIndex.end() ? nullptr : &Blocking[It->second];
}

const AddressParser* Rules::findAddressParser(llvm::StringRef QualifiedName) const {
  QualifiedName.consume_front("::");
  for (const AddressParser& P : AddressParsers)
    if (P.Name == QualifiedName) return &P;
  return nullptr;
}

bool Rules::isLoggingEntry(llvm::StringRef QualifiedName) const {
  QualifiedName.consume_front("::");
  for (const std::string& E : LoggingFunctions)
    if (QualifiedName == E ||
        (QualifiedName.size() > E.size() + 2 && QualifiedName.starts_with(E) &&
         QualifiedName.substr(E.size()).starts_with("::")))
      return true;
  return false;
}

bool Rules::contains(const std::vector<std::string>& List, llvm::StringRef QualifiedName) {
  QualifiedName.consume_front("::");
  return llvm::is_contained(List, QualifiedName);
}

void Rules::reindex() {
  BlockingIndex.clear();
  for (size_t I = 0; I < Blocking.size(); ++I)
    BlockingIndex[Blocking[I].Name] = I;
}

std::string normalizeRuleName(llvm::StringRef Name) {
  Name = Name.trim();
  Name.consume_front("::");
  return Name.str();
}

std::vector<std::string> splitRuleNames(llvm::StringRef Value) {
  llvm::SmallVector<llvm::StringRef, 16> Parts;
  Value.split(Parts, ';', -1, false);
  std::vector<std::string> Out;
  for (llvm::StringRef P : Parts)
    if (!P.trim().empty()) Out.push_back(normalizeRuleName(P));
  return Out;
}

bool parseRulesInto(Rules& Into, llvm::StringRef Buffer, llvm::StringRef FileName,
                    std::string* Error) {
  llvm::SourceMgr SM;
  std::string ScannerOutput;
  llvm::raw_string_ostream ScannerOS(ScannerOutput);
  // The YAML scanner reports syntax errors through the SourceMgr; capture the first one.
  std::optional<llvm::SMDiagnostic> FirstDiag;
  SM.setDiagHandler(
      [](const llvm::SMDiagnostic& D, void* Ctx) {
        auto* First = static_cast<std::optional<llvm::SMDiagnostic>*>(Ctx);
        if (!*First) *First = D;
      },
      &FirstDiag);
  unsigned Id =
      SM.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(Buffer, FileName), llvm::SMLoc());
  Rules Work = Into;
  RulesParser P(SM, FileName);
  std::optional<ParseError> E = P.parse(Id, Work);
  if (FirstDiag) {
    if (Error)
      *Error = (FileName + ":" + llvm::Twine(FirstDiag->getLineNo()) + ":" +
                llvm::Twine(FirstDiag->getColumnNo() + 1) +
                ": error: invalid YAML: " + FirstDiag->getMessage())
                   .str();
    return false;
  }
  if (E) {
    if (Error) {
      if (E->Range.isValid()) {
        auto LC = SM.getLineAndColumn(E->Range.Start, Id);
        *Error = (FileName + ":" + llvm::Twine(LC.first) + ":" + llvm::Twine(LC.second) +
                  ": error: " + E->Message)
                     .str();
      } else {
        *Error = (FileName + ": error: " + E->Message).str();
      }
    }
    return false;
  }
  finalize(Work);
  Into = std::move(Work);
  return true;
}

bool checkReferences(const Rules& R, std::string* Error) {
  for (const BlockingFunction& B : R.Blocking)
    if (!B.FileArgumentRule.empty() && !R.findBlocking(B.FileArgumentRule)) {
      if (Error)
        *Error = B.Origin + ": error: 'file_argument' of '" + B.Name + "' names '" +
                 B.FileArgumentRule + "', which no 'blocking' entry defines";
      return false;
    }
  return true;
}

std::shared_ptr<const Rules> builtinRules() {
  static const std::shared_ptr<const Rules> Builtin = [] {
    auto R = std::make_shared<Rules>();
    for (const EmbeddedFile& F : kEmbedded) {
      std::string Error;
      if (!parseRulesInto(*R, F.Text, F.Name, &Error)) {
        llvm::errs() << "rill-lint: internal error: built-in " << Error << "\n";
        std::abort();
      }
    }
    if (std::string Error; !checkReferences(*R, &Error)) {
      llvm::errs() << "rill-lint: internal error: built-in " << Error << "\n";
      std::abort();
    }
    return std::shared_ptr<const Rules>(std::move(R));
  }();
  return Builtin;
}

std::shared_ptr<const Rules> loadRules(llvm::ArrayRef<std::string> Files, std::string* Error) {
  if (Files.empty()) return builtinRules();
  // Cache key: the file names plus their modification times and sizes.
  std::string Key;
  for (const std::string& F : Files) {
    llvm::sys::fs::file_status St;
    Key += F;
    if (!llvm::sys::fs::status(F, St))
      Key += "@" + std::to_string(St.getLastModificationTime().time_since_epoch().count()) + "/" +
             std::to_string(St.getSize());
    Key += '\n';
  }
  {
    std::lock_guard<std::mutex> Lock(CacheMutex);
    auto It = cache().find(Key);
    if (It != cache().end()) return It->second;
  }
  auto R = std::make_shared<Rules>(*builtinRules());
  for (const std::string& F : Files) {
    auto Buf = llvm::MemoryBuffer::getFile(F, /*IsText=*/true);
    if (!Buf) {
      if (Error) *Error = F + ": error: cannot read rules file: " + Buf.getError().message();
      return nullptr;
    }
    if (!parseRulesInto(*R, (*Buf)->getBuffer(), F, Error)) return nullptr;
  }
  if (!checkReferences(*R, Error)) return nullptr;
  std::shared_ptr<const Rules> Result = std::move(R);
  std::lock_guard<std::mutex> Lock(CacheMutex);
  cache().emplace(Key, Result);
  return Result;
}

std::vector<std::string> splitRulesFileList(llvm::StringRef Value) {
  std::vector<std::string> Out;
  llvm::SmallVector<llvm::StringRef, 4> Parts;
  std::string Normalized = Value.str();
  std::replace(Normalized.begin(), Normalized.end(), ',', ';');
  llvm::StringRef(Normalized).split(Parts, ';');
  for (llvm::StringRef P : Parts) {
    P = P.trim();
    if (!P.empty()) Out.push_back(P.str());
  }
  return Out;
}

std::vector<std::string> resolveConfigRulesFiles(llvm::StringRef Value, llvm::StringRef ForFile) {
  std::vector<std::string> Files = splitRulesFileList(Value);
  std::optional<std::string> ConfigDir;  // computed once, on the first relative path
  for (std::string& F : Files) {
    if (llvm::sys::path::is_absolute(F)) continue;
    if (!ConfigDir) {
      ConfigDir = std::string();
      llvm::SmallString<256> Dir(ForFile);
      llvm::sys::fs::make_absolute(Dir);
      llvm::sys::path::remove_filename(Dir);
      // The nearest configuration file that sets the option (a nearer one without it inherits
      // it from a parent, as with InheritParentConfig).
      for (llvm::StringRef D = Dir; !D.empty() && ConfigDir->empty();
           D = llvm::sys::path::parent_path(D)) {
        for (const char* Name : {".clang-tidy", "_clang-tidy"}) {
          llvm::SmallString<256> P(D);
          llvm::sys::path::append(P, Name);
          auto Buf = llvm::MemoryBuffer::getFile(P, /*IsText=*/true);
          if (Buf && (*Buf)->getBuffer().contains("rill.RulesFiles")) {
            *ConfigDir = D.str();
            break;
          }
        }
      }
    }
    if (ConfigDir->empty()) continue;
    llvm::SmallString<256> P(*ConfigDir);
    llvm::sys::path::append(P, F);
    llvm::sys::path::remove_dots(P, /*remove_dot_dot=*/true);
    F = std::string(P);
  }
  return Files;
}

std::shared_ptr<const Rules> getRules(clang::tidy::ClangTidyContext& Context, std::string* Error) {
  std::vector<std::string> Files;
  const auto& Opts = Context.getOptions().CheckOptions;
  for (llvm::StringRef Key : {"rill.RulesFiles", "rill.ExtraRulesFiles"}) {
    auto It = Opts.find(Key);
    if (It == Opts.end()) continue;
    std::vector<std::string> Part = Key == "rill.RulesFiles"
                                        ? resolveConfigRulesFiles(It->second.Value,
                                                                  Context.getCurrentFile())
                                        : splitRulesFileList(It->second.Value);
    for (std::string& F : Part)
      Files.push_back(std::move(F));
  }
  std::string Err;
  std::shared_ptr<const Rules> R = loadRules(Files, &Err);
  if (!R) {
    if (Error) *Error = Err;
    return builtinRules();
  }
  return R;
}

std::string qualifiedNameForRules(const clang::NamedDecl* D) {
  if (!D) return {};
  llvm::SmallVector<std::string, 6> Parts;
  if (const auto* F = llvm::dyn_cast<clang::FunctionDecl>(D)) {
    if (F->isOverloadedOperator() || llvm::isa<clang::CXXConstructorDecl>(F) ||
        llvm::isa<clang::CXXConversionDecl>(F) || llvm::isa<clang::CXXDestructorDecl>(F))
      Parts.push_back(F->getNameAsString());
    else if (F->getIdentifier())
      Parts.push_back(F->getName().str());
    else
      Parts.push_back(F->getNameAsString());
  } else if (D->getIdentifier()) {
    Parts.push_back(D->getName().str());
  } else {
    Parts.push_back(D->getNameAsString());
  }
  for (const clang::DeclContext* DC = D->getDeclContext(); DC; DC = DC->getParent()) {
    if (const auto* NS = llvm::dyn_cast<clang::NamespaceDecl>(DC)) {
      if (NS->isInline() || NS->isAnonymousNamespace()) continue;
      Parts.push_back(NS->getName().str());
    } else if (const auto* RD = llvm::dyn_cast<clang::RecordDecl>(DC)) {
      if (!RD->getIdentifier()) continue;
      Parts.push_back(RD->getName().str());
    } else if (llvm::isa<clang::TranslationUnitDecl>(DC)) {
      break;
    } else if (llvm::isa<clang::LinkageSpecDecl>(DC)) {
      continue;
    } else if (llvm::isa<clang::FunctionDecl>(DC)) {
      break;  // local classes: qualified by the class only
    }
  }
  std::string Out;
  for (auto It = Parts.rbegin(); It != Parts.rend(); ++It) {
    if (!Out.empty()) Out += "::";
    Out += *It;
  }
  return Out;
}

}  // namespace rill::lint
