// Unit tests of rill-lint's driver helpers: the unified-diff parser of --changed-since and the
// result cache's serialization and validation (lint/tool/).
#include <clang/Tooling/Core/Replacement.h>
#include <gtest/gtest.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include "tool/Cache.h"
#include "tool/Changes.h"

namespace rill::lint::tool {
namespace {

TEST(ParseUnifiedDiff, AddedAndChangedLinesPerFile) {
  const char* Diff =
      "diff --git a/src/a.cpp b/src/a.cpp\n"
      "--- a/src/a.cpp\n"
      "+++ b/src/a.cpp\n"
      "@@ -3 +3 @@ void f() {\n"        // one changed line (counts omitted = 1)
      "-  old();\n"
      "+  now();\n"
      "@@ -10,0 +11,3 @@\n"            // three added lines
      "+a\n+b\n+c\n"
      "@@ -20,2 +23,0 @@\n"            // deletion only: no new line
      "-x\n-y\n"
      "diff --git a/gone.cpp b/gone.cpp\n"
      "--- a/gone.cpp\n"
      "+++ /dev/null\n"
      "@@ -1,2 +0,0 @@\n"
      "-x\n-y\n"
      "diff --git a/h.hpp b/h.hpp\n"
      "--- a/h.hpp\n"
      "+++ b/h.hpp\n"
      "@@ -5 +4,0 @@\n"
      "-gone\n";
  auto Files = parseUnifiedDiff(Diff, "/repo");
  ASSERT_EQ(Files.size(), 2u);  // the deleted file is absent
  const auto& A = Files["/repo/src/a.cpp"];
  ASSERT_EQ(A.size(), 2u);
  EXPECT_EQ(A[0], std::make_pair(3u, 3u));
  EXPECT_EQ(A[1], std::make_pair(11u, 13u));
  EXPECT_TRUE(Files["/repo/h.hpp"].empty());  // changed file, no added line

  ChangedLines C;
  C.Files = std::move(Files);
  EXPECT_TRUE(C.contains("/repo/src/a.cpp", 12));
  EXPECT_FALSE(C.contains("/repo/src/a.cpp", 14));
  EXPECT_FALSE(C.contains("/repo/h.hpp", 4));
  EXPECT_TRUE(C.containsFile("/repo/h.hpp"));
}

TEST(ResultCache, RoundTripsErrorsFixesNotesAndStats) {
  CachedResult R;
  clang::tidy::ClangTidyError E("rill-blocking-call", clang::tidy::ClangTidyError::Warning,
                                "/build", /*IsWarningAsError=*/true);
  E.Message.Message = "blocking \"sleep\"\n";
  E.Message.FilePath = "/src/a.cpp";
  E.Message.FileOffset = 42;
  clang::tooling::Replacement Rep0("/src/a.cpp", 40, 5, "co_await x");
  ASSERT_FALSE(static_cast<bool>(E.Message.Fix["/src/a.cpp"].add(Rep0)));
  clang::tooling::DiagnosticMessage N;
  N.Message = "called here";
  N.FilePath = "/src/b.cpp";
  N.FileOffset = 7;
  E.Notes.push_back(N);
  E.EnabledDiagnosticAliases.push_back("alias-check");
  R.Errors.push_back(E);
  R.Stats.ErrorsIgnoredNOLINT = 3;

  std::optional<CachedResult> Back = ResultCache::deserialize(ResultCache::serialize(R));
  ASSERT_TRUE(Back.has_value());
  ASSERT_EQ(Back->Errors.size(), 1u);
  const auto& B = Back->Errors[0];
  EXPECT_EQ(B.DiagnosticName, "rill-blocking-call");
  EXPECT_EQ(B.DiagLevel, clang::tidy::ClangTidyError::Warning);
  EXPECT_TRUE(B.IsWarningAsError);
  EXPECT_EQ(B.BuildDirectory, "/build");
  EXPECT_EQ(B.Message.Message, "blocking \"sleep\"\n");
  EXPECT_EQ(B.Message.FileOffset, 42u);
  ASSERT_EQ(B.Message.Fix.count("/src/a.cpp"), 1u);
  const auto& Rep = *B.Message.Fix.find("/src/a.cpp")->second.begin();
  EXPECT_EQ(Rep.getOffset(), 40u);
  EXPECT_EQ(Rep.getReplacementText(), "co_await x");
  ASSERT_EQ(B.Notes.size(), 1u);
  EXPECT_EQ(B.Notes[0].FilePath, "/src/b.cpp");
  EXPECT_EQ(B.EnabledDiagnosticAliases, std::vector<std::string>{"alias-check"});
  EXPECT_EQ(Back->Stats.ErrorsIgnoredNOLINT, 3u);
  EXPECT_FALSE(ResultCache::deserialize("not json").has_value());
}

TEST(ResultCache, EntryIsValidOnlyWhileTheFilesReadAreUnchanged) {
  llvm::SmallString<128> Dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("rill-cache-test", Dir));
  std::string Header = (Dir + "/h.hpp").str();
  auto WriteFile = [](const std::string& P, llvm::StringRef Text) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(P, EC);
    OS << Text;
  };
  WriteFile(Header, "int x;\n");
  ResultCache Cache((Dir + "/cache").str(), "v1");
  std::string Key = Cache.key("/src/a.cpp", {"-std=c++20", "Checks: rill-*"});
  EXPECT_NE(Key, Cache.key("/src/a.cpp", {"-std=c++17", "Checks: rill-*"}));
  ResultCache Other((Dir + "/cache").str(), "v2");
  EXPECT_NE(Key, Other.key("/src/a.cpp", {"-std=c++20", "Checks: rill-*"}));
  EXPECT_FALSE(Cache.lookup(Key).has_value());
  CachedResult R;
  R.Stats.ErrorsDisplayed = 1;
  Cache.store(Key, R, {Header});
  ASSERT_TRUE(Cache.lookup(Key).has_value());
  EXPECT_EQ(Cache.lookup(Key)->Stats.ErrorsDisplayed, 1u);
  WriteFile(Header, "int y;\n");
  EXPECT_FALSE(Cache.lookup(Key).has_value());
  llvm::sys::fs::remove_directories(Dir);
}

}  // namespace
}  // namespace rill::lint::tool
