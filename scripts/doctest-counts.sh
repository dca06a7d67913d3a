# Sourced by scripts/test.sh and scripts/test-sanitized.sh: the counts of one
# doctest run, taken from its log, never assumed.
#
#   doctest_counts LOG STATUS    sets `passed`, `failed` and `skipped`
#
# doctest ends with "[doctest] test cases: 52 | 50 passed | 0 failed | 2 skipped".
# A test that cannot run here (no real MNIST, no OpenMP) is declared with
# doctest::skip(condition) and counted as skipped, never as passed.
# A run that died before that line (a crash, a sanitizer abort) counts as
# 0 passed, 1 failed; a non-zero exit status with no failed test counts as
# one failure.
doctest_counts() {
  local log="$1" status="$2" summary
  summary=$(grep -E '^\[doctest\] test cases:' "$log" | tail -n 1)
  passed=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$summary")
  skipped=$(sed -nE 's/.*\| *([0-9]+) skipped.*/\1/p' <<<"$summary")
  [[ "$skipped" =~ ^[0-9]+$ ]] || skipped=0
  if [ -z "$summary" ] || ! [[ "$passed" =~ ^[0-9]+$ && "$failed" =~ ^[0-9]+$ ]]; then
    echo "the test program did not finish (exit status $status): $log"
    passed=0
    failed=1
    skipped=0
    return
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
  fi
}
