#!/usr/bin/env bash
# The install test: `meson install` into a temporary DESTDIR, then use the
# installed files the way a user would. Each check prints ok/FAIL; the last
# line is `install: N passed, N failed` (scripts/test.sh adds it to the total).
#
#   tests/install/check_install.sh [build-dir]     (default: build)
#
# 1. the installed headers are exactly the library layers' headers
#    (scripts/public_headers.py) plus the umbrella header fluxion/fluxion.hpp;
# 2. `pkg-config --cflags --libs fluxion` (fluxion.pc from the DESTDIR)
#    compiles tests/install/installed_app.cpp against the installed headers
#    and libraries only, and the program's results match their closed forms;
# 3. the installed `fluxion` tool runs and lists its subcommands;
# 4. the installed Python package imports from the DESTDIR alone and its IG
#    of a linear model is x ⊙ W[t] to rounding (1e-12).
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$(cd "${1:-$repo_root/build}" && pwd)"
passed=0
failed=0
check() {  # check <name> <command...>
  local name="$1"; shift
  if "$@" >"$work/$name.log" 2>&1; then
    echo "ok   install: $name"; passed=$((passed + 1))
  else
    echo "FAIL install: $name"; sed 's/^/     /' "$work/$name.log" | tail -n 30; failed=$((failed + 1))
  fi
}
work="$(mktemp -d "${TMPDIR:-/tmp}/fluxion-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
destdir="$work/destdir"

option() {  # the value of a meson option of the build
  meson introspect "$build_dir" --buildoptions |
    /usr/bin/python3 -c "import json,sys; print(next(o['value'] for o in json.load(sys.stdin) if o['name']=='$1'))"
}
prefix="$(option prefix)"
includedir="$destdir$prefix/$(option includedir)"
libdir="$destdir$prefix/$(option libdir)"
bindir="$destdir$prefix/$(option bindir)"

check "meson-install" meson install -C "$build_dir" --destdir "$destdir" --no-rebuild --quiet

headers_match() {
  local want have
  want="$( (python3 "$repo_root/scripts/public_headers.py" "$repo_root"; echo fluxion.hpp) | sort)"
  have="$(cd "$includedir/fluxion" && find . -type f | sed 's|^\./||' | sort)"
  diff <(echo "$want") <(echo "$have")
}
check "headers" headers_match

compile_and_run() {
  local flags
  # fluxion.pc says prefix=<prefix>; the copy says where the DESTDIR put it
  # (its dependencies, eigen3 and the others, stay the system's).
  mkdir -p "$work/pkgconfig"
  sed "s|^prefix=.*|prefix=$destdir$prefix|" "$libdir/pkgconfig/fluxion.pc" >"$work/pkgconfig/fluxion.pc" || return 1
  flags="$(PKG_CONFIG_PATH="$work/pkgconfig" pkg-config --cflags --libs fluxion)" || return 1
  echo "pkg-config --cflags --libs fluxion: $flags"
  # shellcheck disable=SC2086  # the flags are words
  c++ -O1 "$repo_root/tests/install/installed_app.cpp" -o "$work/installed_app" $flags || return 1
  "$work/installed_app"
}
check "pkg-config-program" compile_and_run

tool_runs() {
  "$bindir/fluxion" --help | tee /dev/stderr | grep -q "explain"
}
check "fluxion-tool" tool_runs

python_imports() {
  local interpreter_file="$build_dir/python/fluxion/interpreter.txt" interpreter site
  [ -f "$interpreter_file" ] || { echo "the Python module was not built"; return 1; }
  interpreter="$(sed -n 1p "$interpreter_file")"
  site="$destdir$(sed -n 2p "$interpreter_file")"
  # the installed package only: run from an empty folder, nothing but the DESTDIR on the path
  (cd "$work" && PYTHONPATH="$site" PYTHONNOUSERSITE=1 "$interpreter" -c '
import json, numpy as np, fluxion, sys
assert fluxion.__file__.startswith(sys.argv[1]), fluxion.__file__
m = fluxion.build_model(json.dumps({"input_shape": [3], "layers": [{"type": "linear", "in": 3, "out": 2}]}))
m.set_parameters({"0.weight": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "0.bias": np.zeros(2)})
a = fluxion.explain(m, np.array([1.0, -1.0, 0.5]), method="ig", target=1)
assert np.max(np.abs(a - np.array([4.0, -5.0, 3.0]))) <= 1e-12, a   # IG of a linear model: x * W[t] (rounding only)
print("installed fluxion:", fluxion.__file__, "IG =", a)
' "$site")
}
check "python-module" python_imports

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
