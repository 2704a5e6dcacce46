// runtime.cpp: Builder::build and the entry points the public templates call.
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "rill/frames.hpp"
#include "rill/runtime.hpp"
#include "scheduler/scheduler.hpp"

namespace rill {

namespace {
std::size_t default_worker_threads() {
  if (const char* v = std::getenv("RILL_WORKER_THREADS"); v && *v) {
    std::size_t n = 0;
    std::string_view sv(v);
    auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), n);
    if (ec != std::errc() || p != sv.data() + sv.size() || n == 0)
      throw RuntimeError("rill: RILL_WORKER_THREADS must be a positive integer, got '" +
                         std::string(sv) + "'");
    return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}
}  // namespace

Runtime Builder::build() {
  detail::RuntimeConfig cfg = cfg_;
  if (cfg.flavor == detail::RuntimeConfig::Flavor::MultiThread) {
    if (!cfg.worker_threads) cfg.worker_threads = default_worker_threads();
    if (*cfg.worker_threads == 0)
      throw RuntimeError("rill::Builder: worker_threads must be at least 1 (got 0)");
    if (*cfg.worker_threads > 4096)
      throw RuntimeError("rill::Builder: worker_threads must be at most 4096 (got " +
                         std::to_string(*cfg.worker_threads) + ")");
    if (cfg.start_paused)
      throw RuntimeError("rill::Builder: start_paused(true) needs a current_thread runtime "
                         "(Builder::new_current_thread())");
  } else {
    cfg.worker_threads = 1;
  }
  if (cfg.max_blocking_threads == 0)
    throw RuntimeError("rill::Builder: max_blocking_threads must be at least 1 (got 0)");
  if (cfg.global_queue_interval == 0)
    throw RuntimeError("rill::Builder: global_queue_interval must be at least 1 (got 0)");
  if (cfg.event_interval == 0)
    throw RuntimeError("rill::Builder: event_interval must be at least 1 (got 0)");
  if (cfg.thread_keep_alive.count() < 0)
    throw RuntimeError("rill::Builder: thread_keep_alive must not be negative");
  if (!cfg.long_poll_threshold_set) {
    if (const char* v = std::getenv("RILL_LONG_POLL_THRESHOLD_MS"); v && *v) {
      std::uint64_t ms = 0;
      std::string_view sv(v);
      auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), ms);
      if (ec != std::errc() || p != sv.data() + sv.size() || ms > 3'600'000)
        throw RuntimeError("rill: RILL_LONG_POLL_THRESHOLD_MS must be a number of milliseconds "
                           "(0 disables, at most 3600000), got '" + std::string(sv) + "'");
      cfg.long_poll_threshold = std::chrono::milliseconds(ms);
    }
  }
  if (cfg.long_poll_threshold.count() < 0)
    throw RuntimeError("rill::Builder: long_poll_threshold must not be negative (0 disables)");
  if (cfg.poll_time_histogram.resolution.count() <= 0)
    throw RuntimeError("rill::Builder: the poll-time histogram resolution must be positive");
  if (cfg.poll_time_histogram.num_buckets == 0 || cfg.poll_time_histogram.num_buckets > 1024)
    throw RuntimeError("rill::Builder: the poll-time histogram needs 1 to 1024 buckets (got " +
                       std::to_string(cfg.poll_time_histogram.num_buckets) + ")");
  if (!cfg.on_long_poll) cfg.on_long_poll = &diagnostics::log_long_poll;
  frames::set_large_frame_threshold(cfg.large_frame_threshold);
  auto s = std::make_shared<detail::Scheduler>(std::move(cfg));
  s->start();
  return Runtime(std::move(s));
}

namespace detail {

std::unique_ptr<char[]> copy_task_name(std::string_view name) {
  if (name.empty()) return nullptr;
  std::unique_ptr<char[]> p(new char[name.size() + 1]);
  name.copy(p.get(), name.size());
  p[name.size()] = '\0';
  return p;
}

std::shared_ptr<Scheduler> make_scheduler(RuntimeConfig cfg) {
  return std::make_shared<Scheduler>(std::move(cfg));
}

std::shared_ptr<Scheduler> current_scheduler() noexcept {
  if (Scheduler* s = t_ctx.sched) return s->weak_from_this().lock();
  return nullptr;
}
Scheduler* current_scheduler_raw() noexcept { return t_ctx.sched; }

void bind_task(Scheduler* s, TaskHeader* t) noexcept { s->bind(t); }

void block_until_complete(Scheduler* s, TaskHeader* t) { s->block_until(t); }

void shutdown_scheduler(Scheduler* s, std::optional<std::chrono::nanoseconds> timeout) noexcept {
  s->shutdown(timeout);
}
std::size_t scheduler_num_workers(const Scheduler* s) noexcept { return s->num_workers(); }
bool scheduler_is_current_thread(const Scheduler* s) noexcept { return s->is_current_thread(); }

void block_in_place_enter() {
  Scheduler* s = t_ctx.sched;
  if (!s) return;  // outside a runtime: just run the function
  if (s->is_current_thread())
    throw RuntimeError(
        "rill::block_in_place cannot be used on a current_thread runtime: the only thread "
        "would block; use rill::spawn_blocking instead");
  if (!t_ctx.core) return;  // nested, or on a blocking thread: nothing to hand off
  s->hand_off_core();
}
void block_in_place_exit() noexcept {}

void throw_no_runtime(const char* what) {
  throw RuntimeError(std::string(what) +
                     " must be called from the context of a rill runtime (inside block_on, a "
                     "spawned task, or a runtime thread)");
}

}  // namespace detail
}  // namespace rill
