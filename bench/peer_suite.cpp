// rill-peer-suite: the C++ side of ../shared/peers (compare.sh). Each benchmark mirrors, one for
// one, the definition in shared/peers/tokio/src/main.rs (same counts, same structure, same
// median-of-N timing) and prints `bench NAME VALUE ns/iter`. WORKERS sets the worker count.
//   rill-peer-suite [NAME]        run all benchmarks, or one
//   rill-peer-suite echo-server ADDR   TCP echo server for the echo load (needs rill::net)
#include <rill/fs.hpp>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t NUM_SPAWN = 10'000;
constexpr std::size_t NUM_YIELD = 1'000;
constexpr std::size_t YIELD_TASKS = 200;
constexpr std::size_t NUM_PINGS = 1'000;
constexpr std::size_t CHAIN = 1'000;

template <class F>
double median_ns(F&& f, std::size_t iters) {
  f();  // warm-up
  std::vector<double> v;
  v.reserve(iters);
  for (std::size_t i = 0; i < iters; ++i) {
    auto t = std::chrono::steady_clock::now();
    f();
    v.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t).count());
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

rill::Runtime rt() {
  auto b = rill::Builder::new_multi_thread();
  if (const char* w = std::getenv("WORKERS")) b.worker_threads(std::stoul(w));
  return b.build();
}

/// The std::sync::mpsc::sync_channel the Tokio side uses to signal completion: a counter behind
/// a mutex and condition variable. (libstdc++ 12's std::counting_semaphore waits with atomic
/// wait/notify, whose wake-up latency reaches milliseconds here and would dominate the short
/// benchmarks.)
class Done {
 public:
  explicit Done(int initial) : n_(initial) {}
  void release() {
    {
      std::lock_guard lk(mu_);
      ++n_;
    }
    cv_.notify_one();
  }
  void acquire() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return n_ > 0; });
    --n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
};

double spawn_many_local(rill::Runtime& rt) {
  return median_ns(
      [&] {
        rt.block_on([]() -> rill::Task<void> {
          auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
          auto rem = std::make_shared<std::atomic<std::size_t>>(NUM_SPAWN);
          // spawn from inside a task so spawns go to the local queue
          (void)rill::spawn([](rill::sync::mpsc::UnboundedSender<int> tx,
                               std::shared_ptr<std::atomic<std::size_t>> rem) -> rill::Task<void> {
            for (std::size_t i = 0; i < NUM_SPAWN; ++i) {
              (void)rill::spawn([](rill::sync::mpsc::UnboundedSender<int> tx,
                                   std::shared_ptr<std::atomic<std::size_t>> rem) -> rill::Task<void> {
                if (1 == rem->fetch_sub(1, std::memory_order_relaxed)) (void)tx.send(0);
                co_return;
              }(tx.clone(), rem));
            }
            co_return;
          }(std::move(tx), rem));
          (void)co_await rx.recv();
        }());
      },
      20);
}

double spawn_many_remote_idle(rill::Runtime& rt) {
  return median_ns(
      [&] {
        std::vector<rill::JoinHandle<void>> handles;
        handles.reserve(NUM_SPAWN);
        for (std::size_t i = 0; i < NUM_SPAWN; ++i)
          handles.push_back(rt.spawn([]() -> rill::Task<void> { co_return; }()));
        rt.block_on([](std::vector<rill::JoinHandle<void>> hs) -> rill::Task<void> {
          for (auto& h : hs) co_await h;
        }(std::move(handles)));
      },
      20);
}

double yield_many(rill::Runtime& rt) {
  return median_ns(
      [&] {
        Done done(0);
        for (std::size_t i = 0; i < YIELD_TASKS; ++i) {
          (void)rt.spawn([](Done* done) -> rill::Task<void> {
            for (std::size_t j = 0; j < NUM_YIELD; ++j) co_await rill::yield_now();
            done->release();
          }(&done));
        }
        for (std::size_t i = 0; i < YIELD_TASKS; ++i) done.acquire();
      },
      10);
}

double ping_pong(rill::Runtime& rt) {
  return median_ns(
      [&] {
        Done done(0);
        auto rem = std::make_shared<std::atomic<std::size_t>>(0);
        rt.block_on([](Done* done, std::shared_ptr<std::atomic<std::size_t>> rem) -> rill::Task<void> {
          rem->store(NUM_PINGS, std::memory_order_relaxed);
          (void)rill::spawn([](Done* done, std::shared_ptr<std::atomic<std::size_t>> rem) -> rill::Task<void> {
            for (std::size_t i = 0; i < NUM_PINGS; ++i) {
              (void)rill::spawn([](Done* done, std::shared_ptr<std::atomic<std::size_t>> rem) -> rill::Task<void> {
                auto [tx1, rx1] = rill::sync::oneshot::channel<int>();
                auto [tx2, rx2] = rill::sync::oneshot::channel<int>();
                (void)rill::spawn([](rill::sync::oneshot::Receiver<int> rx1,
                                     rill::sync::oneshot::Sender<int> tx2) -> rill::Task<void> {
                  (void)(co_await rx1).value();
                  (void)std::move(tx2).send(0);
                }(std::move(rx1), std::move(tx2)));
                (void)std::move(tx1).send(0);
                (void)(co_await rx2).value();
                if (1 == rem->fetch_sub(1, std::memory_order_relaxed)) done->release();
              }(done, rem));
            }
            co_return;
          }(done, rem));
          co_return;
        }(&done, rem));
        done.acquire();
      },
      20);
}

void chain_iter(Done* done, std::size_t n) {
  if (n == 0) {
    done->release();
  } else {
    (void)rill::spawn([](Done* done, std::size_t n) -> rill::Task<void> {
      chain_iter(done, n - 1);
      co_return;
    }(done, n));
  }
}

double chained_spawn(rill::Runtime& rt) {
  return median_ns(
      [&] {
        Done done(0);
        rt.block_on([](Done* done) -> rill::Task<void> {
          (void)rill::spawn([](Done* done) -> rill::Task<void> {
            chain_iter(done, CHAIN);
            co_return;
          }(done));
          co_return;
        }(&done));
        done.acquire();
      },
      20);
}

double mpsc_bounded(rill::Runtime& rt) {
  constexpr std::size_t PRODUCERS = 4;
  constexpr std::size_t PER = 25'000;
  return median_ns(
      [&] {
        rt.block_on([]() -> rill::Task<void> {
          auto [tx, rx] = rill::sync::mpsc::channel<std::size_t>(1024);
          for (std::size_t p = 0; p < PRODUCERS; ++p) {
            (void)rill::spawn([](rill::sync::mpsc::Sender<std::size_t> tx, std::size_t p) -> rill::Task<void> {
              for (std::size_t i = 0; i < PER; ++i) (co_await tx.send(p * PER + i)).value();
            }(tx.clone(), p));
          }
          { auto drop = std::move(tx); }
          std::size_t n = 0;
          while ((co_await rx.recv()).has_value()) ++n;
          if (n != PRODUCERS * PER) std::abort();
        }());
      },
      10);
}

double timeout_churn(rill::Runtime& rt) {
  constexpr std::size_t N = 100'000;
  return median_ns(
      [&] {
        rt.block_on([]() -> rill::Task<void> {
          std::size_t ok = 0;
          for (std::size_t i = 0; i < N; ++i) {
            // a timer is registered and cancelled for each call
            auto r = co_await rill::timeout(5s, [](std::size_t i) -> rill::Task<std::size_t> {
              co_return i;
            }(i));
            if (r) ++ok;
          }
          if (ok != N) std::abort();
        }());
      },
      10);
}

double sleep_many(rill::Runtime& rt) {
  constexpr std::size_t N = 10'000;
  return median_ns(
      [&] {
        rt.block_on([]() -> rill::Task<void> {
          std::vector<rill::JoinHandle<void>> hs;
          hs.reserve(N);
          for (std::size_t i = 0; i < N; ++i) {
            hs.push_back(rill::spawn([](std::size_t i) -> rill::Task<void> {
              co_await rill::sleep(std::chrono::milliseconds(1 + i % 10));
            }(i)));
          }
          for (auto& h : hs) co_await h;
        }());
      },
      10);
}

double spawn_blocking_many(rill::Runtime& rt) {
  constexpr std::size_t N = 10'000;
  return median_ns(
      [&] {
        rt.block_on([]() -> rill::Task<void> {
          std::vector<rill::JoinHandle<std::size_t>> hs;
          hs.reserve(N);
          for (std::size_t i = 0; i < N; ++i) hs.push_back(rill::spawn_blocking([i] { return i; }));
          std::size_t s = 0;
          for (auto& h : hs) s += co_await h;
          if (s != N * (N - 1) / 2) std::abort();
        }());
      },
      10);
}

// ---- file I/O: the same files, sizes, offsets and checks as the Tokio side ---------------------

constexpr std::size_t FS_FILES = 256;
constexpr std::size_t FS_FILE_BYTES = 4096;
constexpr std::uint64_t FS_BIG_BYTES = 16 << 20;
constexpr std::size_t FS_READERS = 64;
constexpr std::size_t FS_READS_PER_READER = 64;

/// FS_FILES files f<i> of FS_FILE_BYTES bytes (i % 251 each) and `big`, FS_BIG_BYTES bytes with
/// byte k = k % 251, in $TMPDIR/peer-suite-fs-<pid>; removed at the end.
struct FsFixture {
  std::filesystem::path dir;
  FsFixture() {
    dir = std::filesystem::temp_directory_path() /
          ("peer-suite-fs-" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < FS_FILES; ++i) {
      std::ofstream f(dir / ("f" + std::to_string(i)), std::ios::binary);
      const std::string bytes(FS_FILE_BYTES, static_cast<char>(i % 251));
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f) std::abort();
    }
    std::string big(FS_BIG_BYTES, '\0');
    for (std::uint64_t k = 0; k < FS_BIG_BYTES; ++k)
      big[k] = static_cast<char>(k % 251);
    std::ofstream f(dir / "big", std::ios::binary);
    f.write(big.data(), static_cast<std::streamsize>(big.size()));
    if (!f) std::abort();
  }
  ~FsFixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

/// Offset of read `j` of reader `r`: the Tokio side's fixed LCG (same 4 KiB blocks).
std::uint64_t fs_offset(std::size_t r, std::size_t j) {
  const std::uint64_t x =
      (static_cast<std::uint64_t>(r) * 6364136223846793005ULL + static_cast<std::uint64_t>(j)) *
      1442695040888963407ULL;
  return ((x >> 20) % (FS_BIG_BYTES / 4096)) * 4096;
}

double fs_read_many(rill::Runtime& rt) {
  FsFixture fx;
  const std::string dir = fx.dir.string();
  return median_ns(
      [&] {
        rt.block_on([](const std::string* dir) -> rill::Task<void> {
          std::vector<rill::JoinHandle<std::size_t>> hs;
          hs.reserve(FS_FILES);
          for (std::size_t i = 0; i < FS_FILES; ++i) {
            std::string p = *dir + "/f" + std::to_string(i);
            hs.push_back(rill::spawn([](std::string p) -> rill::Task<std::size_t> {
              auto r = co_await rill::fs::read(std::move(p));
              if (!r) std::abort();
              co_return r->size();
            }(std::move(p))));
          }
          std::size_t n = 0;
          for (auto& h : hs)
            n += co_await h;
          if (n != FS_FILES * FS_FILE_BYTES) std::abort();
        }(&dir));
      },
      20);
}

double fs_random_read(rill::Runtime& rt) {
  FsFixture fx;
  const std::string big = (fx.dir / "big").string();
  return median_ns(
      [&] {
        rt.block_on([](const std::string* big) -> rill::Task<void> {
          std::vector<rill::JoinHandle<std::uint64_t>> hs;
          hs.reserve(FS_READERS);
          for (std::size_t r = 0; r < FS_READERS; ++r) {
            hs.push_back(rill::spawn([](std::string p, std::size_t r) -> rill::Task<std::uint64_t> {
              auto f = co_await rill::fs::File::open(std::move(p));
              if (!f) std::abort();
              std::vector<std::byte> buf(4096);
              std::uint64_t sum = 0;
              for (std::size_t j = 0; j < FS_READS_PER_READER; ++j) {
                const std::uint64_t off = fs_offset(r, j);
                // read_exact at `off` (positioned: the Tokio side seeks, then reads).
                std::size_t got = 0;
                while (got < buf.size()) {
                  auto n = co_await f->read_at(std::span(buf).subspan(got), off + got);
                  if (!n || *n == 0) std::abort();
                  got += *n;
                }
                sum += static_cast<std::uint64_t>(buf[0]);
                if (static_cast<std::uint64_t>(buf[0]) != off % 251) std::abort();
              }
              co_return sum;
            }(*big, r)));
          }
          for (auto& h : hs)
            (void)co_await h;
        }(&big));
      },
      20);
}

// `echo-server ADDR`: the TCP echo server of the echo load, like the Tokio side's echo_server
// (4 KiB buffer, read -> write_all, TCP_NODELAY), serving until killed.
rill::Task<void> echo_conn(rill::net::TcpStream s) {
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n || *n == 0) co_return;
    if (!co_await s.write_all(std::span<const char>(buf, *n))) co_return;
  }
}

int echo_server(const char* addr) {
  auto runtime = rt();
  return runtime.block_on([](std::string a) -> rill::Task<int> {
    auto l = rill::net::TcpListener::bind(a);
    if (!l) {
      std::fprintf(stderr, "rill-peer-suite: cannot listen on %s: %s\n", a.c_str(),
                   l.error().message().c_str());
      co_return 1;
    }
    std::printf("listening %s\n", l->local_addr()->to_string().c_str());
    std::fflush(stdout);
    for (;;) {
      auto c = co_await l->accept();
      if (!c) continue;
      (void)c->first.set_nodelay(true);
      (void)rill::spawn(echo_conn(std::move(c->first)));
    }
  }(addr));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "echo-server") return echo_server(argv[2]);
  const char* only = argc >= 2 ? argv[1] : nullptr;
  auto runtime = rt();
  struct Bench {
    const char* name;
    double (*fn)(rill::Runtime&);
  };
  const Bench benches[] = {
      {"spawn_many_local", spawn_many_local},
      {"spawn_many_remote_idle", spawn_many_remote_idle},
      {"yield_many", yield_many},
      {"ping_pong", ping_pong},
      {"chained_spawn", chained_spawn},
      {"mpsc_bounded", mpsc_bounded},
      {"timeout_churn", timeout_churn},
      {"sleep_many", sleep_many},
      {"spawn_blocking_many", spawn_blocking_many},
      {"fs_read_many", fs_read_many},
      {"fs_random_read", fs_random_read},
  };
  bool any = false;
  for (const auto& b : benches) {
    if (only && std::string_view(only) != b.name) continue;
    any = true;
    std::printf("bench %s %.0f ns/iter\n", b.name, b.fn(runtime));
    std::fflush(stdout);
  }
  if (!any) {
    std::fprintf(stderr, "rill-peer-suite: unknown benchmark '%s'\n", only);
    return 2;
  }
  return 0;
}
