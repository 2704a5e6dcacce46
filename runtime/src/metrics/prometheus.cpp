// metrics/prometheus.cpp: Prometheus text exposition (format 0.0.4) and JSON of the runtime
// metrics and the frame accounting.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "rill/frames.hpp"
#include "rill/metrics.hpp"
#include "rill/runtime.hpp"

namespace rill::metrics {

namespace {

double seconds(std::chrono::nanoseconds d) {
  return static_cast<double>(d.count()) / 1e9;
}

/// Escapes a label value: backslash, double quote and newline (the exposition format's rule).
std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

/// Escapes a string for JSON.
std::string escape_json(std::string_view v) {
  std::string out;
  out.reserve(v.size() + 2);
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

/// Formats a sample value: integers exactly, doubles with enough digits to round-trip.
std::string num(std::uint64_t v) {
  return fmt::format("{}", v);
}
std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  template <class V>
  void sample(std::string_view name, std::string_view labels, V v) {
    if (labels.empty())
      fmt::format_to(std::back_inserter(out_), "{} {}\n", name, num(v));
    else
      fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, num(v));
  }
  template <class V>
  void scalar(std::string_view name, std::string_view type, std::string_view help, V v) {
    family(name, type, help);
    sample(name, {}, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string wl(std::size_t w) {
  return fmt::format("worker=\"{}\"", w);
}

}  // namespace

std::string prometheus_text(const RuntimeMetrics& m) {
  Writer o;
  const std::size_t n = m.num_workers();
  o.scalar("rill_num_workers", "gauge", "Number of worker threads used by the runtime.",
           std::uint64_t{n});
  o.scalar("rill_num_alive_tasks", "gauge", "Tasks spawned and not yet completed.",
           std::uint64_t{m.num_alive_tasks()});
  o.scalar("rill_global_queue_depth", "gauge", "Tasks currently in the global queue.",
           std::uint64_t{m.global_queue_depth()});
  o.scalar("rill_spawned_tasks_count_total", "counter", "Tasks spawned since the runtime started.",
           m.spawned_tasks_count());
  o.scalar("rill_remote_schedule_count_total", "counter",
           "Tasks scheduled from outside the runtime's workers.", m.remote_schedule_count());
  o.scalar("rill_budget_forced_yield_count_total", "counter",
           "Times a task was forced to yield after exhausting its cooperative budget.",
           m.budget_forced_yield_count());
  o.scalar("rill_io_driver_ready_count_total", "counter",
           "I/O completions processed by the drivers.", m.io_driver_ready_count());
  o.scalar("rill_num_blocking_threads", "gauge", "Threads in the blocking pool.",
           std::uint64_t{m.num_blocking_threads()});
  o.scalar("rill_num_idle_blocking_threads", "gauge", "Idle threads in the blocking pool.",
           std::uint64_t{m.num_idle_blocking_threads()});
  o.scalar("rill_blocking_queue_depth", "gauge", "Jobs queued in the blocking pool.",
           std::uint64_t{m.blocking_queue_depth()});
  o.scalar("rill_long_poll_threshold_seconds", "gauge",
           "Long-poll detector threshold (0: detector off).", seconds(m.long_poll_threshold()));

  struct Counter {
    const char* name;
    const char* help;
    std::uint64_t (RuntimeMetrics::*get)(std::size_t) const;
  };
  static constexpr Counter kCounters[] = {
      {"rill_worker_park_count_total", "Times the worker parked.",
       &RuntimeMetrics::worker_park_count},
      {"rill_worker_park_unpark_count_total",
       "Times the worker parked plus times it unparked (odd while parked).",
       &RuntimeMetrics::worker_park_unpark_count},
      {"rill_worker_noop_count_total",
       "Times the worker parked without polling since its last park.",
       &RuntimeMetrics::worker_noop_count},
      {"rill_worker_steal_count_total", "Tasks the worker stole from other workers.",
       &RuntimeMetrics::worker_steal_count},
      {"rill_worker_steal_operations_total", "Steal operations by the worker.",
       &RuntimeMetrics::worker_steal_operations},
      {"rill_worker_poll_count_total", "Task polls by the worker.",
       &RuntimeMetrics::worker_poll_count},
      {"rill_worker_local_schedule_count_total", "Tasks scheduled on the worker's local queue.",
       &RuntimeMetrics::worker_local_schedule_count},
      {"rill_worker_overflow_count_total", "Times the worker's local queue overflowed.",
       &RuntimeMetrics::worker_overflow_count},
      {"rill_worker_long_poll_count_total", "Polls that took at least the long-poll threshold.",
       &RuntimeMetrics::worker_long_poll_count},
  };
  for (const auto& c : kCounters) {
    o.family(c.name, "counter", c.help);
    for (std::size_t w = 0; w < n; ++w)
      o.sample(c.name, wl(w), (m.*c.get)(w));
  }
  o.family("rill_worker_total_busy_duration_seconds_total", "counter",
           "Time the worker spent running tasks.");
  for (std::size_t w = 0; w < n; ++w)
    o.sample("rill_worker_total_busy_duration_seconds_total", wl(w),
             seconds(m.worker_total_busy_duration(w)));
  o.family("rill_worker_local_queue_depth", "gauge", "Tasks in the worker's local queue.");
  for (std::size_t w = 0; w < n; ++w)
    o.sample("rill_worker_local_queue_depth", wl(w), std::uint64_t{m.worker_local_queue_depth(w)});
  o.family("rill_worker_mean_poll_time_seconds", "gauge",
           "Exponentially weighted moving average of the worker's poll times.");
  for (std::size_t w = 0; w < n; ++w)
    o.sample("rill_worker_mean_poll_time_seconds", wl(w), seconds(m.worker_mean_poll_time(w)));

  if (const std::size_t nb = m.poll_time_histogram_num_buckets(); nb > 0) {
    o.family("rill_poll_time_seconds", "histogram", "Task poll times per worker.");
    for (std::size_t w = 0; w < n; ++w) {
      std::uint64_t cum = 0;
      for (std::size_t b = 0; b < nb; ++b) {
        cum += m.poll_time_histogram_bucket_count(w, b);
        const std::string le =
            b + 1 == nb ? "+Inf" : num(seconds(m.poll_time_histogram_bucket_range(b).second));
        o.sample("rill_poll_time_seconds_bucket", fmt::format("worker=\"{}\",le=\"{}\"", w, le),
                 cum);
      }
      o.sample("rill_poll_time_seconds_sum", wl(w), seconds(m.worker_total_poll_time(w)));
      o.sample("rill_poll_time_seconds_count", wl(w), cum);
    }
  }

  // Frame accounting (process-wide: frames are counted per coroutine site, not per runtime).
  const auto totals = frames::totals();
  o.scalar("rill_frames_live", "gauge", "Coroutine frames currently allocated (process-wide).",
           std::uint64_t{totals.live_frames});
  o.scalar("rill_frames_live_bytes", "gauge", "Bytes of the coroutine frames currently allocated.",
           std::uint64_t{totals.live_bytes});
  o.scalar("rill_frames_allocations_total", "counter", "Coroutine frames ever allocated.",
           totals.total_allocations);
  o.scalar("rill_frames_large_threshold_bytes", "gauge",
           "Frames above this size are flagged as large (0: off).",
           std::uint64_t{frames::large_frame_threshold()});
  const auto sites = frames::snapshot();
  auto site_labels = [](const frames::SiteStats& s) {
    return fmt::format("function=\"{}\",file=\"{}\",line=\"{}\"", escape_label(s.function),
                       escape_label(s.file), s.line);
  };
  struct SiteMetric {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t (*get)(const frames::SiteStats&);
  };
  static constexpr SiteMetric kSite[] = {
      {"rill_frame_live", "gauge", "Live frames of the coroutine site.",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.live; }},
      {"rill_frame_live_bytes", "gauge", "Bytes of the live frames of the coroutine site.",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.live_bytes; }},
      {"rill_frame_peak_live", "gauge", "Peak live frames of the coroutine site.",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.peak_live; }},
      {"rill_frame_size_bytes", "gauge", "Frame size of the coroutine site (largest seen).",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.frame_size; }},
      {"rill_frame_allocations_total", "counter", "Frames ever allocated at the coroutine site.",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.total; }},
      {"rill_frame_large", "gauge", "1 when the site's frames exceed the large-frame threshold.",
       [](const frames::SiteStats& s) -> std::uint64_t { return s.large ? 1 : 0; }},
  };
  for (const auto& sm : kSite) {
    o.family(sm.name, sm.type, sm.help);
    for (const auto& s : sites)
      o.sample(sm.name, site_labels(s), sm.get(s));
  }
  return o.take();
}

std::string prometheus_text(const Handle& h) {
  return prometheus_text(h.metrics());
}
std::string prometheus_text(const Runtime& rt) {
  return prometheus_text(rt.metrics());
}

std::string json(const RuntimeMetrics& m) {
  std::string o;
  auto out = std::back_inserter(o);
  const std::size_t n = m.num_workers();
  fmt::format_to(out,
                 "{{\"runtime\":{{\"num_workers\":{},\"num_alive_tasks\":{},"
                 "\"global_queue_depth\":{},\"spawned_tasks_count\":{},"
                 "\"remote_schedule_count\":{},\"budget_forced_yield_count\":{},"
                 "\"io_driver_ready_count\":{},\"num_blocking_threads\":{},"
                 "\"num_idle_blocking_threads\":{},\"blocking_queue_depth\":{},"
                 "\"long_poll_threshold_ns\":{}}},\"workers\":[",
                 n, m.num_alive_tasks(), m.global_queue_depth(), m.spawned_tasks_count(),
                 m.remote_schedule_count(), m.budget_forced_yield_count(),
                 m.io_driver_ready_count(), m.num_blocking_threads(), m.num_idle_blocking_threads(),
                 m.blocking_queue_depth(), m.long_poll_threshold().count());
  const std::size_t nb = m.poll_time_histogram_num_buckets();
  for (std::size_t w = 0; w < n; ++w) {
    fmt::format_to(out,
                   "{}{{\"worker\":{},\"park_count\":{},\"park_unpark_count\":{},"
                   "\"noop_count\":{},\"steal_count\":{},\"steal_operations\":{},"
                   "\"poll_count\":{},\"total_busy_duration_ns\":{},\"local_schedule_count\":{},"
                   "\"overflow_count\":{},\"local_queue_depth\":{},\"mean_poll_time_ns\":{},"
                   "\"long_poll_count\":{},\"total_poll_time_ns\":{},\"poll_time_histogram\":[",
                   w ? "," : "", w, m.worker_park_count(w), m.worker_park_unpark_count(w),
                   m.worker_noop_count(w), m.worker_steal_count(w), m.worker_steal_operations(w),
                   m.worker_poll_count(w), m.worker_total_busy_duration(w).count(),
                   m.worker_local_schedule_count(w), m.worker_overflow_count(w),
                   m.worker_local_queue_depth(w), m.worker_mean_poll_time(w).count(),
                   m.worker_long_poll_count(w), m.worker_total_poll_time(w).count());
    for (std::size_t b = 0; b < nb; ++b)
      fmt::format_to(out, "{}{}", b ? "," : "", m.poll_time_histogram_bucket_count(w, b));
    o += "]}";
  }
  o += "],\"histogram\":{\"enabled\":";
  o += nb ? "true" : "false";
  o += ",\"buckets\":[";
  for (std::size_t b = 0; b < nb; ++b) {
    const auto [lo, hi] = m.poll_time_histogram_bucket_range(b);
    fmt::format_to(out, "{}{{\"start_ns\":{},\"end_ns\":{}}}", b ? "," : "", lo.count(),
                   b + 1 == nb ? std::string("null") : std::to_string(hi.count()));
  }
  const auto totals = frames::totals();
  fmt::format_to(out,
                 "]}},\"frames\":{{\"live_frames\":{},\"live_bytes\":{},"
                 "\"total_allocations\":{},\"large_frame_threshold\":{},\"sites\":[",
                 totals.live_frames, totals.live_bytes, totals.total_allocations,
                 frames::large_frame_threshold());
  bool first = true;
  for (const auto& s : frames::snapshot()) {
    fmt::format_to(out,
                   "{}{{\"function\":{},\"file\":{},\"line\":{},\"frame_size\":{},\"live\":{},"
                   "\"live_bytes\":{},\"peak_live\":{},\"total\":{},\"large\":{}}}",
                   first ? "" : ",", escape_json(s.function), escape_json(s.file), s.line,
                   s.frame_size, s.live, s.live_bytes, s.peak_live, s.total,
                   s.large ? "true" : "false");
    first = false;
  }
  o += "]}}";
  return o;
}

std::string json(const Handle& h) {
  return json(h.metrics());
}
std::string json(const Runtime& rt) {
  return json(rt.metrics());
}

}  // namespace rill::metrics
