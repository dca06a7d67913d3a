#!/usr/bin/env bash
# Opt-in: the PyTorch side of benchmarks/compare_pytorch.py (not needed to
# build or test Fluxion). Debian's PyTorch 1.13 (with functorch) and NumPy,
# and OpenBLAS — without it PyTorch's matmul falls back to the reference
# BLAS, about 30× slower, and the comparison would flatter Fluxion.
#
# Usage: scripts/install-bench-deps.sh      (uses sudo when not run as root)
set -euo pipefail
packages=(python3-torch python3-numpy libopenblas0-pthread linux-perf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-bench-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
