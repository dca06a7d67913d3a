#!/usr/bin/env bash
# The one test command (README quick start and CI run exactly this):
# install dependencies, configure, build, run the whole doctest suite and the
# install test (tests/install/check_install.sh), and finish with
# `tests: N passed, N failed, N skipped` taken from the real runs.
#
# Usage: scripts/test.sh [build-dir]      (default: build)
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-build}"
cd "$repo_root"
# shellcheck source=scripts/doctest-counts.sh
source scripts/doctest-counts.sh

bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed (dependency installation failed)"; exit 1; }

if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" --buildtype=release || { echo "tests: 0 passed, 1 failed (meson setup failed)"; exit 1; }
fi
ninja -C "$build_dir" -j "$(nproc)" || { echo "tests: 0 passed, 1 failed (build failed)"; exit 1; }

log="$build_dir/test-output.txt"
"$build_dir/tests/fluxion_tests" --no-intro 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

doctest_counts "$log" "$status"  # sets passed, failed, skipped
# Every runnable case must have run (a case that silently never ran would
# otherwise vanish from the count).
runnable=$("$build_dir/tests/fluxion_tests" --count --no-intro | sed -n 's/.*passing the current filters: *//p')
if ! [[ "$runnable" =~ ^[0-9]+$ ]] || [ $((passed + failed)) -lt "$runnable" ]; then
  echo "test.sh: the run finished $((passed + failed)) test cases, the suite has ${runnable:-?} to run"
  failed=$((failed + 1))
fi

# The install test: meson install into a temporary DESTDIR, then a program
# built with pkg-config against the installed files only (each check counts).
install_log="$build_dir/install-test-output.txt"
bash tests/install/check_install.sh "$build_dir" 2>&1 | tee "$install_log"
install_status=${PIPESTATUS[0]}
install_line=$(grep -E '^install: [0-9]+ passed, [0-9]+ failed' "$install_log" | tail -n 1)
if [ -z "$install_line" ]; then
  failed=$((failed + 1))
else
  passed=$((passed + $(sed -E 's/^install: ([0-9]+) passed.*/\1/' <<<"$install_line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$install_line")))
  [ "$install_status" -eq 0 ] || [ "$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$install_line")" -gt 0 ] || failed=$((failed + 1))
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
