#!/usr/bin/env bash
# Fuzz every file reader with libFuzzer + ASan + UBSan (harnesses in
# tests/fuzz/fuzz_<reader>.cpp), one harness at a time.
#
# Usage: scripts/fuzz.sh [options] [reader ...]
#   --seconds N     how long to fuzz each harness (default 600; CI smoke: 30)
#   --changed       long runs where they are due: a reader whose sources changed
#                   since its last long run (see below) runs 600 s, the others
#                   run --seconds (default 30 in this mode)
#   --max-long K    with --changed: at most K long runs; if more readers are
#                   due, each of them fails with the command to run instead
#                   (CI: --max-long 0, so a due long run fails in seconds)
#   --status        no fuzzing: one line per reader, up to date or due; exits
#                   non-zero if any is due
#   --no-record     do not update tests/fuzz/long-runs.txt and the corpus
#   --build-dir     the clang fuzzing build (default build-fuzz; set up if missing)
#   --jobs J        parallel compile jobs (default: all cores)
#   reader ...      only these harnesses (idx npy safetensors architecture model_io onnx)
#
# Each harness starts from a temporary copy of tests/fuzz/corpus/<reader>/ and
# its dictionary. A crash, a sanitizer report, an unexpected exception, a hang
# (-timeout) or running out of memory (-rss_limit_mb) is a finding: the input
# is kept in <build-dir>/fuzz-findings/ and the harness fails. Prints one line
# per harness and ends with `fuzz: N passed, N failed`; exits non-zero on any
# finding. Reproduce a finding with: <build-dir>/tests/fuzz/fuzz_<reader> <file>
#
# Long runs. Some findings take minutes (a round-trip bug in the safetensors
# reader took 249 s and 9.3 M executions), so a 30 s smoke cannot vouch for a
# changed reader. The rule: every reader gets a clean run of >= 600 s whenever
# its sources change. tests/fuzz/long-runs.txt records, per reader, a hash of
# its sources (reader_sources below: the reader, the checks it shares, its
# harness) at its last clean long run, with that run's executions and coverage.
# After any clean run of >= 600 s (unless --no-record) this script
#   - merges the run's corpus into tests/fuzz/corpus/<reader>/ (libFuzzer
#     -merge=1: the named seed files of make_corpus.py stay, the SHA-1-named
#     files are replaced by a minimal set covering everything the old ones
#     and the run reached), so the corpus grows with coverage, not with time;
#   - writes the reader's line in tests/fuzz/long-runs.txt.
# Commit both. `--changed` runs exactly the long runs that are due; CI
# (`--changed --max-long 0`) fails a reader whose line is stale, naming it.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

long_seconds=600
record_file=tests/fuzz/long-runs.txt
seconds=""
changed=0
max_long=-1
status_only=0
record=1
build_dir=build-fuzz
jobs="$(nproc)"
readers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --changed) changed=1; shift ;;
    --max-long) max_long="$2"; shift 2 ;;
    --status) status_only=1; shift ;;
    --no-record) record=0; shift ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) readers+=("$1"); shift ;;
  esac
done
if [ -z "$seconds" ]; then
  if [ "$changed" -eq 1 ]; then seconds=30; else seconds=$long_seconds; fi
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: --seconds needs a positive whole number, got '$seconds'" >&2
  exit 2
fi
if [ "$max_long" != -1 ] && { ! [[ "$max_long" =~ ^[0-9]+$ ]] || [ "$changed" -eq 0 ]; }; then
  echo "fuzz: --max-long needs --changed and a whole number, got '$max_long'" >&2
  exit 2
fi
if [ ${#readers[@]} -eq 0 ]; then
  for harness in tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$harness" .cpp)"
    readers+=("${name#fuzz_}")
  done
fi
total=${#readers[@]}

# ---------------------------------------------------------------- sources and records

# The files whose change makes a reader's long run due: its parsing code,
# what that code shares with the other readers, and its harness. Listed by
# hand (a harness links the whole library, but a change to, say, a kernel
# does not change what a reader accepts); a new harness must be added here.
reader_sources() {
  local common=(nn/io/checked_reading.hpp nn/io/checked_reading.cpp tests/fuzz/fuzz_support.hpp
                "tests/fuzz/fuzz_$1.cpp")
  local architecture=(nn/models/architecture.hpp nn/models/architecture.cpp
                      nn/modules/size_limits.hpp nn/modules/size_limits.cpp tests/fuzz/exercise_model.hpp)
  local safetensors=(nn/io/safetensors.hpp nn/io/safetensors.cpp)
  case "$1" in
    idx) printf '%s\n' "${common[@]}" nn/data/idx.hpp nn/data/idx.cpp ;;
    npy) printf '%s\n' "${common[@]}" nn/io/npy.hpp nn/io/npy.cpp ;;
    safetensors) printf '%s\n' "${common[@]}" "${safetensors[@]}" ;;
    architecture) printf '%s\n' "${common[@]}" "${architecture[@]}" ;;
    model_io) printf '%s\n' "${common[@]}" "${safetensors[@]}" "${architecture[@]}" \
                nn/models/model_io.hpp nn/models/model_io.cpp ;;
    onnx) printf '%s\n' "${common[@]}" nn/modules/size_limits.hpp nn/modules/size_limits.cpp \
            nn/onnx/*.hpp nn/onnx/*.cpp nn/graph/*.hpp nn/graph/*.cpp ;;
    *) return 1 ;;
  esac
}

# A short hash of the reader's sources as they are in the working tree
# (committed or not): the names and contents of the files.
sources_hash() {
  local files
  mapfile -t files < <(reader_sources "$1")
  for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "fuzz: $1's source $f is missing (update reader_sources in scripts/fuzz.sh)" >&2; return 1; }
  done
  sha256sum "${files[@]}" | sha256sum | cut -c1-16
}

# The hash recorded for a reader's last clean long run ("" if none).
recorded_hash() {
  [ -f "$record_file" ] && awk -v r="$1" '$1 == r { print $2 }' "$record_file"
}

# Replaces (or adds) a reader's line in the record, keeping the header and
# the readers in alphabetical order.
write_record() {
  local reader="$1" line="$2" tmp
  tmp="$(mktemp)"
  if [ ! -f "$record_file" ]; then
    cat >"$record_file" <<'EOF'
# The last clean long (>= 600 s) libFuzzer run of each reader, written by
# scripts/fuzz.sh after such a run (do not edit by hand). "sources" is a hash
# of the reader's sources (reader_sources in scripts/fuzz.sh); when the tree's
# hash differs, the reader's long run is due: scripts/fuzz.sh --changed.
# commit: HEAD of the run ("+" = the sources had uncommitted changes).
# reader sources seconds executions cov ft corpus_files commit date
EOF
  fi
  { grep '^#' "$record_file"
    { grep -v '^#' "$record_file" | awk -v r="$reader" 'NF && $1 != r'; echo "$line"; } | sort
  } >"$tmp"
  mv "$tmp" "$record_file"
}

for reader in "${readers[@]}"; do
  if ! reader_sources "$reader" >/dev/null; then
    echo "fuzz: no sources listed for reader '$reader' (add it to reader_sources in scripts/fuzz.sh)" >&2
    exit 2
  fi
done

# Which readers are due for a long run.
declare -A due=()
due_count=0
for reader in "${readers[@]}"; do
  current="$(sources_hash "$reader")" || exit 2
  if [ "$(recorded_hash "$reader")" != "$current" ]; then
    due[$reader]=1
    due_count=$((due_count + 1))
  fi
done
due_message() {
  local why="its sources changed since its last clean ${long_seconds}-s run recorded in $record_file"
  [ -z "$(recorded_hash "$1")" ] && why="$record_file records no clean ${long_seconds}-s run of it"
  echo "$why; run scripts/fuzz.sh --changed $1 (${long_seconds} s) and commit $record_file and tests/fuzz/corpus/$1/"
}

if [ "$status_only" -eq 1 ]; then
  for reader in "${readers[@]}"; do
    if [ -n "${due[$reader]:-}" ]; then
      echo "fuzz_$reader: long run DUE: $(due_message "$reader")"
    else
      echo "fuzz_$reader: up to date ($(awk -v r="$reader" '$1 == r { print $3 " s, " $4 " executions, cov " $5 ", commit " $8 }' "$record_file"))"
    fi
  done
  echo "fuzz: $((total - due_count)) up to date, $due_count due"
  [ "$due_count" -eq 0 ]
  exit
fi

# In --changed mode: how long each reader runs, and which due runs are over budget.
declare -A run_seconds=()
declare -A over_budget=()
long_runs=0
for reader in "${readers[@]}"; do
  run_seconds[$reader]=$seconds
  if [ "$changed" -eq 1 ] && [ -n "${due[$reader]:-}" ]; then
    if [ "$max_long" -eq -1 ] || [ "$long_runs" -lt "$max_long" ]; then
      run_seconds[$reader]=$long_seconds
      long_runs=$((long_runs + 1))
    else
      over_budget[$reader]=1
    fi
  fi
done

start=$SECONDS

# ---------------------------------------------------------------- build

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
fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -max_len=16384)

# SHA-1-named files are the ones libFuzzer kept; everything else is a seed.
is_kept_file() { [[ "$(basename "$1")" =~ ^[0-9a-f]{40}$ ]]; }

# Minimises the committed corpus and the run's corpus $2 together into
# tests/fuzz/corpus/$1/: the seeds come first (files in libFuzzer's first
# directory all stay), then only the files that add coverage to them.
# -use_counters=0 makes "coverage" mean edges, not edges x hit-count buckets:
# every edge any run reached is kept, in a few hundred small files per reader
# instead of thousands (a 20-s run of safetensors: 204 files instead of 532,
# the same 397 edges); fuzzing regains the hit counts within seconds.
merge_corpus() {
  local reader="$1" run_corpus="$2" binary="$3"
  local dest="tests/fuzz/corpus/$reader" merged="$work/$reader.merged"
  mkdir -p "$merged"
  for f in "$dest"/*; do
    [ -f "$f" ] && ! is_kept_file "$f" && cp "$f" "$merged"/
  done
  if ! "$binary" -merge=1 -use_counters=0 "${fuzz_flags[@]}" "$merged" "$dest" "$run_corpus" >"$work/$reader.merge.log" 2>&1; then
    echo "    merging the corpus failed (log: $findings_dir/$reader.merge.log); the committed corpus is unchanged"
    cp "$work/$reader.merge.log" "$findings_dir/$reader.merge.log"
    return 1
  fi
  for f in "$dest"/*; do is_kept_file "$f" && rm "$f"; done
  for f in "$merged"/*; do is_kept_file "$f" && cp "$f" "$dest"/; done
  return 0
}

# ---------------------------------------------------------------- fuzz

passed=0
failed=0
for reader in "${readers[@]}"; do
  binary="$build_dir/tests/fuzz/fuzz_$reader"
  run_for=${run_seconds[$reader]}
  hash_before="$(sources_hash "$reader")"
  corpus="$work/$reader"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/"$reader"/* "$corpus"/ 2>/dev/null
  dict=()
  [ -f "tests/fuzz/dictionaries/$reader.dict" ] && dict=(-dict="tests/fuzz/dictionaries/$reader.dict")
  log="$work/$reader.log"
  harness_start=$SECONDS
  "$binary" "$corpus" "${dict[@]}" -max_total_time="$run_for" "${fuzz_flags[@]}" \
    -print_final_stats=1 -artifact_prefix="$findings_dir/$reader-" >"$log" 2>&1
  status=$?
  elapsed=$((SECONDS - harness_start))

  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
  summary="fuzz_$reader: $elapsed s, ${executions:-?} executions, ${coverage:-no coverage line}"
  if [ "$status" -eq 0 ] && [ -z "$artifact" ]; then
    if [ -n "${over_budget[$reader]:-}" ]; then
      # The smoke passed, but the long run this reader is due was not made.
      echo "$summary: no finding, but its LONG RUN IS DUE: $(due_message "$reader")"
      failed=$((failed + 1))
      continue
    fi
    echo "$summary: no finding"
    passed=$((passed + 1))
    # A clean long run: keep what it found and record it.
    if [ "$record" -eq 1 ] && [ "$run_for" -ge "$long_seconds" ] && [ "$elapsed" -ge "$long_seconds" ]; then
      if [ "$(sources_hash "$reader")" != "$hash_before" ]; then
        echo "    not recorded: the sources of $reader changed during the run; run it again"
      elif merge_corpus "$reader" "$corpus" "$binary"; then
        kept=0
        for f in tests/fuzz/corpus/"$reader"/*; do is_kept_file "$f" && kept=$((kept + 1)); done
        files=$(find tests/fuzz/corpus/"$reader" -type f | wc -l)
        commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
        mapfile -t sources < <(reader_sources "$reader")
        git diff --quiet HEAD -- "${sources[@]}" 2>/dev/null || commit="$commit+"
        read -r cov ft _ <<<"$(sed -E 's/cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)/\1 \2 \3/' <<<"$coverage")"
        write_record "$reader" "$reader $hash_before $elapsed ${executions:-?} ${cov:-?} ${ft:-?} $files $commit $(date -u +%Y-%m-%d)"
        echo "    recorded in $record_file; corpus tests/fuzz/corpus/$reader/: $files files ($kept kept by libFuzzer," \
             "$(du -sk tests/fuzz/corpus/"$reader" | cut -f1) KiB); commit both"
      fi
    fi
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
