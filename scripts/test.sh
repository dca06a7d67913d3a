#!/usr/bin/env bash
# The one test command (README quick start and CI run exactly this):
# install dependencies, configure, build, run the whole doctest suite, the
# install test (tests/install/check_install.sh), ONNX's backend test data
# (tests/onnx) and the Python tests
# (tests/python, pytest), and finish with
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

# ONNX's backend test data (Debian libonnx-testdata) through the ONNX reader:
# each test folder counts; unsupported ops are skipped, with their reasons listed.
onnx_log="$build_dir/onnx-backend-output.txt"
"$build_dir/tests/onnx/onnx_backend_tests" 2>&1 | tee "$onnx_log"
onnx_status=${PIPESTATUS[0]}
onnx_line=$(grep -E '^onnx-backend: [0-9]+ passed, [0-9]+ failed' "$onnx_log" | tail -n 1)
if [ -z "$onnx_line" ]; then
  failed=$((failed + 1))
else
  passed=$((passed + $(sed -E 's/^onnx-backend: ([0-9]+) passed.*/\1/' <<<"$onnx_line")))
  failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$onnx_line")))
  skipped=$((skipped + $(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$onnx_line")))
  [ "$onnx_status" -eq 0 ] || [ "$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$onnx_line")" -gt 0 ] || failed=$((failed + 1))
fi

# The Python package (tests/python, pytest) with the interpreter it was built
# for; pytest ends with "N passed, N failed, N skipped" (absent words are 0).
interpreter_file="$build_dir/python/fluxion/interpreter.txt"
if [ ! -f "$interpreter_file" ]; then
  echo "test.sh: the Python module was not built (pybind11-dev and python3-numpy missing?)"
  failed=$((failed + 1))
else
  python_log="$build_dir/python-test-output.txt"
  PYTHONPATH="$build_dir/python" FLUXION_BUILD_DIR="$build_dir" PYTHONDONTWRITEBYTECODE=1 \
    "$(head -n 1 "$interpreter_file")" -m pytest -p no:cacheprovider -q -rs tests/python 2>&1 | tee "$python_log"
  python_status=${PIPESTATUS[0]}
  summary=$(grep -E '^=*.*[0-9]+ (passed|failed|skipped|error)' "$python_log" | tail -n 1)
  count() { sed -nE "s/.*[^0-9]([0-9]+) $1.*/\1/p" <<<" $summary" | head -n 1; }
  py_passed=$(count passed); py_failed=$(count failed); py_errors=$(count error); py_skipped=$(count skipped)
  passed=$((passed + ${py_passed:-0}))
  failed=$((failed + ${py_failed:-0} + ${py_errors:-0}))
  skipped=$((skipped + ${py_skipped:-0}))
  if [ -z "$summary" ] || { [ "$python_status" -ne 0 ] && [ $((${py_failed:-0} + ${py_errors:-0})) -eq 0 ]; }; then
    failed=$((failed + 1))
  fi
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
