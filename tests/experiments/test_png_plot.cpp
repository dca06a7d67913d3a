// Tests for experiments/lib png and plot: colour maps and grids pixel by
// pixel, a PNG round trip through libpng, gnuplot line plots that come out
// as valid PNG files, and failed writes that leave nothing behind.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <unistd.h>

#include <png.h>

#include "autodiff/errors.hpp"
#include "experiments/lib/plot.hpp"
#include "experiments/lib/png.hpp"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

using Rgb = std::array<std::uint8_t, 3>;

/// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

/// Sets an environment variable for one scope, restoring the old value after.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old) ::setenv(name.c_str(), old->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

Rgb pixel(const RgbImage& image, int x, int y) {
  const std::size_t p = 3 * (static_cast<std::size_t>(y) * image.width + x);
  return {image.rgb[p], image.rgb[p + 1], image.rgb[p + 2]};
}

/// Reads a PNG file with libpng as 8-bit RGB.
RgbImage read_png(const fs::path& path) {
  png_image info{};
  info.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&info, path.c_str()) != 0);
  info.format = PNG_FORMAT_RGB;
  RgbImage image{static_cast<int>(info.width), static_cast<int>(info.height), {}};
  image.rgb.resize(PNG_IMAGE_SIZE(info));
  REQUIRE(png_image_finish_read(&info, nullptr, image.rgb.data(), 0, nullptr) != 0);
  return image;
}

bool has_png_signature(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[8] = {};
  in.read(reinterpret_cast<char*>(header), 8);
  return in && png_sig_cmp(header, 0, 8) == 0;
}

/// A 1×1 map holding v ({{v}} would be ambiguous for xtensor's constructors).
Tensor<double> single(double v) { return filled<double>({1, 1}, v); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("heatmap: blue for negative, white at zero, red for positive, upscaled") {
  const Tensor<double> map{{-1.0, 0.0}, {0.5, 1.0}};
  const RgbImage image = heatmap(map, 2);
  REQUIRE(image.width == 4);
  REQUIRE(image.height == 4);
  REQUIRE(image.rgb.size() == 48);
  CHECK(pixel(image, 0, 0) == Rgb{0, 0, 255});
  CHECK(pixel(image, 1, 1) == Rgb{0, 0, 255});
  CHECK(pixel(image, 2, 0) == Rgb{255, 255, 255});
  CHECK(pixel(image, 0, 2) == Rgb{255, 128, 128});
  CHECK(pixel(image, 3, 3) == Rgb{255, 0, 0});
  // A fixed limit: 1 is half way, 3 saturates.
  const RgbImage fixed = heatmap(Tensor<double>{{1.0, 3.0, -1.0}}, 1, 2.0);
  CHECK(pixel(fixed, 0, 0) == Rgb{255, 128, 128});
  CHECK(pixel(fixed, 1, 0) == Rgb{255, 0, 0});
  CHECK(pixel(fixed, 2, 0) == Rgb{128, 128, 255});
  CHECK(pixel(heatmap(Tensor<double>{{0.0, 0.0}}, 1), 1, 0) == Rgb{255, 255, 255});
}

TEST_CASE("grayscale maps [0, 1] to black..white and clamps outside") {
  const RgbImage image = grayscale(Tensor<double>{{0.0, 0.5, 1.0, 2.0, -1.0}}, 3);
  REQUIRE(image.width == 15);
  REQUIRE(image.height == 3);
  CHECK(pixel(image, 0, 0) == Rgb{0, 0, 0});
  CHECK(pixel(image, 4, 2) == Rgb{128, 128, 128});
  CHECK(pixel(image, 8, 1) == Rgb{255, 255, 255});
  CHECK(pixel(image, 9, 0) == Rgb{255, 255, 255});
  CHECK(pixel(image, 14, 2) == Rgb{0, 0, 0});
}

TEST_CASE("grid places equally sized tiles with gaps and a frame") {
  const RgbImage black = grayscale(Tensor<double>{{0.0, 0.0}}, 1);  // 2 × 1 tiles
  const RgbImage white = grayscale(Tensor<double>{{1.0, 1.0}}, 1);
  const RgbImage image = grid({{black, white}, {white, black}}, 1, {10, 20, 30});
  REQUIRE(image.width == 2 * 2 + 3);
  REQUIRE(image.height == 2 * 1 + 3);
  CHECK(pixel(image, 0, 0) == Rgb{10, 20, 30});
  CHECK(pixel(image, 1, 1) == Rgb{0, 0, 0});
  CHECK(pixel(image, 2, 1) == Rgb{0, 0, 0});
  CHECK(pixel(image, 3, 1) == Rgb{10, 20, 30});
  CHECK(pixel(image, 4, 1) == Rgb{255, 255, 255});
  CHECK(pixel(image, 1, 3) == Rgb{255, 255, 255});
  CHECK(pixel(image, 5, 3) == Rgb{0, 0, 0});
  CHECK(pixel(image, 6, 4) == Rgb{10, 20, 30});
  CHECK(grid({{black}}, 0, {0, 0, 0}).rgb == black.rgb);
}

TEST_CASE("images reject empty, non-2-D and non-finite input") {
  CHECK_THROWS_AS(heatmap(Tensor<double>::from_shape({0, 3}), 1), ShapeError);
  CHECK_THROWS_AS(heatmap(Tensor<double>{1.0, 2.0}, 1), ShapeError);
  CHECK_THROWS_AS(grayscale(Tensor<double>::from_shape({2, 2, 2}), 1), ShapeError);
  CHECK_THROWS_AS(heatmap(Tensor<double>{{1.0, kNaN}}, 1), InputError);
  CHECK_THROWS_AS(grayscale(single(kInf), 1), InputError);
  CHECK_THROWS_AS(heatmap(single(1.0), 0), InputError);
  CHECK_THROWS_AS(heatmap(single(1.0), 1, kNaN), InputError);
  const RgbImage one = grayscale(single(1.0), 1), two = grayscale(single(1.0), 2);
  CHECK_THROWS_AS(grid({}, 1, {0, 0, 0}), ShapeError);
  CHECK_THROWS_AS(grid({{one, one}, {one}}, 1, {0, 0, 0}), ShapeError);
  CHECK_THROWS_AS(grid({{one, two}}, 1, {0, 0, 0}), ShapeError);
  CHECK_THROWS_AS(grid({{one}}, -1, {0, 0, 0}), InputError);
  CHECK_THROWS_AS(write_png("/tmp/never.png", RgbImage{2, 2, std::vector<std::uint8_t>(11)}), ShapeError);
  CHECK_THROWS_AS(write_png("/tmp/never.png", RgbImage{}), ShapeError);
}

TEST_CASE("write_png round-trips through libpng") {
  TempDir dir("fluxion-test-png");
  const fs::path file = dir.path / "map.png";
  const RgbImage image = grid({{heatmap(Tensor<double>{{-2.0, 0.0, 1.0}, {0.5, -0.25, 2.0}}, 3),
                                grayscale(Tensor<double>{{0.0, 0.2, 0.4}, {0.6, 0.8, 1.0}}, 3)}},
                              2, {40, 50, 60});
  write_png(file, image);
  CHECK(has_png_signature(file));
  const RgbImage back = read_png(file);
  CHECK(back.width == image.width);
  CHECK(back.height == image.height);
  CHECK(back.rgb == image.rgb);
  CHECK(pixel(back, 0, 0) == Rgb{40, 50, 60});
  CHECK(pixel(back, 2, 2) == Rgb{0, 0, 255});
  CHECK(pixel(back, 2 + 2 * 3, 2 + 3) == Rgb{255, 0, 0});
  CHECK(dir.entries() == 1);  // no temporary file left beside it
}

TEST_CASE("a failed PNG write leaves nothing behind") {
  TempDir dir("fluxion-test-png-fail");
  const RgbImage image = grayscale(single(0.5), 4);
  CHECK_THROWS_AS(write_png(dir.path / "missing" / "x.png", image), InputError);
  fs::create_directory(dir.path / "occupied.png");  // a directory where the file should go
  CHECK_THROWS_AS(write_png(dir.path / "occupied.png", image), InputError);
  CHECK(dir.entries() == 1);
  CHECK(fs::is_directory(dir.path / "occupied.png"));
}

TEST_CASE("plot_lines draws a valid PNG with gnuplot") {
  TempDir dir("fluxion-test-plot");
  Series smooth{"it's \"error\" of riemann_left", {}, {}};
  for (int i = 1; i <= 100; ++i) {
    smooth.x.push_back(i);
    smooth.y.push_back(1.0 / i);
  }
  const Series marked{"", {1, 10, 100}, {1e-2, 1e-4, 1e-6}};
  const PlotSpec spec{"Convergence 'of' rules_x", "nodes n", "|error|", true, true, 640, 400};
  const fs::path file = dir.path / "curves.png";
  plot_lines(file, spec, {smooth, marked});
  REQUIRE(fs::exists(file));
  CHECK(has_png_signature(file));
  const RgbImage image = read_png(file);
  CHECK(image.width == 640);
  // One labelled curve (28 characters: 28·7 + 70 = 266 pixels a column, 2 columns fit): one key row of 18 pixels.
  CHECK(image.height == 400 + 18);
  std::size_t non_white = 0;
  for (std::size_t p = 0; p < image.rgb.size(); p += 3) {
    non_white += image.rgb[p] < 200 || image.rgb[p + 1] < 200 || image.rgb[p + 2] < 200;
  }
  CHECK(non_white > 1000);  // axes, text and curves were drawn
  CHECK(dir.entries() == 1);
}

TEST_CASE("plot_lines rejects bad series and leaves nothing when gnuplot fails") {
  TempDir dir("fluxion-test-plot-fail");
  const fs::path file = dir.path / "bad.png";
  const PlotSpec spec{"t", "x", "y"};
  CHECK_THROWS_AS(plot_lines(file, spec, {}), InputError);
  CHECK_THROWS_AS(plot_lines(file, spec, {Series{"a", {1, 2}, {1}}}), InputError);
  CHECK_THROWS_AS(plot_lines(file, spec, {Series{"a", {}, {}}}), InputError);
  CHECK_THROWS_AS(plot_lines(file, spec, {Series{"a", {1, 2}, {1, kNaN}}}), InputError);
  PlotSpec log_spec = spec;
  log_spec.logy = true;
  CHECK_THROWS_AS(plot_lines(file, log_spec, {Series{"a", {1, 2}, {1, 0}}}), InputError);
  PlotSpec tiny = spec;
  tiny.width = 3;
  CHECK_THROWS_AS(plot_lines(file, tiny, {Series{"a", {1, 2}, {1, 2}}}), InputError);

  // A gnuplot that fails: its stderr must reach the error message.
  const fs::path fake_bin = dir.path / "bin";
  fs::create_directory(fake_bin);
  {
    std::ofstream script(fake_bin / "gnuplot");
    script << "#!/bin/sh\necho 'fake gnuplot: broken on purpose' >&2\nexit 1\n";
  }
  fs::permissions(fake_bin / "gnuplot", fs::perms::owner_all);
  {
    ScopedEnv path("PATH", fake_bin.string());
    try {
      plot_lines(file, spec, {Series{"a", {1, 2}, {1, 2}}});
      FAIL("plot_lines should have thrown");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("fake gnuplot: broken on purpose") != std::string::npos);
    }
  }
  {
    ScopedEnv path("PATH", (dir.path / "nowhere").string());
    CHECK_THROWS_AS(plot_lines(file, spec, {Series{"a", {1, 2}, {1, 2}}}), InputError);
  }
  CHECK_FALSE(fs::exists(file));
  CHECK(dir.entries() == 1);  // only the fake bin directory
}
