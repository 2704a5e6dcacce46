// rill/diagnostics.hpp: the long-poll (blocking) detector's reports, task dumps, and the
// symbolizer they use.
//
// The long-poll detector: every worker publishes (task, poll sequence number) when it starts a
// poll, with no clock read; a watchdog thread per runtime wakes every threshold/2 and, when the
// same poll has been running for Builder::long_poll_threshold (default 10 ms) of its samples
// (Go's sysmon finds long-running goroutines the same way), interrupts that worker with
// a signal (SIGURG, default-ignored), captures its native stack and the task's chain of awaiting
// coroutines inside the handler, and reports them through Builder::on_long_poll. No peer does
// this: tokio-console has no blocking warning, eBPF tools see the victims,
// not the blocker. Handle::dump() lists every live task with its suspended async stack (like
// tokio's task dumps, without stopping the workers).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <source_location>
#include <string>
#include <vector>

#include "rill/frames.hpp"

namespace rill::diagnostics {

/// One native stack frame, symbolized from the ELF symbol tables of the loaded objects
/// (.symtab when present, so static and coroutine functions are named, unlike dladdr()).
struct StackFrame {
  /// Instruction address (return address for caller frames).
  std::uintptr_t address = 0;
  /// Demangled function name (e.g. "sleepy(int) [clone .resume]"), or empty when unknown.
  std::string function;
  /// Path of the object (executable or shared library) containing the address, if known.
  std::string object;
  /// address - start of `function` (0 when unknown).
  std::uintptr_t offset = 0;
};

/// One coroutine in an async stack: innermost (the one suspended or running) first, then the
/// coroutine awaiting it, up to the task's root.
struct AsyncFrame {
  /// The coroutine function, demangled, with clang's " [clone .resume]" suffix removed (e.g.
  /// "rill::Task<int> fetch(int)" prints as "fetch(int)").
  std::string function;
  /// The coroutine frame's address (std::coroutine_handle<>::address()).
  const void* frame = nullptr;
};

/// What a long-poll report is about. Each long poll the watchdog sees running for the threshold
/// (it samples every threshold/2, so every poll longer than 1.5 x threshold) yields one Detected
/// report while it still runs and one Finished report with its final duration, and counts in
/// RuntimeMetrics::worker_long_poll_count. Shorter polls are neither reported nor counted. Time
/// the worker spent preempted by the OS (run-queue wait from /proc/self/task/<tid>/schedstat)
/// does not count towards the threshold, so a busy machine does not produce false reports.
enum class LongPollPhase : std::uint8_t { Detected, Finished };

/// A poll that blocked its worker for longer than the long-poll threshold. Plain value type.
struct LongPollReport {
  LongPollPhase phase = LongPollPhase::Detected;
  /// The task's id (JoinHandle::id) and name (empty when spawned without one).
  std::uint64_t task_id = 0;
  std::string task_name;
  /// Where the task was spawned (function_name() may be empty for unknown).
  std::source_location spawn_location;
  /// Index of the worker (core) whose poll it is.
  std::size_t worker = 0;
  /// Detected: how long (wall-clock) the poll had at least run when sampled; Finished: its
  /// final duration, from the watchdog sample before it was first seen to its end as read by
  /// the worker (so at most one sampling period, threshold/2, too long; estimated when
  /// block_in_place took the core away).
  std::chrono::nanoseconds duration{0};
  /// The threshold in effect.
  std::chrono::nanoseconds threshold{0};
  /// True when the stacks below were captured (false only when the worker did not answer the
  /// sampling signal within 1 s). Finished reports repeat the Detected report's stacks.
  bool captured = false;
  /// The worker's native stack at the time of capture, innermost first, without the
  /// detector's own signal-handling frames.
  std::vector<StackFrame> stack;
  /// The task's chain of awaiting coroutines at the time of capture, innermost first.
  std::vector<AsyncFrame> async_stack;

  /// A multi-line human-readable rendering (what the default callback prints to stderr).
  std::string to_string() const;
};

/// Called on the runtime's watchdog thread for each report; must not block for long (it delays
/// the detection of other long polls) and must not throw (exceptions are caught and dropped).
using LongPollCallback = std::function<void(const LongPollReport&)>;

/// The default callback: prints report.to_string() to stderr with fmt, one write per report.
void log_long_poll(const LongPollReport& report);

/// State of a task in a dump.
enum class TaskState : std::uint8_t {
  Idle,       ///< suspended, waiting for a wake-up
  Scheduled,  ///< in a run queue, waiting for a worker
  Running,    ///< being polled right now
};

/// One live task in a dump.
struct TaskDump {
  std::uint64_t id = 0;
  std::string name;
  std::source_location spawn_location;
  TaskState state = TaskState::Idle;
  /// Worker polling it (Running only; otherwise SIZE_MAX).
  std::size_t worker = static_cast<std::size_t>(-1);
  /// Polls so far, and the total time spent in them when polls are timed (the poll-time
  /// histogram is enabled, Builder::enable_metrics_poll_time_histogram; otherwise 0).
  std::uint64_t polls = 0;
  std::chrono::nanoseconds busy{0};
  /// Idle tasks: the suspended chain of coroutines, innermost (the one awaiting a resource)
  /// first, up to the root. Scheduled and Running tasks: empty (they are not stopped to be
  /// inspected), except that a task never polled shows its root.
  std::vector<AsyncFrame> async_stack;
};

/// Every live task of a runtime at the time of Handle::dump().
struct RuntimeDump {
  std::vector<TaskDump> tasks;  ///< sorted by id
  /// A multi-line rendering, one block per task.
  std::string to_string() const;
};

/// The default large-frame hook (rill/frames.hpp), installed when the runtime library is
/// loaded: prints a warning to stderr, once per coroutine site (frames guarantees the once),
/// naming the coroutine, its frame size and the threshold. Replace it with
/// frames::set_large_frame_hook. Never throws.
void log_large_frame(const frames::SiteStats& site) noexcept;

/// Symbolizes one code address of this process (any thread; takes an internal lock; caches
/// symbol tables; allocates). Unknown addresses yield an empty function name.
StackFrame symbolize(std::uintptr_t address);

/// Names the coroutine whose frame starts with resume function `resume_fn` (the frame's first
/// word): the demangled symbol without " [clone .resume]"; "<unknown coroutine>" when the
/// address has no symbol.
std::string coroutine_name(const void* resume_fn);

}  // namespace rill::diagnostics
