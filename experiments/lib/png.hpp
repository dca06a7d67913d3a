// PNG pictures for experiments: an 8-bit RGB image type, libpng output
// (written atomically: temp file + rename), and the three ways experiments
// make images — diverging heatmaps of attributions, grayscale inputs, and
// grids of equally sized tiles.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// Row-major 8-bit RGB pixels: pixel (row r, column c) starts at rgb[3 (r·width + c)].
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};

/// Encodes `image` as an 8-bit RGB PNG and writes it atomically. Throws ShapeError
/// for an empty image or a pixel buffer that is not 3·width·height bytes, InputError
/// if encoding or writing fails (nothing is left at `path` then).
void write_png(const std::filesystem::path& path, const RgbImage& image);

/// Diverging colour map centred at 0, each cell upscaled to scale×scale pixels:
/// u = clamp(v / L, −1, 1) with L = limit, or max|v| when limit ≤ 0;
/// u ≥ 0 → (255, 255(1−u), 255(1−u)) (white→red), u < 0 → (255(1+u), 255(1+u), 255) (white→blue).
/// An all-zero map is all white. Throws ShapeError unless map2d is a non-empty 2-D
/// array, InputError for non-finite values, a non-finite limit or scale < 1.
RgbImage heatmap(const Tensor<double>& map2d, int scale, double limit = 0);

/// Gray level 255·clamp(v, 0, 1) (0 → black, 1 → white), each cell scale×scale pixels.
/// Same errors as heatmap.
RgbImage grayscale(const Tensor<double>& img2d, int scale);

/// rows × cols tiles (all of one size, every row the same length) separated by, and
/// framed with, `gap` pixels of `background`: width = cols·w + (cols+1)·gap.
/// Throws ShapeError for no tiles, ragged rows or mismatched tile sizes, InputError for gap < 0.
RgbImage grid(const std::vector<std::vector<RgbImage>>& cells, int gap,
              std::array<std::uint8_t, 3> background);

}  // namespace fluxion
