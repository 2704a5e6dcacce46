// Tests for RuntimeMetrics (Tokio's names and meanings), the poll-time histogram,
// RuntimeMonitor intervals, and the Prometheus / JSON exposition (parsed by small parsers).
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kSpawns = 200;
#else
constexpr int kSpawns = 2000;
#endif

rill::Runtime make_rt(bool multi, bool poll_histogram = false) {
  auto b = multi ? rill::Builder::new_multi_thread().worker_threads(2)
                 : rill::Builder::new_current_thread();
  return b.enable_metrics_poll_time_histogram(poll_histogram).build();
}

class Metrics : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Diagnostics, Metrics, ::testing::Values(true, false),
                         [](const auto& i) { return i.param ? "multi_thread" : "current_thread"; });

template <class F>
std::uint64_t sum_workers(const rill::RuntimeMetrics& m, F f) {
  std::uint64_t n = 0;
  for (std::size_t w = 0; w < m.num_workers(); ++w)
    n += f(w);
  return n;
}

void spin_for(std::chrono::nanoseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace

TEST_P(Metrics, TaskCountersAndPolls) {
  auto rt = make_rt(GetParam(), /*poll_histogram=*/true);
  auto m = rt.metrics();
  EXPECT_EQ(m.num_workers(), GetParam() ? 2u : 1u);
  const auto spawned0 = m.spawned_tasks_count();
  const auto polls0 = sum_workers(m, [&](std::size_t w) { return m.worker_poll_count(w); });
  rt.block_on([]() -> rill::Task<void> {
    std::vector<rill::JoinHandle<int>> hs;
    for (int i = 0; i < 10; ++i)
      hs.push_back(rill::spawn([](int i) -> rill::Task<int> {
        co_await rill::yield_now();
        co_return i;
      }(i)));
    EXPECT_GE(rill::Handle::current().metrics().num_alive_tasks(), 1u);
    for (auto& h : hs)
      co_await h;
    for (int i = 0; i < 10; ++i)
      co_await rill::yield_now();
  }());
  // block_on's task + 10 spawned.
  EXPECT_EQ(m.spawned_tasks_count() - spawned0, 11u);
  // Each spawned task: 2 polls; the root: at least 1 + 10 yields.
  const auto polls = sum_workers(m, [&](std::size_t w) { return m.worker_poll_count(w); }) - polls0;
  EXPECT_GE(polls, 31u);
  EXPECT_EQ(m.num_alive_tasks(), 0u);
  // Every poll lands in the histogram (when enabled: Tokio's 10 x 100 us linear buckets).
  ASSERT_TRUE(m.poll_time_histogram_enabled());
  ASSERT_EQ(m.poll_time_histogram_num_buckets(), 10u);
  for (std::size_t w = 0; w < m.num_workers(); ++w) {
    std::uint64_t in_buckets = 0;
    for (std::size_t b = 0; b < 10; ++b)
      in_buckets += m.poll_time_histogram_bucket_count(w, b);
    EXPECT_EQ(in_buckets, m.worker_poll_count(w)) << "worker " << w;
  }
  EXPECT_GT(sum_workers(m, [&](std::size_t w) { return m.worker_total_busy_duration(w).count(); }),
            0u);
  EXPECT_THROW(m.worker_poll_count(m.num_workers()), std::out_of_range);
  EXPECT_THROW(m.poll_time_histogram_bucket_range(10), std::out_of_range);
}

TEST_P(Metrics, ParkAndUnparkCountsMove) {
  auto rt = make_rt(GetParam());
  auto m = rt.metrics();
  rt.block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 5; ++i)
      co_await rill::sleep(3ms);  // the worker parks on its timer
  }());
  std::this_thread::sleep_for(20ms);
  const auto parks = sum_workers(m, [&](std::size_t w) { return m.worker_park_count(w); });
  EXPECT_GE(parks, 5u);
  for (std::size_t w = 0; w < m.num_workers(); ++w) {
    const auto pu = m.worker_park_unpark_count(w), p = m.worker_park_count(w);
    // Each park is followed by an unpark: pu = 2p, or 2p - 1 while the worker sleeps.
    EXPECT_GE(pu + 1, 2 * p) << "worker " << w;
    EXPECT_LE(pu, 2 * p) << "worker " << w;
    EXPECT_LE(m.worker_noop_count(w), p);
  }
  EXPECT_GT(
      m.worker_mean_poll_time(0).count() + (GetParam() ? m.worker_mean_poll_time(1).count() : 0),
      0);
}

TEST(MetricsMultiThread, StealsAreCounted) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto m = rt.metrics();
  auto ops = [&] {
    return sum_workers(m, [&](std::size_t w) { return m.worker_steal_operations(w); });
  };
  // Batches of tasks spawned from a worker land in that worker's local queue; the other worker,
  // idle, must steal to help. Repeat until a steal happened (the OS may starve the thief).
  for (int batch = 0; batch < 20 && ops() == 0; ++batch) {
    rt.block_on([]() -> rill::Task<void> {
      std::vector<rill::JoinHandle<void>> hs;
      for (int i = 0; i < kSpawns / 4; ++i)
        hs.push_back(rill::spawn([]() -> rill::Task<void> {
          spin_for(100us);
          co_return;
        }()));
      for (auto& h : hs)
        co_await h;
    }());
  }
  const auto steals = sum_workers(m, [&](std::size_t w) { return m.worker_steal_count(w); });
  EXPECT_GT(ops(), 0u);
  EXPECT_GE(steals, ops());  // each operation moves at least one task
  EXPECT_GT(sum_workers(m, [&](std::size_t w) { return m.worker_local_schedule_count(w); }), 0u);
}

TEST(MetricsMultiThread, RemoteSchedulesAreCounted) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto m = rt.metrics();
  const auto before = m.remote_schedule_count();
  for (int i = 0; i < 5; ++i)
    rt.block_on([]() -> rill::Task<void> { co_return; }());
  EXPECT_GE(m.remote_schedule_count() - before, 5u);  // spawned from a non-runtime thread
}

TEST_P(Metrics, BudgetForcedYieldsAreCounted) {
  auto rt = make_rt(GetParam());
  auto m = rt.metrics();
  const auto before = m.budget_forced_yield_count();
  rt.block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 1000; ++i)
      co_await rill::consume_budget();
  }());
  // 128 units per poll: the 129th spend of each poll forces a yield (and spends nothing).
  EXPECT_EQ(m.budget_forced_yield_count() - before, 1000u / 129u);
}

// A task woken during its own poll (yield_now) is re-queued on its worker: a local schedule,
// as Tokio counts it.
TEST_P(Metrics, YieldRequeuesAreLocalSchedules) {
  auto rt = make_rt(GetParam());
  auto m = rt.metrics();
  auto local = [&] {
    std::uint64_t n = 0;
    for (std::size_t w = 0; w < m.num_workers(); ++w)
      n += m.worker_local_schedule_count(w);
    return n;
  };
  const auto before = local();
  rt.block_on([]() -> rill::Task<void> {
    co_await rill::spawn([]() -> rill::Task<void> {
      for (int i = 0; i < 100; ++i)
        co_await rill::yield_now();
    }());
  }());
  EXPECT_GE(local() - before, 100u);
}

// Without the histogram (the default, as Tokio) no poll is timed: busy time, the poll-time sum
// and the mean poll time come from runs of polls, and still see a long poll.
TEST_P(Metrics, PollTimesWithoutTheHistogram) {
  auto rt = make_rt(GetParam());
  auto m = rt.metrics();
  EXPECT_FALSE(m.poll_time_histogram_enabled());
  EXPECT_EQ(m.poll_time_histogram_num_buckets(), 0u);
  rt.block_on([]() -> rill::Task<void> {
    co_await rill::spawn([]() -> rill::Task<void> {
      spin_for(2ms);  // one poll of >= 2 ms
      co_return;
    }());
  }());
  // A worker adds a run of polls to the metrics when the run ends (it parks or polls its
  // driver), which on a multi-thread runtime may be just after block_on returned.
  auto busy_now = [&] {
    return sum_workers(m, [&](std::size_t w) {
      return static_cast<std::uint64_t>(m.worker_total_busy_duration(w).count());
    });
  };
  auto poll_time_now = [&] {
    return sum_workers(m, [&](std::size_t w) {
      return static_cast<std::uint64_t>(m.worker_total_poll_time(w).count());
    });
  };
  auto mean_now = [&] {
    return sum_workers(m, [&](std::size_t w) {
      return static_cast<std::uint64_t>(m.worker_mean_poll_time(w).count());
    });
  };
  // The worker publishes busy time, poll time and the mean one after another, not as one
  // snapshot: wait (bounded) until all three show the run.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while ((busy_now() < 2'000'000u || poll_time_now() < 2'000'000u || mean_now() == 0) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(1ms);
  const auto busy = busy_now();
  const auto poll_time = poll_time_now();
  const auto mean = mean_now();
  EXPECT_GE(busy, 2'000'000u);
  EXPECT_GE(poll_time, 2'000'000u);
  EXPECT_LE(poll_time, busy);
  EXPECT_GT(mean, 0u);
}

TEST(MetricsHistogram, ConfigurableBucketsAndRanges) {
  auto rt = rill::Builder::new_current_thread()
                .enable_metrics_poll_time_histogram()
                .metrics_poll_time_histogram_configuration(
                    {rill::HistogramScale::Log, std::chrono::microseconds(500), 5})
                .long_poll_threshold(0ms)
                .build();
  auto m = rt.metrics();
  ASSERT_EQ(m.poll_time_histogram_num_buckets(), 5u);
  using R = std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>;
  EXPECT_EQ(m.poll_time_histogram_bucket_range(0), R(0ns, 500us));
  EXPECT_EQ(m.poll_time_histogram_bucket_range(1), R(500us, 1000us));
  EXPECT_EQ(m.poll_time_histogram_bucket_range(2), R(1000us, 2000us));
  EXPECT_EQ(m.poll_time_histogram_bucket_range(4).second, std::chrono::nanoseconds::max());
  auto at_least_1ms = [&] {
    return m.poll_time_histogram_bucket_count(0, 2) + m.poll_time_histogram_bucket_count(0, 3) +
           m.poll_time_histogram_bucket_count(0, 4);
  };
  const auto before = at_least_1ms();
  const auto below =
      m.poll_time_histogram_bucket_count(0, 0) + m.poll_time_histogram_bucket_count(0, 1);
  rt.block_on([]() -> rill::Task<void> {
    spin_for(1200us);  // one poll of >= 1.2 ms (more if the OS preempts it): bucket 2 or above
    co_return;
  }());
  EXPECT_EQ(at_least_1ms(), before + 1);
  EXPECT_EQ(m.poll_time_histogram_bucket_count(0, 0) + m.poll_time_histogram_bucket_count(0, 1),
            below);
  EXPECT_GE(m.worker_total_poll_time(0), 1200us);

  EXPECT_THROW(
      rill::Builder::new_current_thread()
          .metrics_poll_time_histogram_configuration({rill::HistogramScale::Linear, 0ns, 4})
          .build(),
      rill::RuntimeError);
  EXPECT_THROW(
      rill::Builder::new_current_thread()
          .metrics_poll_time_histogram_configuration({rill::HistogramScale::Linear, 1us, 0})
          .build(),
      rill::RuntimeError);
  auto off = rill::Builder::new_current_thread().enable_metrics_poll_time_histogram(false).build();
  EXPECT_FALSE(off.metrics().poll_time_histogram_enabled());
  EXPECT_EQ(off.metrics().poll_time_histogram_num_buckets(), 0u);
}

TEST(MetricsMonitor, IntervalsReportDeltas) {
  auto rt = rill::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_metrics_poll_time_histogram()
                .build();
  rill::RuntimeMonitor mon(rt.handle());
  rt.block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 20; ++i)
      co_await rill::yield_now();
    co_await rill::sleep(5ms);
  }());
  // A worker accounts a run of polls when the run ends (it parks): wait until both have parked
  // (park_unpark_count odd) so that the whole run lands in this interval.
  auto m = rt.metrics();
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until &&
         (m.worker_park_unpark_count(0) % 2 == 0 || m.worker_park_unpark_count(1) % 2 == 0))
    std::this_thread::sleep_for(1ms);
  const auto a = mon.next_interval();
  EXPECT_EQ(a.workers_count, 2u);
  EXPECT_GE(a.total_polls_count, 21u);
  EXPECT_GE(a.max_polls_count, a.min_polls_count);
  EXPECT_EQ(a.total_polls_count, [&] {
    std::uint64_t s = 0;
    for (auto c : a.poll_time_histogram)
      s += c;
    return s;
  }());
  EXPECT_GT(a.elapsed, 5ms);
  EXPECT_GE(a.busy_ratio(), 0.0);
  EXPECT_LE(a.busy_ratio(), 1.0);
  EXPECT_GT(a.mean_polls_per_park(), 0.0);
  EXPECT_GT(a.mean_poll_duration.count(), 0);
  EXPECT_LE(a.mean_poll_duration_worker_min, a.mean_poll_duration_worker_max);
  // Nothing ran since: the next interval's counters are (almost) empty.
  std::this_thread::sleep_for(5ms);
  const auto b = mon.next_interval();
  EXPECT_EQ(b.total_polls_count, 0u);
  EXPECT_LT(b.busy_ratio(), 0.1);
}

// ---- Prometheus text format parser (exposition format 0.0.4) --------------------------------

namespace {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string type, help;
  std::vector<PromSample> samples;
};

bool valid_metric_name(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == ':'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
  return true;
}

/// Parses the text format strictly; throws std::runtime_error naming the offending line.
std::map<std::string, PromFamily> parse_prometheus(const std::string& text) {
  std::map<std::string, PromFamily> fams;
  std::string current;  // family of the last TYPE line
  std::size_t pos = 0, lineno = 0;
  auto fail = [&](const std::string& why, const std::string& line) {
    throw std::runtime_error("line " + std::to_string(lineno) + ": " + why + ": " + line);
  };
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) fail("missing final newline", text.substr(pos));
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      const std::string name = rest.substr(0, sp);
      if (!valid_metric_name(name)) fail("bad name in HELP", line);
      fams[name].help = sp == std::string::npos ? "" : rest.substr(sp + 1);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      if (sp == std::string::npos) fail("TYPE without a type", line);
      const std::string name = rest.substr(0, sp), type = rest.substr(sp + 1);
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (!valid_metric_name(name) || !kTypes.count(type)) fail("bad TYPE", line);
      if (!fams[name].type.empty()) fail("duplicate TYPE", line);
      if (!fams[name].samples.empty()) fail("TYPE after samples", line);
      fams[name].type = type;
      current = name;
      continue;
    }
    if (line[0] == '#') continue;  // comment
    PromSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    s.name = line.substr(0, i);
    if (!valid_metric_name(s.name)) fail("bad sample name", line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) fail("label without '='", line);
        const std::string key = line.substr(i, eq - i);
        if (!valid_metric_name(key) || key.find(':') != std::string::npos)
          fail("bad label name", line);
        if (eq + 1 >= line.size() || line[eq + 1] != '"') fail("unquoted label value", line);
        std::string val;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (++j >= line.size()) fail("dangling escape", line);
            if (line[j] == 'n')
              val += '\n';
            else if (line[j] == '\\' || line[j] == '"')
              val += line[j];
            else
              fail("bad escape", line);
          } else {
            val += line[j];
          }
        }
        if (j >= line.size()) fail("unterminated label value", line);
        if (s.labels.count(key)) fail("duplicate label", line);
        s.labels[key] = val;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) fail("unterminated label set", line);
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') fail("missing value", line);
    const std::string v = line.substr(i + 1);
    if (v == "+Inf")
      s.value = HUGE_VAL;
    else if (v == "-Inf")
      s.value = -HUGE_VAL;
    else {
      std::size_t used = 0;
      try {
        s.value = std::stod(v, &used);
      } catch (...) {
        fail("bad value", line);
      }
      if (used != v.size()) fail("trailing characters after the value", line);
    }
    // The sample must belong to the family declared by the last TYPE line.
    const PromFamily& f = fams[current];
    bool ok = s.name == current;
    if (f.type == "histogram")
      ok = s.name == current + "_bucket" || s.name == current + "_sum" ||
           s.name == current + "_count";
    if (!ok) fail("sample outside its family", line);
    fams[current].samples.push_back(std::move(s));
  }
  return fams;
}

const PromSample* find(const PromFamily& f, const std::string& name,
                       const std::map<std::string, std::string>& labels) {
  for (const auto& s : f.samples)
    if (s.name == name && s.labels == labels) return &s;
  return nullptr;
}

rill::Task<int> prom_coroutine_site(int x) {
  co_await rill::yield_now();
  co_return x;
}

}  // namespace

TEST(MetricsPrometheus, TextParsesAndMatchesTheMetrics) {
  auto rt = rill::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_metrics_poll_time_histogram()
                .build();
  rt.block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 5; ++i)
      co_await prom_coroutine_site(i);
  }());
  const std::string text = rill::metrics::prometheus_text(rt);
  std::map<std::string, PromFamily> fams;
  ASSERT_NO_THROW(fams = parse_prometheus(text)) << text;
  for (const auto& [name, f] : fams) {
    EXPECT_EQ(name.rfind("rill_", 0), 0u) << name;
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
    EXPECT_FALSE(f.help.empty()) << name << " has no HELP";
    if (f.type == "counter") EXPECT_EQ(name.substr(name.size() - 6), "_total") << name;
  }
  for (const char* n : {"rill_num_workers",
                        "rill_num_alive_tasks",
                        "rill_global_queue_depth",
                        "rill_spawned_tasks_count_total",
                        "rill_remote_schedule_count_total",
                        "rill_budget_forced_yield_count_total",
                        "rill_io_driver_ready_count_total",
                        "rill_num_blocking_threads",
                        "rill_num_idle_blocking_threads",
                        "rill_blocking_queue_depth",
                        "rill_worker_park_count_total",
                        "rill_worker_park_unpark_count_total",
                        "rill_worker_noop_count_total",
                        "rill_worker_steal_count_total",
                        "rill_worker_steal_operations_total",
                        "rill_worker_poll_count_total",
                        "rill_worker_local_schedule_count_total",
                        "rill_worker_overflow_count_total",
                        "rill_worker_total_busy_duration_seconds_total",
                        "rill_worker_local_queue_depth",
                        "rill_worker_mean_poll_time_seconds",
                        "rill_poll_time_seconds",
                        "rill_frame_live_bytes",
                        "rill_frame_size_bytes",
                        "rill_frames_live_bytes"})
    EXPECT_TRUE(fams.count(n)) << "missing " << n;

  ASSERT_EQ(fams["rill_num_workers"].samples.size(), 1u);
  EXPECT_EQ(fams["rill_num_workers"].samples[0].value, 2.0);
  auto m = rt.metrics();
  for (std::size_t w = 0; w < 2; ++w) {
    const std::string ws = std::to_string(w);
    const auto* pc = find(fams["rill_worker_poll_count_total"], "rill_worker_poll_count_total",
                          {{"worker", ws}});
    ASSERT_NE(pc, nullptr);
    EXPECT_EQ(pc->value, static_cast<double>(m.worker_poll_count(w)));  // quiescent runtime
    // Histogram: cumulative buckets, +Inf == _count == polls.
    const auto& h = fams["rill_poll_time_seconds"];
    EXPECT_EQ(h.type, "histogram");
    double prev = -1, prev_le = -1;
    int buckets = 0;
    for (const auto& s : h.samples) {
      if (s.name != "rill_poll_time_seconds_bucket" || s.labels.at("worker") != ws) continue;
      const std::string le = s.labels.at("le");
      const double lev = le == "+Inf" ? HUGE_VAL : std::stod(le);
      EXPECT_GT(lev, prev_le);
      EXPECT_GE(s.value, prev);
      prev = s.value;
      prev_le = lev;
      ++buckets;
    }
    EXPECT_EQ(buckets, 10);
    EXPECT_EQ(prev_le, HUGE_VAL);
    const auto* cnt = find(h, "rill_poll_time_seconds_count", {{"worker", ws}});
    ASSERT_NE(cnt, nullptr);
    EXPECT_EQ(cnt->value, prev);
    EXPECT_EQ(cnt->value, pc->value);
    EXPECT_NE(find(h, "rill_poll_time_seconds_sum", {{"worker", ws}}), nullptr);
  }
  // Frame accounting per coroutine site, labelled by function/file/line.
  bool found_site = false;
  for (const auto& s : fams["rill_frame_size_bytes"].samples)
    if (s.labels.at("function").find("prom_coroutine_site") != std::string::npos) {
      found_site = true;
      EXPECT_GT(s.value, 0.0);
      EXPECT_NE(s.labels.at("file").find("test_metrics.cpp"), std::string::npos);
    }
  EXPECT_TRUE(found_site);
}

TEST(MetricsPrometheus, ParserRejectsMalformedText) {
  EXPECT_THROW(parse_prometheus("# TYPE a counter\na{x=\"1} 2\n"), std::runtime_error);
  EXPECT_THROW(parse_prometheus("# TYPE a gauge\nb 1\n"), std::runtime_error);
  EXPECT_THROW(parse_prometheus("# TYPE a gauge\na one\n"), std::runtime_error);
  EXPECT_NO_THROW(parse_prometheus("# HELP a x\n# TYPE a gauge\na{l=\"q\\\"\\n\"} 1.5\n"));
}

// ---- JSON ----------------------------------------------------------------------------------

namespace {
/// Minimal strict JSON validator; returns the number of object keys seen.
struct Json {
  const std::string& s;
  std::size_t i = 0;
  std::set<std::string> keys;
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
  }
  void expect(char c) {
    ws();
    if (i >= s.size() || s[i] != c)
      throw std::runtime_error("expected '" + std::string(1, c) + "' at " + std::to_string(i));
    ++i;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i < s.size() && s[i] != '"') {
      if (static_cast<unsigned char>(s[i]) < 0x20) throw std::runtime_error("control char");
      if (s[i] == '\\') ++i;
      out += s[i++];
    }
    expect('"');
    return out;
  }
  void value() {
    ws();
    if (i >= s.size()) throw std::runtime_error("truncated");
    if (s[i] == '{') {
      ++i;
      ws();
      if (s[i] == '}') {
        ++i;
        return;
      }
      for (;;) {
        keys.insert(str());
        expect(':');
        value();
        ws();
        if (s[i] == ',') {
          ++i;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (s[i] == '[') {
      ++i;
      ws();
      if (s[i] == ']') {
        ++i;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] == ',') {
          ++i;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (s[i] == '"') {
      str();
      return;
    }
    for (const char* lit : {"true", "false", "null"})
      if (s.compare(i, std::strlen(lit), lit) == 0) {
        i += std::strlen(lit);
        return;
      }
    const std::size_t b = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' ||
                            s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+'))
      ++i;
    if (b == i) throw std::runtime_error("bad value at " + std::to_string(i));
  }
};
}  // namespace

TEST(MetricsJson, IsValidJsonWithAllSections) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on(prom_coroutine_site(1));
  const std::string j = rill::metrics::json(rt);
  Json p{j, 0, {}};
  ASSERT_NO_THROW({
    p.value();
    p.ws();
  }) << j;
  EXPECT_EQ(p.i, j.size()) << "trailing data";
  for (const char* k : {"runtime", "workers", "histogram", "frames", "num_workers",
                        "park_unpark_count", "mean_poll_time_ns", "poll_time_histogram", "sites",
                        "live_bytes", "budget_forced_yield_count"})
    EXPECT_TRUE(p.keys.count(k)) << k;
}

// ---- large frames ----------------------------------------------------------------------------

namespace {
[[gnu::noinline]] void fill_buffer(char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    p[i] = static_cast<char>(i % 3);
}
[[gnu::noinline]] int sum_buffer(const char* p, std::size_t n) {
  int s = 0;
  for (std::size_t i = 0; i < n; ++i)
    s += p[i];
  return s;
}
rill::Task<int> huge_frame_coroutine() {
  char buf[20000];  // lives across the suspension (its address escapes): part of the frame
  fill_buffer(buf, sizeof buf);
  co_await rill::yield_now();
  co_return sum_buffer(buf, sizeof buf);
}
}  // namespace

TEST(MetricsFrames, LargeFrameWarnsOnceAndIsExported) {
  static bool ran_before = false;  // a site warns once per process
  if (std::exchange(ran_before, true)) GTEST_SKIP() << "only the first repetition can check";
  ASSERT_EQ(rill::frames::large_frame_threshold(), 16384u);
  auto rt = rill::Builder::new_current_thread().build();
  ::testing::internal::CaptureStderr();
  const int expected = 6666 * (0 + 1 + 2) + 0 + 1;  // 20000 = 3 * 6666 + 2
  EXPECT_EQ(rt.block_on(huge_frame_coroutine()), expected);
  EXPECT_EQ(rt.block_on(huge_frame_coroutine()), expected);
  const std::string err = ::testing::internal::GetCapturedStderr();
  const auto first = err.find("huge_frame_coroutine");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("huge_frame_coroutine", first + 1), std::string::npos) << "warned twice";
  EXPECT_NE(err.find("above the large-frame threshold of 16384 bytes"), std::string::npos);
  const auto fams = parse_prometheus(rill::metrics::prometheus_text(rt));
  bool flagged = false;
  for (const auto& s : fams.at("rill_frame_large").samples)
    if (s.labels.at("function").find("huge_frame_coroutine") != std::string::npos)
      flagged = s.value == 1.0;
  EXPECT_TRUE(flagged);
}
