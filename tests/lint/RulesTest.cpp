// Unit tests of the rules model and loader (lint/analysis/Rules.h).
#include "analysis/Rules.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/Decl.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Frontend/ASTUnit.h>
#include <clang/Tooling/Tooling.h>
#include <gtest/gtest.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <thread>

namespace rill::lint {
namespace {

TEST(BuiltinRules, CoverTheIssueList) {
  auto R = builtinRules();
  ASSERT_NE(R, nullptr);
  const char* Expected[] = {
      // libc / POSIX
      "sleep", "usleep", "nanosleep", "read", "write", "recv", "send", "fopen", "fread", "fgets",
      "open", "stat", "system", "popen", "waitpid",
      // C++ std
      "std::this_thread::sleep_for", "std::this_thread::sleep_until", "std::basic_ifstream",
      "std::basic_ofstream", "std::basic_fstream", "std::filesystem::exists",
      "std::filesystem::file_size", "std::future::get", "std::future::wait", "std::thread::join",
      "std::condition_variable::wait", "std::mutex::lock",
      // DNS
      "getaddrinfo", "gethostbyname",
      // crypto
      "crypt", "crypt_r", "bcrypt_hashpw", "argon2_hash", "argon2id_hash_encoded", "crypto_pwhash",
      "crypto_pwhash_str", "PKCS5_PBKDF2_HMAC", "EVP_PBE_scrypt",
      // compression
      "compress", "uncompress", "ZSTD_compress", "ZSTD_decompress", "LZ4_compress_default",
      "BZ2_bzBuffToBuffCompress",
      // clients
      "curl_easy_perform", "sqlite3_exec", "sqlite3_step", "PQexec", "PQconnectdb",
      // the runtime itself
      "rill::Runtime::block_on", "rill::Handle::block_on"};
  for (const char* Name : Expected) {
    const BlockingFunction* B = R->findBlocking(Name);
    ASSERT_NE(B, nullptr) << Name;
    EXPECT_FALSE(B->Category.empty()) << Name;
    EXPECT_FALSE(B->Fix.empty()) << Name;
    EXPECT_NE(B->Origin.find("rules/"), std::string::npos) << Name << " origin " << B->Origin;
  }
  EXPECT_TRUE(R->findBlocking("std::mutex::lock")->Strict);
  EXPECT_FALSE(R->findBlocking("sleep")->Strict);
  EXPECT_EQ(R->findBlocking("not_a_blocking_function"), nullptr);
  EXPECT_NE(R->findBlocking("rill::Runtime::block_on")->Category.find("deadlock"),
            std::string::npos);
}

TEST(BuiltinRules, NameListsForTheChecks) {
  auto R = builtinRules();
  for (const char* T :
       {"std::lock_guard", "std::unique_lock", "std::scoped_lock", "std::shared_lock"})
    EXPECT_TRUE(Rules::contains(R->LockTypes, T)) << T;
  for (const char* M : {"lock", "lock_shared", "try_lock"})
    EXPECT_TRUE(Rules::contains(R->LockMethods, M)) << M;
  for (const char* M : {"unlock", "unlock_shared"})
    EXPECT_TRUE(Rules::contains(R->UnlockMethods, M)) << M;
  for (const char* M :
       {"std::mutex", "std::shared_mutex", "std::recursive_mutex", "std::timed_mutex"})
    EXPECT_TRUE(Rules::contains(R->MutexTypes, M)) << M;
  EXPECT_TRUE(Rules::contains(R->OffloadFunctions, "rill::spawn_blocking"));
  EXPECT_TRUE(Rules::contains(R->OffloadFunctions, "::rill::block_in_place"));
  for (const char* S : {"rill::spawn", "rill::Runtime::spawn", "rill::Handle::spawn",
                        "rill::JoinSet::spawn", "rill::TaskTracker::spawn",
                        "rill::TaskTracker::spawn_on", "rill::task::Builder::spawn",
                        "rill::task::Builder::spawn_on", "std::async", "std::thread"})
    EXPECT_TRUE(Rules::contains(R->SpawnFunctions, S)) << S;
  EXPECT_TRUE(Rules::contains(R->JoinAllFunctions, "rill::join_all"));
  for (const char* B : {"rill::sync::OwnedSemaphorePermit", "rill::sync::Semaphore::acquire_owned",
                        "rill::JoinSet", "rill::for_each_concurrent"})
    EXPECT_TRUE(Rules::contains(R->BoundingConstructs, B)) << B;
  EXPECT_TRUE(
      Rules::contains(R->UnboundedChannelConstructors, "rill::sync::mpsc::unbounded_channel"));
  EXPECT_TRUE(Rules::contains(R->AsyncSafeTypes, "rill::sync::MutexGuard"));
}

TEST(BuiltinRules, EveryRepositoryFileParsesAlone) {
  std::error_code EC;
  int Count = 0;
  for (llvm::sys::fs::directory_iterator I(RILL_RULES_DIR, EC), E; I != E && !EC; I.increment(EC)) {
    if (llvm::sys::path::extension(I->path()) != ".yaml") continue;
    auto Buf = llvm::MemoryBuffer::getFile(I->path());
    ASSERT_TRUE(static_cast<bool>(Buf)) << I->path();
    Rules R;
    std::string Err;
    EXPECT_TRUE(parseRulesInto(R, (*Buf)->getBuffer(), I->path(), &Err)) << Err;
    ++Count;
  }
  EXPECT_GE(Count, 4);
}

TEST(ParseRules, MergesOverridesAndExcludes) {
  Rules R;
  std::string Err;
  ASSERT_TRUE(parseRulesInto(R, R"(
version: 1
blocking:
  - functions: ["::a", "ns::b"]
    category: "cat1"
    fix: "fix1"
  - name: "ns::C"
    category: "cat2"
    fix: "fix2"
    strict: true
spawn_functions: [my::spawn, "::my::spawn"]
locks:
  guard_types: [my::Guard]
)",
                             "one.yaml", &Err))
      << Err;
  ASSERT_NE(R.findBlocking("a"), nullptr);
  EXPECT_EQ(R.findBlocking("a")->Category, "cat1");
  EXPECT_EQ(R.findBlocking("a")->Origin, "one.yaml:4");
  EXPECT_TRUE(R.findBlocking("ns::C")->Strict);
  EXPECT_EQ(R.SpawnFunctions, std::vector<std::string>{"my::spawn"});  // normalized + deduped
  EXPECT_EQ(R.LockTypes, std::vector<std::string>{"my::Guard"});
  ASSERT_TRUE(parseRulesInto(R, R"(
blocking:
  - name: "::a"
    category: "new"
    fix: "newfix"
exclude_blocking: ["ns::b"]
)",
                             "two.yaml", &Err))
      << Err;
  EXPECT_EQ(R.findBlocking("a")->Category, "new");
  EXPECT_EQ(R.findBlocking("ns::b"), nullptr);
  EXPECT_NE(R.findBlocking("ns::C"), nullptr);
  EXPECT_EQ(R.Blocking.size(), 2u);
}

struct BadCase {
  const char* Name;
  const char* Yaml;
  const char* Message;  // expected prefix of the error
};

class ParseRulesErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseRulesErrors, ReportFileLineColumnAndKeepRulesUnchanged) {
  Rules R = *builtinRules();
  size_t Before = R.Blocking.size();
  std::string Err;
  EXPECT_FALSE(parseRulesInto(R, GetParam().Yaml, "bad.yaml", &Err));
  EXPECT_EQ(Err.rfind(GetParam().Message, 0), 0u) << "got: " << Err;
  EXPECT_EQ(R.Blocking.size(), Before);
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseRulesErrors,
    ::testing::Values(
        BadCase{"UnknownTopKey", "version: 1\nblockin: []\n",
                "bad.yaml:2:1: error: unknown key 'blockin' in a rules file"},
        BadCase{"BadVersion", "version: 2\n",
                "bad.yaml:1:10: error: unsupported rules version '2'"},
        BadCase{"NotAMapping", "- a\n- b\n", "bad.yaml:1:1: error: a rules file must be a mapping"},
        BadCase{"NoCategory", "blocking:\n  - name: x\n    fix: y\n",
                "bad.yaml:2:5: error: 'blocking' entry has no 'category'"},
        BadCase{"NoName", "blocking:\n  - category: x\n    fix: y\n",
                "bad.yaml:2:5: error: 'blocking' entry has no 'name' or 'functions'"},
        BadCase{"BadBool",
                "blocking:\n  - name: x\n    category: c\n    fix: f\n    strict: maybe\n",
                "bad.yaml:5:13: error: expected true or false for 'strict'"},
        BadCase{"BlockingNotAList", "blocking: {name: x}\n",
                "bad.yaml:1:12: error: 'blocking' must be a list of entries"},
        BadCase{"UnknownLocksKey", "locks:\n  guard_typez: [a]\n",
                "bad.yaml:2:3: error: unknown key 'guard_typez' in 'locks'"},
        BadCase{"NestedList", "spawn_functions: [[a]]\n",
                "bad.yaml:1:20: error: expected a string for 'spawn_functions'"},
        BadCase{"ConditionWithoutArg",
                "blocking:\n  - name: x\n    category: c\n    fix: f\n    nonblocking_when:\n"
                "      - {has_flag: LOCK_NB}\n",
                "bad.yaml:6:10: error: this 'nonblocking_when' condition needs 'arg'"},
        BadCase{"ConditionTwoKinds",
                "blocking:\n  - name: x\n    category: c\n    fix: f\n    nonblocking_when:\n"
                "      - {arg: 1, has_flag: A, equals: 0}\n",
                "bad.yaml:6:10: error: a 'nonblocking_when' condition needs exactly one of"},
        BadCase{"ConditionBadArg",
                "blocking:\n  - name: x\n    category: c\n    fix: f\n    nonblocking_when:\n"
                "      - {arg: two, equals: 0}\n",
                "bad.yaml:6:15: error: expected an integer for 'arg'"},
        BadCase{"ParsersNotAList", "address_parsers: {functions: [p]}\n",
                "bad.yaml:1:19: error: 'address_parsers' must be a list of entries"},
        BadCase{"ParserUnknownKey", "address_parsers:\n  - functions: [p]\n    inptu: 0\n",
                "bad.yaml:3:5: error: unknown key 'inptu' in an 'address_parsers' entry"},
        BadCase{"ParserNoErrorOut",
                "address_parsers:\n  - functions: [p]\n    input: 0\n    succeeds_on: numeric_ip\n",
                "bad.yaml:2:5: error: 'address_parsers' entry has no 'error_out'"},
        BadCase{"ParserNoSucceedsOn",
                "address_parsers:\n  - functions: [p]\n    input: 0\n    error_out: 1\n",
                "bad.yaml:2:5: error: 'address_parsers' entry has no 'succeeds_on'"},
        BadCase{"ParserUnknownAccepts",
                "address_parsers:\n  - functions: [p]\n    input: 0\n    error_out: 1\n"
                "    succeeds_on: hostname\n",
                "bad.yaml:5:18: error: unknown 'succeeds_on' value 'hostname' (expected "
                "numeric_ip, numeric_ipv4 or numeric_ipv6)"},
        BadCase{"ParserNegativeIndex",
                "address_parsers:\n  - functions: [p]\n    input: -1\n    error_out: 1\n"
                "    succeeds_on: numeric_ip\n",
                "bad.yaml:3:12: error: 'input' must be between 0 and 64"},
        BadCase{"ParserSameArgument",
                "address_parsers:\n  - functions: [p]\n    input: 1\n    error_out: 1\n"
                "    succeeds_on: numeric_ip\n",
                "bad.yaml:2:5: error: 'address_parsers' entry: 'input' and 'error_out' are the "
                "same argument"},
        BadCase{"UnterminatedString", "blocking:\n  - name: \"x\n    category: y\n", "bad.yaml:"},
        BadCase{"UnterminatedFlowList", "offload_functions: [a, b\n", "bad.yaml:"}),
    [](const ::testing::TestParamInfo<BadCase>& I) { return std::string(I.param.Name); });

TEST(ParseRules, FileArgumentNamesTheRuleForAFilePointer) {
  Rules R;
  std::string Err;
  ASSERT_TRUE(parseRulesInto(R, R"(
blocking:
  - name: "::my_fwrite"
    category: "file I/O"
    fix: "use rill::fs"
  - functions: ["my::print", "my::println"]
    category: "console logging"
    fix: "log asynchronously"
    logging: true
    file_argument: "::my_fwrite"
)",
                             "one.yaml", &Err))
      << Err;
  EXPECT_EQ(R.findBlocking("my::print")->FileArgumentRule, "my_fwrite");
  EXPECT_EQ(R.findBlocking("my::println")->FileArgumentRule, "my_fwrite");
  EXPECT_EQ(R.findBlocking("my_fwrite")->FileArgumentRule, "");
}

TEST(BuiltinRules, PrintFunctionsGivenAFileTakeFprintfsRule) {
  auto R = builtinRules();
  for (const char* F : {"fmt::print", "fmt::println", "std::print", "std::println"}) {
    const BlockingFunction* B = R->findBlocking(F);
    ASSERT_NE(B, nullptr) << F;
    EXPECT_EQ(B->FileArgumentRule, "fprintf") << F;
  }
  EXPECT_EQ(R->findBlocking("std::cerr")->FileArgumentRule, "");
  EXPECT_EQ(R->findBlocking("fprintf")->Category, "file I/O");
}

TEST(ParseRules, ArgumentConditionsGenericFixAndLogging) {
  Rules R;
  std::string Err;
  ASSERT_TRUE(parseRulesInto(R, R"(
version: 1
blocking:
  - functions: [my_lock]
    category: "file lock"
    fix: "use rill"
    generic_fix: "use a thread pool"
    nonblocking_when:
      - {arg: 1, has_flag: MY_NB}
      - {arg: 2, equals: 0}
      - {arg: 0, fd_nonblocking: true}
      - {after: my_is_ready}
  - functions: [my_log]
    category: "console logging"
    fix: "f"
    logging: true
)",
                             "t.yaml", &Err))
      << Err;
  const BlockingFunction* B = R.findBlocking("my_lock");
  ASSERT_NE(B, nullptr);
  EXPECT_EQ(B->GenericFix, "use a thread pool");
  ASSERT_EQ(B->NonBlockingWhen.size(), 4u);
  EXPECT_EQ(B->NonBlockingWhen[0].K, NonBlockingCondition::Kind::HasFlag);
  EXPECT_EQ(B->NonBlockingWhen[0].Arg, 1);
  EXPECT_EQ(B->NonBlockingWhen[0].Name, "MY_NB");
  EXPECT_EQ(B->NonBlockingWhen[1].K, NonBlockingCondition::Kind::Equals);
  EXPECT_EQ(B->NonBlockingWhen[1].Value, 0);
  EXPECT_EQ(B->NonBlockingWhen[2].K, NonBlockingCondition::Kind::FdNonBlocking);
  EXPECT_EQ(B->NonBlockingWhen[3].K, NonBlockingCondition::Kind::After);
  EXPECT_EQ(B->NonBlockingWhen[3].Name, "my_is_ready");
  EXPECT_FALSE(B->Logging);
  EXPECT_TRUE(R.findBlocking("my_log")->Logging);
}

TEST(ParseRules, AddressParsers) {
  Rules R;
  std::string Err;
  ASSERT_TRUE(parseRulesInto(R, R"(
version: 1
address_parsers:
  - functions: ["::net::parse_ip", "net::parse_ip4"]
    input: 1
    error_out: 2
    succeeds_on: numeric_ip
  - functions: [net::parse_ip6]
    input: 0
    error_out: 1
    succeeds_on: numeric_ipv6
)",
                             "t.yaml", &Err))
      << Err;
  const AddressParser* P = R.findAddressParser("net::parse_ip");
  ASSERT_NE(P, nullptr);
  EXPECT_EQ(P->Input, 1);
  EXPECT_EQ(P->ErrorOut, 2);
  EXPECT_EQ(P->SucceedsOn, AddressParser::Accepts::NumericIp);
  EXPECT_EQ(P->Origin, "t.yaml:4");
  EXPECT_NE(R.findAddressParser("::net::parse_ip4"), nullptr);
  ASSERT_NE(R.findAddressParser("net::parse_ip6"), nullptr);
  EXPECT_EQ(R.findAddressParser("net::parse_ip6")->SucceedsOn, AddressParser::Accepts::NumericIpv6);
  EXPECT_EQ(R.findAddressParser("net::parse"), nullptr);
  // A later file replaces an entry of the same name.
  ASSERT_TRUE(parseRulesInto(R,
                             "address_parsers:\n  - functions: [net::parse_ip]\n    input: 0\n"
                             "    error_out: 1\n    succeeds_on: numeric_ipv4\n",
                             "u.yaml", &Err))
      << Err;
  EXPECT_EQ(R.AddressParsers.size(), 3u);
  EXPECT_EQ(R.findAddressParser("net::parse_ip")->SucceedsOn, AddressParser::Accepts::NumericIpv4);
  EXPECT_EQ(R.findAddressParser("net::parse_ip")->Input, 0);
}

TEST(BuiltinRules, AsioAddressParsers) {
  auto R = builtinRules();
  for (const char* Name : {"asio::ip::make_address", "boost::asio::ip::make_address"}) {
    const AddressParser* P = R->findAddressParser(Name);
    ASSERT_NE(P, nullptr) << Name;
    EXPECT_EQ(P->Input, 0);
    EXPECT_EQ(P->ErrorOut, 1);
    EXPECT_EQ(P->SucceedsOn, AddressParser::Accepts::NumericIp);
  }
  ASSERT_NE(R->findAddressParser("asio::ip::make_address_v4"), nullptr);
  EXPECT_EQ(R->findAddressParser("asio::ip::make_address_v4")->SucceedsOn,
            AddressParser::Accepts::NumericIpv4);
  ASSERT_NE(R->findAddressParser("boost::asio::ip::make_address_v6"), nullptr);
  EXPECT_EQ(R->findAddressParser("boost::asio::ip::make_address_v6")->SucceedsOn,
            AddressParser::Accepts::NumericIpv6);
}

TEST(ParseRules, PriorityAndLoggingFunctions) {
  Rules R;
  std::string Err;
  ASSERT_TRUE(parseRulesInto(R, R"(
version: 1
blocking:
  - functions: [my_join]
    category: "thread join"
    fix: "f"
    priority: 90
  - functions: [my_read]
    category: "file I/O"
    fix: "f"
logging_functions: [mylog, "::other::Logger::write", mylog]
)",
                             "t.yaml", &Err))
      << Err;
  EXPECT_EQ(R.findBlocking("my_join")->Priority, 90);
  EXPECT_EQ(R.findBlocking("my_read")->Priority, 50);  // the default
  EXPECT_EQ(R.LoggingFunctions.size(), 2u);            // de-duplicated
  // A namespace or class covers what is declared in it; a function only itself.
  EXPECT_TRUE(R.isLoggingEntry("mylog"));
  EXPECT_TRUE(R.isLoggingEntry("mylog::logger::operator+="));
  EXPECT_TRUE(R.isLoggingEntry("::mylog::info"));
  EXPECT_FALSE(R.isLoggingEntry("mylogger::info"));
  EXPECT_TRUE(R.isLoggingEntry("other::Logger::write"));
  EXPECT_FALSE(R.isLoggingEntry("other::Logger::flush"));
  EXPECT_FALSE(R.isLoggingEntry("other::Logger"));

  Rules Bad;
  EXPECT_FALSE(parseRulesInto(Bad, "blocking:\n  - name: x\n    category: c\n    fix: f\n"
                                   "    priority: high\n",
                              "bad.yaml", &Err));
  EXPECT_EQ(Err, "bad.yaml:5:15: error: expected an integer for 'priority'");
  EXPECT_FALSE(parseRulesInto(Bad, "blocking:\n  - name: x\n    category: c\n    fix: f\n"
                                   "    priority: -1\n",
                              "bad.yaml", &Err));
  EXPECT_EQ(Err, "bad.yaml:5:15: error: 'priority' must be between 0 and 1000");
}

TEST(BuiltinRules, LoggingLibrariesAndPriorities) {
  auto R = builtinRules();
  for (const char* N : {"spdlog::info", "spdlog::logger::log", "easylog::logger::operator+=",
                        "google::LogMessage::LogMessage", "boost::log::core::push_record"})
    EXPECT_TRUE(R->isLoggingEntry(N)) << N;
  EXPECT_FALSE(R->isLoggingEntry("google::protobuf::Message::ParseFromString"));
  EXPECT_FALSE(R->isLoggingEntry("fmt::print"));
  EXPECT_TRUE(R->findBlocking("syslog")->Logging);
  // The order that picks the most telling of several blocking calls.
  EXPECT_GT(R->findBlocking("coro::sync_wait")->Priority,
            R->findBlocking("std::thread::join")->Priority);
  EXPECT_GT(R->findBlocking("std::thread::join")->Priority, R->findBlocking("sleep")->Priority);
  EXPECT_GT(R->findBlocking("sleep")->Priority, R->findBlocking("recv")->Priority);
  EXPECT_GT(R->findBlocking("recv")->Priority, R->findBlocking("std::basic_ofstream")->Priority);
  EXPECT_GT(R->findBlocking("std::basic_ofstream")->Priority, R->findBlocking("deflate")->Priority);
  EXPECT_GT(R->findBlocking("deflate")->Priority, R->findBlocking("std::mutex::lock")->Priority);
  EXPECT_GT(R->findBlocking("close")->Priority, R->findBlocking("printf")->Priority);
}

TEST(BuiltinRules, ConsistentLockRulesAndRuntimeBridges) {
  auto R = builtinRules();
  // pthread_mutex_lock and std::mutex::lock follow the same (Strict) policy.
  EXPECT_TRUE(R->findBlocking("pthread_mutex_lock")->Strict);
  EXPECT_TRUE(R->findBlocking("std::mutex::lock")->Strict);
  for (const char* N : {"coro::sync_wait", "cppcoro::sync_wait", "async_simple::coro::syncAwait",
                        "folly::coro::blockingWait", "asio::io_context::run"})
    EXPECT_NE(R->findBlocking(N), nullptr) << N;
  // Fix texts name only APIs that exist; every built-in rule has a runtime-neutral variant.
  for (const BlockingFunction& B : R->Blocking) {
    EXPECT_EQ(B.Fix.find("rill::process"), std::string::npos) << B.Name;
    // rill has no readiness API and no async stdin: rill::net's operations wait by themselves.
    EXPECT_EQ(B.Fix.find("readiness through rill"), std::string::npos) << B.Name;
    EXPECT_EQ(B.Fix.find("rill::io on fd"), std::string::npos) << B.Name;
    if (B.Fix.find("rill") != std::string::npos && !B.Logging)
      EXPECT_FALSE(B.GenericFix.empty()) << B.Name;
  }
  EXPECT_TRUE(R->findBlocking("printf")->Logging);
  EXPECT_TRUE(R->findBlocking("std::cerr")->Logging);
  EXPECT_FALSE(R->findBlocking("std::cin")->Logging);
}

TEST(LoadRules, RelativeConfigPathsResolveAgainstTheConfigFile) {
  llvm::SmallString<128> Dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("rill-rules-rel", Dir));
  llvm::SmallString<128> Sub(Dir);
  llvm::sys::path::append(Sub, "src", "deep");
  ASSERT_FALSE(llvm::sys::fs::create_directories(Sub));
  {
    std::error_code EC;
    llvm::raw_fd_ostream OS((Dir + "/.clang-tidy").str(), EC);
    ASSERT_FALSE(EC);
    OS << "CheckOptions:\n  rill.RulesFiles: 'rules/extra.yaml'\n";
  }
  std::vector<std::string> Files =
      resolveConfigRulesFiles("rules/extra.yaml;/abs/x.yaml", (Sub + "/a.cpp").str());
  ASSERT_EQ(Files.size(), 2u);
  EXPECT_EQ(Files[0], (Dir + "/rules/extra.yaml").str());
  EXPECT_EQ(Files[1], "/abs/x.yaml");
  llvm::sys::fs::remove_directories(Dir);
}

TEST(LoadRules, MissingFileIsAnError) {
  std::string Err;
  EXPECT_EQ(loadRules({"/nonexistent/rules.yaml"}, &Err), nullptr);
  EXPECT_NE(Err.find("/nonexistent/rules.yaml: error: cannot read rules file"), std::string::npos)
      << Err;
}

TEST(LoadRules, FileArgumentMustNameALoadedRule) {
  llvm::SmallString<128> Path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("rill-rules", "yaml", Path));
  auto Load = [&](llvm::StringRef FileArgument, std::string& Err) {
    {
      std::error_code EC;
      llvm::raw_fd_ostream OS(Path, EC);
      EXPECT_FALSE(EC);
      OS << "blocking:\n  - name: my::print\n    category: c\n    fix: f\n"
         << "    file_argument: \"" << FileArgument << "\"\n";
    }
    return loadRules({std::string(Path)}, &Err);
  };
  std::string Err;
  auto Good = Load("::fprintf", Err);  // a built-in rule
  ASSERT_NE(Good, nullptr) << Err;
  EXPECT_EQ(Good->findBlocking("my::print")->FileArgumentRule, "fprintf");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new modification time
  EXPECT_EQ(Load("fprintff", Err), nullptr);
  EXPECT_NE(Err.find(std::string(Path) + ":2: error: 'file_argument' of 'my::print' names "
                                         "'fprintff', which no 'blocking' entry defines"),
            std::string::npos)
      << Err;
  llvm::sys::fs::remove(Path);
}

TEST(LoadRules, CachesAndNoticesChanges) {
  llvm::SmallString<128> Path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("rill-rules", "yaml", Path));
  auto Write = [&](llvm::StringRef Text) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Path, EC);
    ASSERT_FALSE(EC);
    OS << Text;
  };
  Write("blocking:\n  - name: x::y\n    category: c\n    fix: f\n");
  std::string Err;
  auto A = loadRules({std::string(Path)}, &Err);
  ASSERT_NE(A, nullptr) << Err;
  EXPECT_NE(A->findBlocking("x::y"), nullptr);
  EXPECT_NE(A->findBlocking("sleep"), nullptr);  // built-ins are kept
  EXPECT_EQ(loadRules({std::string(Path)}, &Err), A);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Write("blocking:\n  - name: x::z\n    category: c\n    fix: f\n    \n");
  auto B = loadRules({std::string(Path)}, &Err);
  ASSERT_NE(B, nullptr) << Err;
  EXPECT_NE(B, A);
  EXPECT_NE(B->findBlocking("x::z"), nullptr);
  llvm::sys::fs::remove(Path);
  EXPECT_EQ(loadRules({}, &Err), builtinRules());
}

TEST(LoadRules, SplitFileLists) {
  EXPECT_EQ(splitRulesFileList(" a.yaml; b.yaml,c.yaml ;;"),
            (std::vector<std::string>{"a.yaml", "b.yaml", "c.yaml"}));
  EXPECT_TRUE(splitRulesFileList("").empty());
}

TEST(QualifiedName, NormalizesForRuleMatching) {
  std::unique_ptr<clang::ASTUnit> AST = clang::tooling::buildASTFromCodeWithArgs(R"(
namespace std { inline namespace __cxx11 {
template <class T> struct basic_ifstream { void read(); basic_ifstream(); };
} }
namespace outer { namespace { void hidden(); } namespace inner { void f(); } }
extern "C" { unsigned sleep(unsigned); }
struct S { template <class T> void g(T); };
void use() { std::basic_ifstream<char> f; f.read(); outer::hidden(); outer::inner::f(); sleep(1); S().g(1); }
)",
                                                                                 {"-std=c++20"});
  ASSERT_NE(AST, nullptr);
  using namespace clang::ast_matchers;
  std::vector<std::string> Names;
  for (const BoundNodes& N :
       match(callExpr(callee(functionDecl().bind("f"))), AST->getASTContext()))
    Names.push_back(qualifiedNameForRules(N.getNodeAs<clang::FunctionDecl>("f")));
  EXPECT_EQ(Names, (std::vector<std::string>{"std::basic_ifstream::read", "outer::hidden",
                                             "outer::inner::f", "sleep", "S::g"}));
  EXPECT_EQ(normalizeRuleName("  ::std::x "), "std::x");
}

}  // namespace
}  // namespace rill::lint
