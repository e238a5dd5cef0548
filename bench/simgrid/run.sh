#!/usr/bin/env bash
# Measure SimGrid 3.32's live-migration plugin on the migsim reference workload.
#
#   bash bench/simgrid/run.sh [count]      (count defaults to 1000)
#
# Installs libsimgrid-dev (Debian) if missing and we are root, compiles
# migrate1000.cpp into a temporary directory, runs it 3 times and prints the
# JSON line of the fastest run (smallest simMs) on stdout. Everything else
# goes to stderr. If SimGrid cannot be had, prints
# {"tool":"simgrid","skipped":"<reason>"} and exits 0.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
count="${1:-1000}"
if ! [[ "$count" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash bench/simgrid/run.sh [count>=1]" >&2
  exit 2
fi

skip() {
  echo "simgrid bench skipped: $1" >&2
  printf '{"tool":"simgrid","skipped":"%s"}\n' "$1"
  exit 0
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >&2 2>&1 && return 0
  echo "apt-get install failed; retrying after apt-get update" >&2
  apt-get update -qq >&2 2>&1 && apt-get install -y -qq "$@" >&2 2>&1
}

if [[ ! -f /usr/include/simgrid/s4u.hpp ]] || ! command -v g++ >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]]; then
    skip "libsimgrid-dev/g++ not installed and not root"
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    skip "libsimgrid-dev not installed and no apt-get"
  fi
  echo "installing libsimgrid-dev g++ ..." >&2
  apt_install libsimgrid-dev g++ || skip "apt-get install libsimgrid-dev g++ failed"
  [[ -f /usr/include/simgrid/s4u.hpp ]] || skip "libsimgrid-dev installed but s4u.hpp missing"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "compiling migrate1000.cpp ..." >&2
g++ -O2 -std=c++17 "$here/migrate1000.cpp" -o "$tmp/migrate1000" -lsimgrid >&2

best=""
best_ms=""
for run in 1 2 3; do
  line="$("$tmp/migrate1000" "$count" "$here/platform.xml" | tail -n 1)"
  echo "run $run: $line" >&2
  ms="$(sed -n 's/.*"simMs":\([0-9.eE+-]*\).*/\1/p' <<<"$line")"
  if [[ -z "$ms" ]]; then
    echo "could not read simMs from run $run output" >&2
    exit 1
  fi
  if [[ -z "$best_ms" ]] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then
    best="$line"
    best_ms="$ms"
  fi
done

printf '%s\n' "$best"
