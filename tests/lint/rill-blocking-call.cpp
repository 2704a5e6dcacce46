// Fixture for rill-blocking-call. Expectations are inline in clang-tidy style; tests/lint/check_fixture.py
// fails on any missing or unexpected diagnostic.
#include <coroutine>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <pthread.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// ---- Minimal fake rill API (the real runtime is built separately) -----------------------------
namespace rill {
template <typename T = void>
struct Task;
namespace detail {
struct PromiseBase {
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_always final_suspend() noexcept { return {}; }
  void unhandled_exception() {}
};
template <typename T>
struct Promise : PromiseBase {
  Task<T> get_return_object();
  void return_value(T) {}
};
template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};
}  // namespace detail
template <typename T>
struct Task {
  using promise_type = detail::Promise<T>;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return T();
  }
};
template <typename T>
Task<T> detail::Promise<T>::get_return_object() { return {}; }
inline Task<void> detail::Promise<void>::get_return_object() { return {}; }

template <typename T>
struct JoinHandle {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return T();
  }
};
template <typename T>
JoinHandle<T> spawn(Task<T> t) { return {}; }
template <typename F>
auto spawn_blocking(F f) -> JoinHandle<decltype(f())> { return {}; }
template <typename F>
auto block_in_place(F f) -> decltype(f()) { return f(); }
struct Runtime {
  template <typename T>
  T block_on(Task<T> t);
};
struct Handle {
  template <typename T>
  T block_on(Task<T> t);
  static Handle current();
};
namespace time {
Task<void> sleep(std::chrono::milliseconds d);
}
}  // namespace rill

// Third-party C libraries the rules know about (declared here; not installed on the CI box).
extern "C" {
char* bcrypt_hashpw(const char* pw, const char* salt);
int crypto_pwhash_str(char* out, const char* pw, unsigned long long len, unsigned long long ops,
                      unsigned long mem);
int PKCS5_PBKDF2_HMAC(const char* pass, int passlen, const unsigned char* salt, int saltlen,
                      int iter, const void* digest, int keylen, unsigned char* out);
int EVP_PBE_scrypt(const char* pass, unsigned long passlen, const unsigned char* salt,
                   unsigned long saltlen, unsigned long long N, unsigned long long r,
                   unsigned long long p, unsigned long long maxmem, unsigned char* key,
                   unsigned long keylen);
int argon2id_hash_encoded(unsigned t, unsigned m, unsigned p, const void* pwd, unsigned long pwdlen,
                          const void* salt, unsigned long saltlen, unsigned long hashlen,
                          char* encoded, unsigned long encodedlen);
char* crypt(const char* key, const char* salt);
int compress(unsigned char* dest, unsigned long* destLen, const unsigned char* source,
             unsigned long sourceLen);
unsigned long ZSTD_compress(void* dst, unsigned long dstCap, const void* src, unsigned long srcSize,
                            int level);
int LZ4_compress_default(const char* src, char* dst, int srcSize, int dstCapacity);
int BZ2_bzBuffToBuffCompress(char* dest, unsigned* destLen, char* source, unsigned sourceLen,
                             int blockSize100k, int verbosity, int workFactor);
typedef struct Curl CURL;
int curl_easy_perform(CURL* curl);
typedef struct sqlite3 sqlite3;
int sqlite3_exec(sqlite3* db, const char* sql, void* cb, void* arg, char** err);
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
PGresult* PQexec(PGconn* conn, const char* query);
}

using rill::Task;

// ============================== must flag ===================================================

Task<> direct_sleep() {
  sleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'direct_sleep'; use co_await rill::sleep(duration) [rill-blocking-call]
  usleep(10);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' in coroutine 'direct_sleep'
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'std::this_thread::sleep_for' in coroutine 'direct_sleep'
  co_return;
}

Task<std::string> load(const std::string& path) {
  std::ifstream in(path);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: blocking file I/O 'std::ifstream' in coroutine 'load'; use rill::fs or move it into rill::spawn_blocking [rill-blocking-call]
  std::string word;
  in >> word;
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking file I/O 'std::ifstream::operator>>' in coroutine 'load'
  co_return word;
}

Task<> stdio_and_fs() {
  FILE* f = fopen("/etc/hosts", "r");
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: blocking file I/O 'fopen' in coroutine 'stdio_and_fs'
  char buf[64];
  fgets(buf, sizeof buf, f);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fgets' in coroutine 'stdio_and_fs'
  int fd = open("/tmp/x", 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: blocking file I/O 'open' in coroutine 'stdio_and_fs'
  if (std::filesystem::exists("/tmp/y")) {
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: blocking file I/O 'std::filesystem::exists' in coroutine 'stdio_and_fs'
  }
  std::ofstream out("/tmp/z");
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: blocking file I/O 'std::ofstream' in coroutine 'stdio_and_fs'
  co_return;
}

Task<> dns_and_process(int sock) {
  addrinfo* res = nullptr;
  getaddrinfo("example.com", "80", nullptr, &res);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking DNS resolution 'getaddrinfo' in coroutine 'dns_and_process'; use rill::net::lookup_host or move it into rill::spawn_blocking [rill-blocking-call]
  gethostbyname("example.com");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking DNS resolution 'gethostbyname' in coroutine 'dns_and_process'
  std::system("ls");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking process control 'system' in coroutine 'dns_and_process'; move it into rill::spawn_blocking (rill has no async process API) [rill-blocking-call]
  FILE* p = popen("ls", "r");
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: blocking process control 'popen' in coroutine 'dns_and_process'
  waitpid(1, nullptr, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking process control 'waitpid' in coroutine 'dns_and_process'
  char b[16];
  read(sock, b, sizeof b);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking socket/fd I/O 'read' in coroutine 'dns_and_process'
  (void)p;
  co_return;
}

Task<> threads_and_futures(std::future<int> fut, std::thread& t, std::condition_variable& cv,
                           std::mutex& m) {
  int v = fut.get();
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: blocking wait on std::future 'std::future::get' in coroutine 'threads_and_futures'
  t.join();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking thread join 'std::thread::join' in coroutine 'threads_and_futures'
  std::unique_lock<std::mutex> lk(m);
  cv.wait(lk);
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking synchronous wait 'std::condition_variable::wait' in coroutine 'threads_and_futures'
  (void)v;
  co_return;
}

Task<> crypto_and_compression(CURL* curl, sqlite3* db, PGconn* pg) {
  crypt("pw", "$6$salt");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'crypt' in coroutine 'crypto_and_compression'; move it into rill::spawn_blocking [rill-blocking-call]
  bcrypt_hashpw("pw", "salt");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'bcrypt_hashpw' in coroutine 'crypto_and_compression'
  crypto_pwhash_str(nullptr, "pw", 2, 3, 4);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'crypto_pwhash_str' in coroutine 'crypto_and_compression'
  PKCS5_PBKDF2_HMAC("pw", 2, nullptr, 0, 100000, nullptr, 32, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'PKCS5_PBKDF2_HMAC' in coroutine 'crypto_and_compression'
  EVP_PBE_scrypt("pw", 2, nullptr, 0, 16384, 8, 1, 0, nullptr, 32);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'EVP_PBE_scrypt' in coroutine 'crypto_and_compression'
  argon2id_hash_encoded(3, 65536, 1, "pw", 2, "salt", 4, 32, nullptr, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking password hashing (CPU-heavy) 'argon2id_hash_encoded' in coroutine 'crypto_and_compression'
  compress(nullptr, nullptr, nullptr, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking compression (CPU-heavy) 'compress' in coroutine 'crypto_and_compression'
  ZSTD_compress(nullptr, 0, nullptr, 0, 3);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking compression (CPU-heavy) 'ZSTD_compress' in coroutine 'crypto_and_compression'
  LZ4_compress_default(nullptr, nullptr, 0, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking compression (CPU-heavy) 'LZ4_compress_default' in coroutine 'crypto_and_compression'
  BZ2_bzBuffToBuffCompress(nullptr, nullptr, nullptr, 0, 9, 0, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking compression (CPU-heavy) 'BZ2_bzBuffToBuffCompress' in coroutine 'crypto_and_compression'
  curl_easy_perform(curl);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous HTTP client 'curl_easy_perform' in coroutine 'crypto_and_compression'
  sqlite3_exec(db, "select 1", nullptr, nullptr, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous database call 'sqlite3_exec' in coroutine 'crypto_and_compression'
  PQexec(pg, "select 1");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous database call 'PQexec' in coroutine 'crypto_and_compression'
  co_return;
}

Task<int> compute();

Task<> reenter_runtime(rill::Runtime& rt) {
  int v = rt.block_on(compute());
  // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: blocking runtime re-entry (deadlock) 'rill::Runtime::block_on' in coroutine 'reenter_runtime'; co_await the task instead
  rill::Handle::current().block_on(compute());
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: blocking runtime re-entry (deadlock) 'rill::Handle::block_on' in coroutine 'reenter_runtime'
  (void)v;
  co_return;
}

// Member function coroutines.
struct Server {
  int fd = 0;
  Task<> serve() {
    char b[8];
    recv(fd, b, sizeof b, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking socket/fd I/O 'recv' in coroutine 'Server::serve'
    co_return;
  }
};

// Templates: reported once although instantiated twice.
template <typename T>
Task<> templated(T ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'std::this_thread::sleep_for' in coroutine 'templated'
  co_return;
}
template Task<> templated<int>(int);
template Task<> templated<long>(long);

// Template never instantiated: the pattern is checked.
template <typename T>
Task<> never_instantiated(T x) {
  sleep(x);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'never_instantiated'
  co_return;
}

// Coroutine lambdas.
auto coro_lambda = []() -> Task<> {
  sleep(2);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'lambda at rill-blocking-call.cpp:260'
  co_return;
};

// Transitive: reported at the call in the coroutine, one note per hop.
void leaf_blocks() {
  usleep(100);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'leaf_blocks' calls blocking sleep 'usleep' here
}
void middle() {
  leaf_blocks();
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'middle' calls 'leaf_blocks' here
}
void top_helper() {
  middle();
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'top_helper' calls 'middle' here
}
Task<> uses_helpers() {
  top_helper();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' reached through call to 'top_helper' in coroutine 'uses_helpers'; use co_await rill::sleep(duration) [rill-blocking-call]
  co_return;
}

// Recursion (a call-graph cycle) is safe; the path goes to the blocking call. (With a constant
// argument the search would follow the constant: pong(3) reaches the file only through ping(0).)
void ping(int n);
void pong(int n) {
  if (n > 0) ping(n - 1);
  // CHECK-NOTES: :[[@LINE-1]]:14: note: 'pong' calls 'ping' here
}
void ping(int n) {
  pong(n);
  if (n == 0) std::ifstream cfg("/etc/app.conf");
  // CHECK-NOTES: :[[@LINE-1]]:29: note: 'ping' calls blocking file I/O 'std::ifstream' here
}
Task<> recursive_user(int depth) {
  pong(depth);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ifstream' reached through call to 'pong' in coroutine 'recursive_user'
  co_return;
}

extern FILE* g_log;  // A lambda that is invoked inside the coroutine runs there.
Task<> invokes_lambda() {
  auto flush = [] { fflush(g_log); };
  // CHECK-NOTES: :[[@LINE-1]]:21: note: 'lambda at rill-blocking-call.cpp:305' calls blocking file I/O 'fflush' here
  flush();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fflush' reached through call to 'lambda at rill-blocking-call.cpp:305' in coroutine 'invokes_lambda'
  co_return;
}

// A user type whose constructor blocks.
struct Config {
  explicit Config(const char* path) { std::ifstream f(path); }
  // CHECK-NOTES: :[[@LINE-1]]:53: note: 'Config::Config' calls blocking file I/O 'std::ifstream' here
};
Task<> builds_config() {
  Config c("/etc/app.conf");
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: blocking file I/O 'std::ifstream' reached through call to 'Config::Config' in coroutine 'builds_config'
  co_return;
}

// ============================== must NOT flag ================================================

// 1. Blocking calls outside coroutines.
void plain_function() {
  sleep(1);
  std::ifstream in("/etc/hosts");
  top_helper();
}

// 2-3. Offloaded to the blocking pool.
Task<> offloaded() {
  co_await rill::spawn_blocking([] {
    sleep(1);
    std::ifstream in("/etc/hosts");
    return 0;
  });
  int n = rill::block_in_place([] { return static_cast<int>(usleep(5)); });
  co_await rill::spawn_blocking(&top_helper);
  (void)n;
  co_return;
}

// 4. A lambda that is created but never called here (it runs elsewhere).
Task<> stores_lambda(std::function<void()>& out) {
  out = [] { sleep(1); };
  auto later = [] { usleep(1); };
  (void)later;
  co_return;
}

// 5. Helpers that do not block, including a cycle.
int pure_helper(int x) { return x * 2; }
void cyc_a(int n);
void cyc_b(int n) {
  if (n) cyc_a(n - 1);
}
void cyc_a(int n) { cyc_b(n); }
Task<int> calls_pure_helpers() {
  cyc_a(4);
  co_return pure_helper(21);
}

// 6. The async equivalents.
Task<> async_sleep() {
  co_await rill::time::sleep(std::chrono::milliseconds(10));
  co_return;
}

// 7. Same short names in other namespaces / user classes.
namespace myns {
int sleep(int) { return 0; }
struct File {
  int read(char*, int) { return 0; }
};
}  // namespace myns
Task<> same_names() {
  myns::sleep(1);
  myns::File f;
  char b[4];
  f.read(b, 4);
  co_return;
}

// 8. Awaiting another coroutine that blocks: reported inside that coroutine only.
Task<> calls_blocking_coroutine() {
  co_await direct_sleep();
  co_return;
}

// 9. std::mutex::lock is a 'strict' rule (off by default); rill-lock-across-await owns locks.
// A guard's constructor follows the same policy as m.lock() (reported with Strict: see
// rill-blocking-call-strict.cpp).
Task<> short_critical_section(std::mutex& m, int& counter) {
  {
    std::lock_guard<std::mutex> g(m);
    ++counter;
  }
  {
    std::scoped_lock g(m);
    ++counter;
  }
  m.lock();
  ++counter;
  m.unlock();
  co_return;
}
// pthread_mutex_lock follows the same policy as m.lock() (reported with Strict).
Task<> short_posix_section(pthread_mutex_t* pm, int& counter) {
  pthread_mutex_lock(pm);
  ++counter;
  pthread_mutex_unlock(pm);
  co_return;
}

// 10. block_on outside a coroutine is how a program enters the runtime.
int main_like(rill::Runtime& rt) { return rt.block_on(compute()); }

// 11. Non-blocking std calls; moving a stream does no I/O.
Task<std::string> std_non_blocking(std::string s, std::ifstream&& f) {
  s.append("x");
  std::ifstream g(std::move(f));
  co_return s;
}

// 12. A local class's member function is not executed by the coroutine body.
Task<> local_class() {
  struct Later {
    void run() { sleep(1); }
  };
  Later l;
  (void)l;
  co_return;
}

// 13. C structs named like blocking functions (struct stat / struct statx) are just data.
Task<long> struct_named_like_function(const struct stat& in) {
  struct stat copy = in;
  struct stat zeroed {};
  struct stat uninit;  // default-initialized: an implicit trivial constructor call
  uninit.st_size = 0;
  co_return copy.st_size + zeroed.st_size + uninit.st_size;
}

// 14. State queries on a blocking object are not I/O (the constructor already was reported).
Task<bool> stream_state_queries(std::ifstream& in) {
  bool ok = in.good() && in.is_open() && !in.fail();
  co_return ok && static_cast<bool>(in);
}

// 15. Every blocking family, offloaded to the blocking pool from a coroutine.
Task<> everything_offloaded(int sock, std::future<int> fut, std::thread& t, CURL* curl,
                            sqlite3* db, PGconn* pg) {
  co_await rill::spawn_blocking([&] {
    char b[16];
    FILE* f = fopen("/etc/hosts", "r");
    fgets(b, sizeof b, f);
    read(sock, b, sizeof b);
    addrinfo* res = nullptr;
    getaddrinfo("example.com", "80", nullptr, &res);
    crypt("pw", "$6$salt");
    compress(nullptr, nullptr, nullptr, 0);
    curl_easy_perform(curl);
    sqlite3_exec(db, "select 1", nullptr, nullptr, nullptr);
    PQexec(pg, "select 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    t.join();
    return fut.get();
  });
  co_return;
}

// 16. The same families in ordinary (non-coroutine) functions and members.
struct SyncClient {
  int fd = 0;
  int fetch(CURL* curl, sqlite3* db, PGconn* pg) {
    char b[8];
    recv(fd, b, sizeof b, 0);
    curl_easy_perform(curl);
    sqlite3_exec(db, "select 1", nullptr, nullptr, nullptr);
    PQexec(pg, "select 1");
    bcrypt_hashpw("pw", "salt");
    ZSTD_compress(nullptr, 0, nullptr, 0, 3);
    return gethostbyname("example.com") != nullptr;
  }
};

// 17. A thread started with a blocking lambda: the lambda runs on that thread, not here.
Task<> starts_thread() {
  std::thread([] { sleep(1); }).detach();
  co_return;
}

// 18. block_on in a non-coroutine member function (a blocking bridge used from main()).
struct Bridge {
  rill::Runtime& rt;
  int get() { return rt.block_on(compute()); }
};
