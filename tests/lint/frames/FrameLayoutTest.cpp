// Unit tests of the coroutine frame estimate (lint/analysis/FrameLayout.h) and of the shared
// coroutine helpers (lint/analysis/Coroutine.h). Reference sizes are clang 19's own, measured with
// `clang++-19 -std=c++20 -O0 -Rpass=coro-split` on the same sources (x86-64).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include <clang/AST/ASTContext.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Frontend/ASTUnit.h>
#include <clang/Tooling/Tooling.h>

#include "analysis/Coroutine.h"
#include "analysis/FrameLayout.h"

namespace rill::lint {
namespace {

using namespace clang;
using namespace clang::ast_matchers;

// A self-contained <coroutine> (so the test needs no system include paths) plus a Task type.
constexpr const char* kPrelude = R"cpp(
  namespace std {
  template <class R, class... Args>
  struct coroutine_traits {
    using promise_type = typename R::promise_type;
  };
  template <class P = void>
  struct coroutine_handle;
  template <>
  struct coroutine_handle<void> {
    static coroutine_handle from_address(void* a) noexcept {
      coroutine_handle h;
      h.p = a;
      return h;
    }
    void* address() const noexcept { return p; }
    void* p = nullptr;
  };
  template <class P>
  struct coroutine_handle {
    static coroutine_handle from_address(void* a) noexcept {
      coroutine_handle h;
      h.p = a;
      return h;
    }
    static coroutine_handle from_promise(P&) noexcept { return {}; }
    operator coroutine_handle<>() const noexcept { return coroutine_handle<>::from_address(p); }
    void* address() const noexcept { return p; }
    void* p = nullptr;
  };
  struct suspend_always {
    bool await_ready() const noexcept { return false; }
    void await_suspend(coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  }  // namespace std
  struct Task {
    struct promise_type {
      Task get_return_object() { return {}; }
      std::suspend_always initial_suspend() noexcept { return {}; }
      std::suspend_always final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() {}
    };
  };
  struct Tick {
    bool await_ready() { return false; }
    void await_suspend(std::coroutine_handle<>) {}
    int await_resume() { return 1; }
  };
  void consume(const void*, unsigned long);
)cpp";

class FrameLayoutTest : public ::testing::Test {
 protected:
  void parse(const std::string& Code) {
    AST = tooling::buildASTFromCodeWithArgs(
        std::string(kPrelude) + Code,
        {"-std=c++20", "-fsyntax-only", "-target", "x86_64-linux-gnu"}, "frames.cpp");
    ASSERT_TRUE(AST);
    ASSERT_FALSE(AST->getDiagnostics().hasErrorOccurred());
  }
  const FunctionDecl* fn(const std::string& Name) {
    auto Matches =
        match(functionDecl(hasName(Name), isDefinition()).bind("f"), AST->getASTContext());
    return Matches.empty() ? nullptr : Matches[0].getNodeAs<FunctionDecl>("f");
  }
  FrameEstimate estimate(const std::string& Name) {
    const FunctionDecl* FD = fn(Name);
    EXPECT_NE(FD, nullptr) << Name;
    if (!FD) return {};
    std::optional<FrameEstimate> E = estimateCoroutineFrame(FD, AST->getASTContext());
    EXPECT_TRUE(E.has_value()) << Name;
    return E.value_or(FrameEstimate{});
  }
  static const FrameField* field(const FrameEstimate& E, const std::string& Name) {
    auto It = std::find_if(E.Fields.begin(), E.Fields.end(),
                           [&](const FrameField& F) { return F.Name == Name; });
    return It == E.Fields.end() ? nullptr : &*It;
  }
  std::unique_ptr<ASTUnit> AST;
};

TEST(FrameLayout, HeaderThenIncreasingAlignmentAndRounding) {
  // Mirrors LLVM's layout of `Task f(int x) { char buf[65536]; ... co_await Tick{}; }`:
  // { ptr, ptr, promise(1), i2, suspend_always, Tick, i32, suspend_always, [7 x i8], [65536 x i8]
  // }.
  std::vector<FrameField> Fields = {
      {FrameField::Kind::Header, "resume", {}, 8, 8},
      {FrameField::Kind::Header, "destroy", {}, 8, 8},
      {FrameField::Kind::Promise, "promise", {}, 1, 1},
      {FrameField::Kind::Index, "index", {}, 1, 1},
      {FrameField::Kind::Local, "'buf'", {}, 65536, 16},
      {FrameField::Kind::Parameter, "x", {}, 4, 4},
      {FrameField::Kind::Awaiter, "initial", {}, 1, 1},
      {FrameField::Kind::Awaiter, "tick", {}, 1, 1},
      {FrameField::Kind::Awaiter, "final", {}, 1, 1},
  };
  uint64_t Align = 0;
  EXPECT_EQ(layoutFrameFields(Fields, &Align), 65568u);  // clang-19: frame_size=65568, align=16
  EXPECT_EQ(Align, 16u);
}

TEST(FrameLayout, OverAlignedLocal) {
  // aligned_locals() of calibration.cpp: alignas(64) char[1024], double[100], char: 1856 / 64.
  std::vector<FrameField> Fields = {
      {FrameField::Kind::Header, "resume", {}, 8, 8},
      {FrameField::Kind::Header, "destroy", {}, 8, 8},
      {FrameField::Kind::Promise, "promise", {}, 1, 1},
      {FrameField::Kind::Index, "index", {}, 1, 1},
      {FrameField::Kind::Local, "line", {}, 1024, 64},
      {FrameField::Kind::Local, "d", {}, 800, 8},
      {FrameField::Kind::Local, "c", {}, 1, 1},
      {FrameField::Kind::Awaiter, "a1", {}, 1, 1},
      {FrameField::Kind::Awaiter, "a2", {}, 1, 1},
      {FrameField::Kind::Awaiter, "a3", {}, 1, 1},
  };
  uint64_t Align = 0;
  EXPECT_EQ(layoutFrameFields(Fields, &Align), 1856u);
  EXPECT_EQ(Align, 64u);
}

TEST_F(FrameLayoutTest, BigBufferAcrossSuspension) {
  parse(R"cpp(
    Task f(int x) {
      char buf[65536];
      buf[0] = x;
      co_await Tick{};
      consume(buf, sizeof buf);
    }
  )cpp");
  FrameEstimate E = estimate("f");
  EXPECT_EQ(E.Size, 65568u);  // clang-19 -O0: frame_size=65568
  EXPECT_EQ(E.Align, 16u);
  const FrameField* Buf = field(E, "'buf'");
  ASSERT_NE(Buf, nullptr);
  EXPECT_EQ(Buf->Size, 65536u);
  EXPECT_EQ(Buf->FieldKind, FrameField::Kind::Local);
  EXPECT_NE(field(E, "parameter 'x'"), nullptr);
}

TEST_F(FrameLayoutTest, LifetimeDecidesWhatIsInTheFrame) {
  parse(R"cpp(
    Task before(int x) {
      char buf[1000];
      buf[0] = x;
      consume(buf, 1000);
      co_await Tick{};
    }
    Task closed(int x) {
      {
        char buf[1000];
        buf[0] = x;
        consume(buf, 1000);
      }
      co_await Tick{};
    }
    Task after(int x) {
      co_await Tick{};
      char buf[1000];
      buf[0] = x;
      consume(buf, 1000);
    }
    Task loop(int n) {
      for (int i = 0; i < n; ++i) {
        co_await Tick{};
        char buf[1000];
        consume(buf, 1000);
      }
    }
    Task stat() {
      static char buf[100000];
      buf[0] = 1;
      co_await Tick{};
      consume(buf, 1);
    }
  )cpp");
  // clang-19 -O0 frame_size: before 1040, closed 32, after 32, loop 1040, stat 24.
  EXPECT_NE(field(estimate("before"), "'buf'"), nullptr);
  EXPECT_EQ(field(estimate("closed"), "'buf'"), nullptr);
  EXPECT_EQ(field(estimate("after"), "'buf'"), nullptr);
  EXPECT_NE(field(estimate("loop"), "'buf'"), nullptr);
  EXPECT_EQ(field(estimate("stat"), "'buf'"), nullptr);
  EXPECT_EQ(estimate("before").Size, 1040u);
  EXPECT_EQ(estimate("closed").Size, 32u);
  EXPECT_EQ(estimate("after").Size, 32u);
  EXPECT_EQ(estimate("loop").Size, 1040u);
  EXPECT_EQ(estimate("stat").Size, 24u);
}

TEST_F(FrameLayoutTest, AwaiterPromiseAndByValueParameter) {
  parse(R"cpp(
    struct Big {
      char bytes[4096];
      bool await_ready() { return false; }
      void await_suspend(std::coroutine_handle<>) {}
      int await_resume() { return 0; }
    };
    struct Packet {
      char data[3000];
    };
    Task g(Packet p, const Packet& r) {
      int n = co_await Big{};
      consume(&n, sizeof n);
      consume(&p, 1);
      consume(&r, 1);
    }
  )cpp");
  FrameEstimate E = estimate("g");
  const FrameField* Awaiter = nullptr;
  for (const FrameField& F : E.Fields)
    if (F.FieldKind == FrameField::Kind::Awaiter && F.Size == 4096) Awaiter = &F;
  EXPECT_NE(Awaiter, nullptr);
  const FrameField* P = field(E, "parameter 'p'");
  ASSERT_NE(P, nullptr);
  EXPECT_EQ(P->Size, 3000u);
  const FrameField* R = field(E, "parameter 'r'");
  ASSERT_NE(R, nullptr);
  EXPECT_EQ(R->Size, 8u);  // a reference parameter is a spilled pointer
  EXPECT_GE(E.Size, 4096u + 3000u + 16u);
}

TEST_F(FrameLayoutTest, NotACoroutine) {
  parse("int plain() { char buf[100]; return buf[0]; }\n");
  const FunctionDecl* FD = fn("plain");
  ASSERT_NE(FD, nullptr);
  EXPECT_FALSE(estimateCoroutineFrame(FD, AST->getASTContext()).has_value());
  EXPECT_EQ(getCoroutineBody(FD), nullptr);
}

TEST_F(FrameLayoutTest, CoroutineHelpers) {
  parse(R"cpp(
    namespace ns {
    struct S {
      Task m() {
        co_await Tick{};
        co_await Tick{};
      }
    };
    }  // namespace ns
    auto lam = []() -> Task {
      auto inner = []() -> Task { co_await Tick{}; };
      co_await Tick{};
    };
  )cpp");
  const FunctionDecl* M = fn("m");
  ASSERT_NE(M, nullptr);
  ASSERT_NE(getCoroutineBody(M), nullptr);
  EXPECT_EQ(coroutineDisplayName(M), "ns::S::m");
  llvm::SmallVector<const Expr*, 4> Points;
  collectSuspensionPoints(getCoroutineBody(M)->getBody(), Points);
  EXPECT_EQ(Points.size(), 2u);  // the implicit initial/final suspends are not included

  auto Lambdas =
      match(cxxMethodDecl(hasName("operator()"), isDefinition()).bind("f"), AST->getASTContext());
  ASSERT_EQ(Lambdas.size(), 2u);
  for (const auto& L : Lambdas) {
    const auto* FD = L.getNodeAs<FunctionDecl>("f");
    EXPECT_TRUE(isLambdaCallOperator(FD));
    EXPECT_TRUE(llvm::StringRef(coroutineDisplayName(FD)).starts_with("lambda at frames.cpp:"));
    llvm::SmallVector<const Expr*, 4> P;
    collectSuspensionPoints(getCoroutineBody(FD)->getBody(), P);
    EXPECT_EQ(P.size(), 1u);  // the outer lambda does not own the inner lambda's co_await
  }
}

TEST(CoroutineHelpers, QualifiedNameMatching) {
  EXPECT_TRUE(matchesQualifiedName("std::unique_lock", {"::std::unique_lock"}));
  EXPECT_TRUE(matchesQualifiedName("std::unique_lock", {"std::mutex", "std::unique_lock"}));
  EXPECT_FALSE(matchesQualifiedName("std::unique_lock", {"std::lock_guard"}));
  EXPECT_FALSE(matchesQualifiedName("my::std::unique_lock", {"std::unique_lock"}));
}

}  // namespace
}  // namespace rill::lint
