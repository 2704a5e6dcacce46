// Unit tests of the report renderers (lint/report/Findings.h).
#include "report/Findings.h"

#include <clang-tidy/ClangTidyDiagnosticConsumer.h>
#include <gtest/gtest.h>
#include <llvm/Support/JSON.h>
#include <llvm/Support/MemoryBuffer.h>

namespace rill::lint::report {
namespace {

Finding makeFinding(std::string Check, std::string File, unsigned Line, std::string Msg) {
  Finding F;
  F.Check = std::move(Check);
  F.Loc = {std::move(File), Line, 3};
  F.Message = std::move(Msg);
  return F;
}

TEST(GitHubEscaping, FollowsTheWorkflowCommandRules) {
  EXPECT_EQ(escapeGitHubData("100% done\r\nnext"), "100%25 done%0D%0Anext");
  EXPECT_EQ(escapeGitHubData("a:b,c"), "a:b,c");
  EXPECT_EQ(escapeGitHubProperty("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
}

TEST(GitHub, OneAnnotationPerFindingWithNotes) {
  Finding F = makeFinding("rill-blocking-call", "/src/a,b.cpp", 7, "blocking: x, 100%");
  F.Notes.push_back({{"/src/h.cpp", 2, 5}, "calls here"});
  Finding E = makeFinding("clang-diagnostic-error", "/src/c.cpp", 1, "bad");
  E.IsError = true;
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  RenderOptions RO;
  RO.SourceRoot = "/src";
  writeGitHub({F, E}, RO, OS);
  EXPECT_EQ(Out,
            "::warning file=a%2Cb.cpp,line=7,col=3,title=rill-blocking-call::blocking: x, 100%25"
            "%0Anote: h.cpp:2:5: calls here\n"
            "::error file=c.cpp,line=1,col=3,title=clang-diagnostic-error::bad\n");
}

TEST(Sarif, StructureRulesResultsAndFingerprints) {
  RenderOptions RO;
  RO.SourceRoot = "/src";
  Finding A = makeFinding("rill-blocking-call", "/src/dir/a.cpp", 3, "m1");
  A.Notes.push_back({{"/src/dir/a.cpp", 1, 1}, "n1"});
  Finding B = makeFinding("rill-unbounded-fanout", "/elsewhere/b.cpp", 9, "m2");
  B.IsError = true;
  Finding C = makeFinding("rill-blocking-call", "/src/dir/a.cpp", 3, "m1");  // identical twin
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  writeSarif({A, B, C}, RO, OS);
  llvm::Expected<llvm::json::Value> V = llvm::json::parse(Out);
  ASSERT_TRUE(static_cast<bool>(V)) << llvm::toString(V.takeError());
  const llvm::json::Object* Log = V->getAsObject();
  EXPECT_EQ(*Log->getString("version"), "2.1.0");
  EXPECT_TRUE(Log->getString("$schema")->contains("sarif-2.1.0"));
  const llvm::json::Object* Run = (*Log->getArray("runs"))[0].getAsObject();
  const llvm::json::Array* Rules = Run->getObject("tool")->getObject("driver")->getArray("rules");
  ASSERT_EQ(Rules->size(), 2u);
  EXPECT_EQ(*(*Rules)[0].getAsObject()->getString("id"), "rill-blocking-call");
  EXPECT_FALSE((*Rules)[0].getAsObject()->getObject("help")->getString("text")->empty());
  const llvm::json::Array* Results = Run->getArray("results");
  ASSERT_EQ(Results->size(), 3u);
  const llvm::json::Object* R0 = (*Results)[0].getAsObject();
  EXPECT_EQ(*R0->getString("ruleId"), "rill-blocking-call");
  EXPECT_EQ(*R0->getInteger("ruleIndex"), 0);
  EXPECT_EQ(*R0->getString("level"), "warning");
  const llvm::json::Object* Art = (*R0->getArray("locations"))[0]
                                      .getAsObject()
                                      ->getObject("physicalLocation")
                                      ->getObject("artifactLocation");
  EXPECT_EQ(*Art->getString("uri"), "dir/a.cpp");
  EXPECT_EQ(*Art->getString("uriBaseId"), "%SRCROOT%");
  EXPECT_EQ(R0->getArray("relatedLocations")->size(), 1u);
  const llvm::json::Object* R1 = (*Results)[1].getAsObject();
  EXPECT_EQ(*R1->getString("level"), "error");
  EXPECT_EQ(*(*R1->getArray("locations"))[0]
                 .getAsObject()
                 ->getObject("physicalLocation")
                 ->getObject("artifactLocation")
                 ->getString("uri"),
            "file:///elsewhere/b.cpp");
  // Identical findings get distinct fingerprints (occurrence counter).
  auto FP = [&](size_t I) {
    return (*Results)[I]
        .getAsObject()
        ->getObject("partialFingerprints")
        ->getString("rillFingerprint/v1")
        ->str();
  };
  EXPECT_NE(FP(0), FP(2));
  EXPECT_EQ(*Run->getObject("originalUriBaseIds")->getObject("%SRCROOT%")->getString("uri"),
            "file:///src/");
}

TEST(Markdown, CountsAndCollapse) {
  std::vector<Finding> Fs;
  for (unsigned I = 0; I < 52; ++I)
    Fs.push_back(makeFinding(I % 2 ? "rill-blocking-call" : "rill-unbounded-fanout",
                             I < 40 ? "/r/a.cpp" : "/r/b.cpp", I + 1, "msg_with*markdown"));
  std::string Out;
  llvm::raw_string_ostream OS(Out);
  RenderOptions RO;
  RO.SourceRoot = "/r";
  writeMarkdown(Fs, RO, OS);
  EXPECT_NE(Out.find("**52 findings** (52 warnings, 0 errors) in 2 files."), std::string::npos)
      << Out;
  EXPECT_NE(Out.find("| `rill-blocking-call` | 26 |"), std::string::npos);
  EXPECT_NE(Out.find("| `a.cpp` | 40 |"), std::string::npos);
  EXPECT_NE(Out.find("<summary>2 more findings</summary>"), std::string::npos);
  EXPECT_NE(Out.find("- `b.cpp:52` **warning** msg\\_with\\*markdown"), std::string::npos);
  EXPECT_LT(Out.find("- `b.cpp:50`"), Out.find("<details>"));
  EXPECT_GT(Out.find("- `b.cpp:51`"), Out.find("<details>"));
}

TEST(CollectFindings, ResolvesOffsetsAndBuildDirectories) {
  auto FS = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  FS->addFile("/build/src/x.cpp", 0, llvm::MemoryBuffer::getMemBuffer("line1\nline2 here\nl3\n"));
  clang::tidy::ClangTidyError E("rill-blocking-call", clang::tooling::Diagnostic::Warning, "/build",
                                /*IsWarningAsError=*/true);
  E.Message.Message = "msg";
  E.Message.FilePath = "src/x.cpp";  // relative to the build directory
  E.Message.FileOffset = 12;         // 'line2 here' -> column 7 ('h')
  clang::tooling::DiagnosticMessage N("note");
  N.FilePath = "/build/src/x.cpp";
  N.FileOffset = 0;
  E.Notes.push_back(N);
  std::vector<Finding> Fs = collectFindings({E}, *FS);
  ASSERT_EQ(Fs.size(), 1u);
  EXPECT_EQ(Fs[0].Loc.File, "/build/src/x.cpp");
  EXPECT_EQ(Fs[0].Loc.Line, 2u);
  EXPECT_EQ(Fs[0].Loc.Column, 7u);
  EXPECT_TRUE(Fs[0].IsError);
  EXPECT_TRUE(Fs[0].IsWarningAsError);
  ASSERT_EQ(Fs[0].Notes.size(), 1u);
  EXPECT_EQ(Fs[0].Notes[0].Loc.Line, 1u);
  EXPECT_EQ(Fs[0].Notes[0].Loc.Column, 1u);
}

TEST(DescribeCheck, RillAndUpstream) {
  EXPECT_EQ(describeCheck("rill-large-frame").Short, "Coroutine frame larger than the threshold");
  EXPECT_NE(
      describeCheck("rill-blocking-call").HelpMarkdown.find("docs/lint/rill-blocking-call.md"),
      std::string::npos);
  EXPECT_EQ(describeCheck("bugprone-use-after-move").HelpUri,
            "https://clang.llvm.org/extra/clang-tidy/checks/bugprone/use-after-move.html");
  EXPECT_EQ(describeCheck("clang-diagnostic-error").Short, "Clang compiler diagnostic");
}

}  // namespace
}  // namespace rill::lint::report
