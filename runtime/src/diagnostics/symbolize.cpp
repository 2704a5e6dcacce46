// diagnostics/symbolize.cpp: address -> function name from the ELF symbol tables of the loaded
// objects. dladdr() only sees .dynsym, which lacks static functions and clang's coroutine
// clones ("f() [clone .resume]" is a local symbol), so we read .symtab (falling back to
// .dynsym for stripped objects) and demangle with abi::__cxa_demangle.
#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rill/diagnostics.hpp"

namespace rill::diagnostics {

namespace {

struct Sym {
  std::uintptr_t start;  // link-time address (add the load bias)
  std::uintptr_t size;
  std::string name;  // mangled
};

struct Object {
  std::string path;
  std::vector<Sym> syms;  // sorted by start
};

/// Reads the function symbols of the ELF file at `path` (symtab, else dynsym).
std::vector<Sym> read_symbols(const std::string& path) {
  std::vector<Sym> out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st{};
  if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    ::close(fd);
    return out;
  }
  const std::size_t len = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return out;
  const auto* base = static_cast<const unsigned char*>(map);
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  auto in_file = [&](std::size_t off, std::size_t n) { return off <= len && n <= len - off; };
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      !in_file(eh->e_shoff, std::size_t{eh->e_shnum} * sizeof(Elf64_Shdr))) {
    ::munmap(map, len);
    return out;
  }
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
  for (const std::uint32_t want :
       {static_cast<std::uint32_t>(SHT_SYMTAB), static_cast<std::uint32_t>(SHT_DYNSYM)}) {
    for (std::size_t i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strs = sh[sh[i].sh_link];
      if (!in_file(sh[i].sh_offset, sh[i].sh_size) || !in_file(strs.sh_offset, strs.sh_size))
        continue;
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
      const std::size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
      const char* str = reinterpret_cast<const char*>(base + strs.sh_offset);
      for (std::size_t k = 0; k < n; ++k) {
        const Elf64_Sym& s = syms[k];
        if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || s.st_value == 0)
          continue;
        if (s.st_name >= strs.sh_size) continue;
        const char* nm = str + s.st_name;
        out.push_back({static_cast<std::uintptr_t>(s.st_value),
                       static_cast<std::uintptr_t>(s.st_size),
                       std::string(nm, strnlen(nm, strs.sh_size - s.st_name))});
      }
    }
    if (!out.empty()) break;  // .symtab found: it includes the dynamic symbols
  }
  ::munmap(map, len);
  std::sort(out.begin(), out.end(), [](const Sym& a, const Sym& b) { return a.start < b.start; });
  return out;
}

std::string demangle(const std::string& mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status == 0 && d) return d.get();
  return mangled;
}

struct Lookup {
  std::uintptr_t addr = 0;
  std::uintptr_t bias = 0;
  std::string path;
  bool found = false;
};

std::mutex g_mu;
std::map<std::string, std::unique_ptr<Object>> g_objects;  // by path

}  // namespace

StackFrame symbolize(std::uintptr_t address) {
  StackFrame f;
  f.address = address;
  Lookup lk;
  lk.addr = address;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* p) -> int {
        auto* l = static_cast<Lookup*>(p);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          if (l->addr >= lo && l->addr < lo + ph.p_memsz) {
            l->bias = info->dlpi_addr;
            l->path = (info->dlpi_name && *info->dlpi_name) ? info->dlpi_name : "";
            l->found = true;
            return 1;
          }
        }
        return 0;
      },
      &lk);
  if (!lk.found) return f;
  // The main program has an empty name; its file is /proc/self/exe.
  std::string file = lk.path.empty() ? "/proc/self/exe" : lk.path;
  f.object = lk.path.empty() ? "<main program>" : lk.path;
  if (lk.path.empty()) {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) f.object.assign(exe, static_cast<std::size_t>(n));
  }
  std::lock_guard g(g_mu);
  auto& obj = g_objects[file];
  if (!obj) {
    obj = std::make_unique<Object>();
    obj->path = file;
    obj->syms = read_symbols(file);
  }
  const std::uintptr_t rel = address - lk.bias;
  auto it = std::upper_bound(obj->syms.begin(), obj->syms.end(), rel,
                             [](std::uintptr_t a, const Sym& s) { return a < s.start; });
  if (it == obj->syms.begin()) return f;
  --it;
  // Prefer the symbol that contains the address; zero-sized symbols match loosely.
  if (it->size != 0 && rel >= it->start + it->size) return f;
  f.function = demangle(it->name);
  f.offset = rel - it->start;
  return f;
}

std::string coroutine_name(const void* resume_fn) {
  StackFrame f = symbolize(reinterpret_cast<std::uintptr_t>(resume_fn));
  if (f.function.empty()) return "<unknown coroutine>";
  for (const char* suffix : {" [clone .resume]", ".resume"}) {
    const std::size_t n = std::strlen(suffix);
    if (f.function.size() > n && f.function.compare(f.function.size() - n, n, suffix) == 0) {
      f.function.resize(f.function.size() - n);
      break;
    }
  }
  return f.function;
}

}  // namespace rill::diagnostics
