#!/usr/bin/env bash
# Fuzz every file reader with libFuzzer + ASan + UBSan (harnesses in
# tests/fuzz/fuzz_<reader>.cpp), each for N seconds, one after another.
#
# Usage: scripts/fuzz.sh [--seconds N] [--build-dir DIR] [--jobs J] [reader ...]
#   --seconds N    how long to fuzz each harness (default 600; CI smoke: 30)
#   --build-dir    the clang fuzzing build (default build-fuzz; set up if missing)
#   --jobs J       parallel compile jobs (default: all cores)
#   reader ...     only these harnesses (idx npy safetensors architecture model_io)
#
# Each harness starts from a temporary copy of tests/fuzz/corpus/<reader>/ (the
# committed corpus never grows by itself) and its dictionary. A crash, a
# sanitizer report, an unexpected exception, a hang (-timeout) or running out
# of memory (-rss_limit_mb) is a finding: the input is kept in
# <build-dir>/fuzz-findings/ and the harness fails. Prints one line per
# harness and ends with `fuzz: N passed, N failed`; exits non-zero on any
# finding. Reproduce a finding with: <build-dir>/tests/fuzz/fuzz_<reader> <file>
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

seconds=600
build_dir=build-fuzz
jobs="$(nproc)"
readers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) readers+=("$1"); shift ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: --seconds needs a positive whole number, got '$seconds'" >&2
  exit 2
fi
if [ ${#readers[@]} -eq 0 ]; then
  for harness in tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$harness" .cpp)"
    readers+=("${name#fuzz_}")
  done
fi
total=${#readers[@]}

start=$SECONDS

# Build dependencies, then clang and its libFuzzer runtime (Debian 12: clang 14).
bash scripts/install-deps.sh || { echo "fuzz: 0 passed, $total failed (dependency installation failed)"; exit 1; }
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "fuzz: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } ||
    { echo "fuzz: 0 passed, $total failed (could not install ${missing[*]})"; exit 1; }
fi

if [ ! -f "$build_dir/build.ninja" ]; then
  CXX=clang++ meson setup "$build_dir" -Dfuzzing=true -Dopenmp=false -Dbuildtype=debugoptimized ||
    { echo "fuzz: 0 passed, $total failed (meson setup failed)"; exit 1; }
fi
targets=()
for reader in "${readers[@]}"; do targets+=("tests/fuzz/fuzz_$reader"); done
ninja -C "$build_dir" -j "$jobs" "${targets[@]}" ||
  { echo "fuzz: 0 passed, $total failed (build failed; is $build_dir configured with -Dfuzzing=true?)"; exit 1; }
echo "fuzz: build took $((SECONDS - start)) s"

findings_dir="$build_dir/fuzz-findings"
mkdir -p "$findings_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/fluxion-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Reports from the sanitizers must end the run so libFuzzer keeps the input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

passed=0
failed=0
for reader in "${readers[@]}"; do
  binary="$build_dir/tests/fuzz/fuzz_$reader"
  corpus="$work/$reader"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$reader"/* "$corpus"/ 2>/dev/null
  dict=()
  [ -f "tests/fuzz/dictionaries/$reader.dict" ] && dict=(-dict="tests/fuzz/dictionaries/$reader.dict")
  log="$work/$reader.log"
  harness_start=$SECONDS
  "$binary" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings_dir/$reader-" >"$log" 2>&1
  status=$?

  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  summary="fuzz_$reader: $((SECONDS - harness_start)) s, ${executions:-?} executions, ${coverage:-no coverage line}"
  if [ "$status" -eq 0 ] && [ -z "$artifact" ]; then
    echo "$summary: no finding"
    passed=$((passed + 1))
  elif grep -q 'libFuzzer: run interrupted' "$log"; then
    echo "$summary: INTERRUPTED by a signal (not a finding, but the run is incomplete)"
    failed=$((failed + 1))
  else
    cp "$log" "$findings_dir/$reader.log"
    echo "$summary: FINDING (exit $status; input ${artifact:-not saved}; log $findings_dir/$reader.log)"
    grep -m 3 -E 'ERROR: |runtime error: |fuzz finding: |uncaught exception|out-of-memory|timeout' "$log" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done

echo "fuzz: total time $((SECONDS - start)) s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
