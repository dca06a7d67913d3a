// PNG output via libpng's simplified API (png_image_write_to_memory: no
// setjmp/longjmp in our code), then an atomic write. See png.hpp.
#include "experiments/lib/png.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include <png.h>

#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {
namespace {

/// Largest image we build: 2^30 bytes of pixels (PNG itself allows more).
constexpr std::int64_t kMaxImageBytes = std::int64_t{1} << 30;

void check_image(const RgbImage& image, const std::string& where) {
  if (image.width <= 0 || image.height <= 0) {
    throw ShapeError(where + ": image is empty (" + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + ")");
  }
  const std::int64_t expected = std::int64_t{3} * image.width * image.height;
  if (static_cast<std::int64_t>(image.rgb.size()) != expected) {
    throw ShapeError(where + ": a " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                     " RGB image needs " + std::to_string(expected) + " bytes, got " +
                     std::to_string(image.rgb.size()));
  }
}

/// A blank width×height image filled with one colour; throws InputError if too large.
RgbImage blank(std::int64_t width, std::int64_t height, std::array<std::uint8_t, 3> colour) {
  if (width * height * 3 > kMaxImageBytes) {
    throw InputError("image of " + std::to_string(width) + "x" + std::to_string(height) +
                     " pixels is too large");
  }
  RgbImage image{static_cast<int>(width), static_cast<int>(height), {}};
  image.rgb.resize(static_cast<std::size_t>(width * height * 3));
  for (std::size_t p = 0; p < image.rgb.size(); p += 3) std::copy(colour.begin(), colour.end(), &image.rgb[p]);
  return image;
}

/// The [rows, cols] extents of a non-empty, all-finite 2-D map; scale ≥ 1.
std::array<std::size_t, 2> check_map(const Tensor<double>& map2d, int scale, const std::string& where) {
  const Shape shape = shape_of(map2d);
  if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0) {
    throw ShapeError(where + ": expected a non-empty 2-D array, got shape " + shape_str(shape));
  }
  if (scale < 1) throw InputError(where + ": scale must be at least 1, got " + std::to_string(scale));
  const auto bad = std::find_if(map2d.begin(), map2d.end(), [](double v) { return !std::isfinite(v); });
  if (bad != map2d.end()) {
    const auto index = static_cast<std::size_t>(bad - map2d.begin());
    throw InputError(where + ": non-finite value at [" + std::to_string(index / shape[1]) + ", " +
                     std::to_string(index % shape[1]) + "]");
  }
  return {shape[0], shape[1]};
}

/// Paints each map cell as a scale×scale block with colour(value).
template <class Colour>
RgbImage paint_cells(const Tensor<double>& map2d, int scale, const std::string& where, Colour colour) {
  const auto [rows, cols] = check_map(map2d, scale, where);
  RgbImage image = blank(static_cast<std::int64_t>(cols) * scale, static_cast<std::int64_t>(rows) * scale, {0, 0, 0});
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const std::array<std::uint8_t, 3> c = colour(map2d(y / scale, x / scale));
      std::copy(c.begin(), c.end(), &image.rgb[3 * (static_cast<std::size_t>(y) * image.width + x)]);
    }
  }
  return image;
}

/// 255·u rounded, for u ∈ [0, 1].
std::uint8_t byte_of(double u) { return static_cast<std::uint8_t>(std::lround(255.0 * u)); }

/// Copies `tile` into `image` with its top-left corner at (x0, y0).
void blit(RgbImage& image, const RgbImage& tile, int x0, int y0) {
  for (int y = 0; y < tile.height; ++y) {
    const auto row = tile.rgb.begin() + 3 * static_cast<std::ptrdiff_t>(y) * tile.width;
    std::copy(row, row + 3 * tile.width,
              image.rgb.begin() + 3 * (static_cast<std::ptrdiff_t>(y0 + y) * image.width + x0));
  }
}

}  // namespace

void write_png(const std::filesystem::path& path, const RgbImage& image) {
  check_image(image, "write_png '" + path.string() + "'");
  png_image info{};
  info.version = PNG_IMAGE_VERSION;
  info.width = static_cast<png_uint_32>(image.width);
  info.height = static_cast<png_uint_32>(image.height);
  info.format = PNG_FORMAT_RGB;
  const png_int_32 stride = 3 * image.width;
  png_alloc_size_t size = 0;  // first call measures, second call encodes
  if (!png_image_write_to_memory(&info, nullptr, &size, 0, image.rgb.data(), stride, nullptr)) {
    throw InputError("cannot encode PNG '" + path.string() + "': " + info.message);
  }
  std::string bytes(size, '\0');
  if (!png_image_write_to_memory(&info, bytes.data(), &size, 0, image.rgb.data(), stride, nullptr)) {
    throw InputError("cannot encode PNG '" + path.string() + "': " + info.message);
  }
  bytes.resize(size);
  write_bytes_atomically(path, bytes);
}

RgbImage heatmap(const Tensor<double>& map2d, int scale, double limit) {
  if (!std::isfinite(limit)) throw InputError("heatmap: limit must be finite");
  check_map(map2d, scale, "heatmap");
  if (limit <= 0) limit = xt::amax(xt::abs(map2d))();
  return paint_cells(map2d, scale, "heatmap", [limit](double v) -> std::array<std::uint8_t, 3> {
    const double u = limit > 0 ? std::clamp(v / limit, -1.0, 1.0) : 0.0;
    const std::uint8_t fade = byte_of(1.0 - std::abs(u));
    if (u >= 0) return {255, fade, fade};
    return {fade, fade, 255};
  });
}

RgbImage grayscale(const Tensor<double>& img2d, int scale) {
  return paint_cells(img2d, scale, "grayscale", [](double v) -> std::array<std::uint8_t, 3> {
    const std::uint8_t g = byte_of(std::clamp(v, 0.0, 1.0));
    return {g, g, g};
  });
}

RgbImage grid(const std::vector<std::vector<RgbImage>>& cells, int gap,
              std::array<std::uint8_t, 3> background) {
  if (gap < 0) throw InputError("grid: gap must be non-negative, got " + std::to_string(gap));
  if (cells.empty() || cells.front().empty()) throw ShapeError("grid: no tiles");
  const std::size_t cols = cells.front().size();
  const RgbImage& first = cells.front().front();
  for (std::size_t r = 0; r < cells.size(); ++r) {
    if (cells[r].size() != cols) {
      throw ShapeError("grid: row " + std::to_string(r) + " has " + std::to_string(cells[r].size()) +
                       " tiles, row 0 has " + std::to_string(cols));
    }
    for (const RgbImage& tile : cells[r]) {
      check_image(tile, "grid tile");
      if (tile.width != first.width || tile.height != first.height) {
        throw ShapeError("grid: tiles differ in size (" + std::to_string(tile.width) + "x" +
                         std::to_string(tile.height) + " vs " + std::to_string(first.width) + "x" +
                         std::to_string(first.height) + ")");
      }
    }
  }
  const auto extent = [gap](std::int64_t count, int size) { return count * size + (count + 1) * gap; };
  RgbImage image = blank(extent(static_cast<std::int64_t>(cols), first.width),
                         extent(static_cast<std::int64_t>(cells.size()), first.height), background);
  for (std::size_t r = 0; r < cells.size(); ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      blit(image, cells[r][c], gap + static_cast<int>(c) * (first.width + gap),
           gap + static_cast<int>(r) * (first.height + gap));
    }
  }
  return image;
}

}  // namespace fluxion
