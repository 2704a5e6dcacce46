# .ci/deps.sh: installs the Debian 12 packages rill builds with (sourced by .ci/main and .ci/test).
# Only what is missing is installed; apt-get runs as root, or through sudo.
RILL_PACKAGES=(
  cmake ninja-build pkg-config python3
  clang-19 libclang-19-dev llvm-19-dev clang-tidy-19 libclang-rt-19-dev
  liburing-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  node-llhttp libcrypt-dev   # demo_server / loadgen: llhttp sources, crypt_r (bcrypt)
)

rill_ensure_deps() {
  local missing=()
  for p in "${RILL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "==> installing: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# rill_build DIR [cmake args...]: configure (once) and build.
rill_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "${RILL_JOBS:-$(nproc)}"
}
