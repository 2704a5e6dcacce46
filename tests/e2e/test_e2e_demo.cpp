// tests/e2e/test_e2e_demo.cpp: the main job, short version. Runs `.ci/demo.sh --short` against
// this build once (rill-lint over examples/, demo_server under /hash and /hash_offloaded load,
// the long-poll reports, SIGTERM) and checks what it produced: the lint findings (every pitfall
// flagged by its check, no fix flagged; SARIF and Markdown reports written), the detector's
// reports (stacks naming crypt_r and the hash_inline coroutine), and a clean shutdown. The
// latency acceptance is measured by the full main job (.ci/main), not here: under ctest other
// tests share the two cores.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class DemoE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string cmd = std::string("bash '") + RILL_SOURCE_DIR + "/.ci/demo.sh' --build '" +
                            RILL_BINARY_DIR + "' --short 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr) << "cannot run " << cmd;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
      output_->append(buf.data(), n);
    const int st = pclose(p);
    exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  static std::string reports(const char* file) {
    return std::string(RILL_BINARY_DIR) + "/reports/" + file;
  }
  static inline std::string* output_ = new std::string;
  static inline int exit_status_ = -1;
};

TEST_F(DemoE2E, MainJobSucceeds) {
  EXPECT_EQ(exit_status_, 0) << *output_;
  EXPECT_NE(output_->find("all checks passed"), std::string::npos) << *output_;
}

TEST_F(DemoE2E, LintFlagsEveryPitfallAndNoFix) {
  EXPECT_NE(output_->find("lint verdict: PASS"), std::string::npos) << *output_;
  const std::string sarif = slurp(reports("lint.sarif"));
  ASSERT_FALSE(sarif.empty()) << "no " << reports("lint.sarif");
  for (const char* check : {"rill-blocking-call", "rill-lock-across-await", "rill-unbounded-fanout",
                            "rill-large-frame"})
    EXPECT_NE(sarif.find(std::string("\"ruleId\": \"") + check + "\""), std::string::npos)
        << check << " did not fire";
  const std::string md = slurp(reports("lint.md"));
  EXPECT_NE(md.find("rill-blocking-call"), std::string::npos) << md;
  EXPECT_NE(md.find("handlers.cpp"), std::string::npos) << md;
}

TEST_F(DemoE2E, DetectorReportsNameCryptAndTheHandler) {
  EXPECT_NE(output_->find("detector verdict: PASS"), std::string::npos) << *output_;
  // Independently of the script's parsing: a captured report in the server's log whose stacks
  // name crypt_r (native) and the hash_inline coroutine (async).
  const std::string log = slurp(reports("demo_server.log"));
  bool found = false;
  for (std::size_t at = log.find("[long-poll]"); at != std::string::npos && !found;
       at = log.find("[long-poll]", at + 1)) {
    const std::size_t end = log.find("[/long-poll]", at);
    const std::string report = log.substr(at, end == std::string::npos ? end : end - at);
    found = report.find("crypt_r") != std::string::npos &&
            report.find("hash_inline") != std::string::npos;
  }
  EXPECT_TRUE(found) << log.substr(0, 4000);
}

TEST_F(DemoE2E, EveryRequestAnsweredAndServerStopsCleanly) {
  // loadgen exits non-zero when any response is not 2xx; the script then lists "loadgen ..."
  // among its failures.
  EXPECT_EQ(output_->find("loadgen /hash"), std::string::npos) << *output_;
  EXPECT_NE(output_->find("demo_server exited with status 0"), std::string::npos) << *output_;
  const std::string log = slurp(reports("demo_server.log"));
  EXPECT_NE(log.find("SIGTERM received, shutting down"), std::string::npos) << log.substr(0, 2000);
  EXPECT_NE(log.find("demo_server: stopped"), std::string::npos) << log.substr(0, 2000);
}

}  // namespace
