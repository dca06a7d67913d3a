#!/usr/bin/env bash
# The main job in one command: install dependencies, build, fetch MNIST,
# train the `mlp` and `cnn` presets (cached in results/models/), run the
# papers' experiments and write results/REPORT.md.
#
# Usage: scripts/reproduce.sh [experiment] [--quick|--full] [--out DIR]
#        (default: all --quick --out results); arguments go to `fluxion reproduce`.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
bash scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build -j "$(nproc)" experiments/fluxion
bash scripts/fetch-mnist.sh
exec ./build/experiments/fluxion reproduce "$@"
