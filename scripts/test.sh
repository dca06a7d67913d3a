#!/usr/bin/env bash
# The one test command (README quick start and CI run exactly this):
# install dependencies, configure, build, run the whole doctest suite, and
# finish with `tests: N passed, N failed` taken from the real run.
#
# Usage: scripts/test.sh [build-dir]      (default: build)
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-build}"
cd "$repo_root"

bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed (dependency installation failed)"; exit 1; }

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" --buildtype=release || { echo "tests: 0 passed, 1 failed (meson setup failed)"; exit 1; }
fi
ninja -C "$build_dir" -j "$(nproc)" || { echo "tests: 0 passed, 1 failed (build failed)"; exit 1; }

log="$build_dir/test-output.txt"
"$build_dir/tests/fluxion_tests" --no-intro 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# doctest's summary: "[doctest] test cases: 52 | 52 passed | 0 failed | 0 skipped"
summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
passed=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ] || ! [[ "$passed" =~ ^[0-9]+$ && "$failed" =~ ^[0-9]+$ ]]; then
  # The run crashed before doctest printed its summary.
  echo "tests: 0 passed, 1 failed (the test program did not finish; exit status $status)"
  exit 1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
