#!/usr/bin/env bash
# The whole doctest suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (leaks included). Any sanitizer report aborts the run and counts as a
# failure. Ends, like scripts/test.sh, with `tests: N passed, N failed`.
#
# Usage: scripts/test-sanitized.sh [build-dir]      (default: build-asan)
#
# Optimisation -O1 with -g1 (line tables): the sanitizers' recommended
# level; on 2 cores it builds about 40 % faster than debugoptimized (-O2 -g)
# while stack traces still name file and line. Assertions stay on (no
# NDEBUG). The benchmark programs are not built (no test runs them).
# OpenMP is off: libgomp is not instrumented, and one thread keeps every
# report reproducible.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-build-asan}"
cd "$repo_root"
# shellcheck source=scripts/doctest-counts.sh
source scripts/doctest-counts.sh

bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed (dependency installation failed)"; exit 1; }

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" -Dsanitizers=true -Dopenmp=false -Dbenchmarks=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 ||
    { echo "tests: 0 passed, 1 failed (meson setup failed)"; exit 1; }
fi
build_start=$SECONDS
# Only what the doctest suite runs: the test program, the `fluxion` tool and
# the tutorial programs; not the Python module or the ONNX backend runner
# (scripts/test.sh runs those from the release build).
mapfile -t targets < <(ninja -C "$build_dir" -t targets all | sed -n 's/: cpp_LINKER.*//p' |
                       grep -v -e '^python/' -e 'onnx_backend_tests$')
[ "${#targets[@]}" -gt 0 ] || { echo "tests: 0 passed, 1 failed (no targets found in $build_dir)"; exit 1; }
ninja -C "$build_dir" -j "$(nproc)" "${targets[@]}" || { echo "tests: 0 passed, 1 failed (build failed)"; exit 1; }
echo "sanitized build: $((SECONDS - build_start)) s"

# abort_on_error: a report ends the program, so doctest prints no summary and
# the run counts as failed below. The tests run the sanitized `fluxion` tool
# too; it inherits these settings.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The suite runs as two processes side by side (this build has no OpenMP, so
# each uses one core): the reproduce smoke case, which alone takes about as
# long as everything else under the sanitizers (it trains three small models
# and runs every experiment), and all the other cases. Their counts are added
# and checked against the whole suite's.
smoke_case='reproduce --smoke runs every experiment*'
# Two cases run in the release suite (scripts/test.sh) only: they rerun the
# reproduce smoke's experiment code three and four times over (under mpirun
# with 2 and 3 ranks; stopped and resumed) to compare the results, which
# under the sanitizers took about ten of CI's minutes and adds no code the
# smoke case does not already run sanitized. They count as skipped here.
release_only='reproduce: mpirun -n 2 and -n 3*,reproduce resumes an interrupted experiment*'
total=$("$build_dir/tests/fluxion_tests" --count --no-intro -tce="$release_only" |
        sed -n 's/.*passing the current filters: *//p')
run_start=$SECONDS
"$build_dir/tests/fluxion_tests" --no-intro -tc="$smoke_case" >"$build_dir/test-output-smoke.txt" 2>&1 &
smoke_pid=$!
"$build_dir/tests/fluxion_tests" --no-intro -tce="$smoke_case,$release_only" >"$build_dir/test-output-others.txt" 2>&1
others_status=$?
wait "$smoke_pid"
smoke_status=$?
echo "sanitized run: $((SECONDS - run_start)) s (two processes side by side)"

sum_passed=0
sum_failed=0
# doctest counts every case a run does not execute as skipped, filtered out
# or not, so each part's "skipped" includes the other part: the suite's own
# skips (doctest::skip: no real MNIST, no OpenMP) and the release-only cases
# are the registered cases minus the runnable ones.
registered=$("$build_dir/tests/fluxion_tests" --count --no-intro --no-skip | sed -n 's/.*passing the current filters: *//p')
sum_skipped=$(( ${registered:-0} - ${total:-0} ))
status=0
for part in others smoke; do
  log="$build_dir/test-output-$part.txt"
  part_status=$([ "$part" = others ] && echo "$others_status" || echo "$smoke_status")
  echo "--- sanitized tests: $part ---"
  cat "$log"
  doctest_counts "$log" "$part_status"  # sets passed, failed, skipped
  # A report that did not abort (e.g. from a child process) still fails the run.
  reports=$(grep -cE '^(==[0-9]+==ERROR: |SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|.*runtime error: )' "$log")
  if [ "$reports" -gt 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  [ "$part_status" -eq 0 ] || status=1
  sum_passed=$((sum_passed + passed))
  sum_failed=$((sum_failed + failed))
done
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ $((sum_passed + sum_failed)) -lt "$total" ]; then
  echo "sanitized tests: the two processes ran $((sum_passed + sum_failed)) test cases, the suite has ${total:-?} to run"
  sum_failed=$((sum_failed + 1))
fi
echo "tests: $sum_passed passed, $sum_failed failed, $sum_skipped skipped"
[ "$status" -eq 0 ] && [ "$sum_failed" -eq 0 ]
