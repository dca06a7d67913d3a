// Labelled heatmap grids and styled line plots: the clip limit by value
// (nearest-rank percentile), the colours a grid must contain (the diverging
// map's end colours, the mask gray, the green marks, the gray ramp), the
// distinct curve colours of plot_lines, and one clear error per bad input.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <unistd.h>

#include <png.h>

#include "autodiff/errors.hpp"
#include "experiments/lib/diagram.hpp"
#include "experiments/lib/field_plot.hpp"
#include "experiments/lib/heatmap_grid.hpp"
#include "experiments/lib/plot.hpp"
#include "experiments/lib/png.hpp"

using namespace fluxion;
namespace fs = std::filesystem;

namespace {

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
};

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

/// How many pixels are within ±tolerance of `colour` in every channel.
std::size_t count_colour(const RgbImage& image, std::array<int, 3> colour, int tolerance = 2) {
  std::size_t count = 0;
  for (std::size_t p = 0; p < image.rgb.size(); p += 3) {
    bool near = true;
    for (int c = 0; c < 3; ++c) near = near && std::abs(int(image.rgb[p + c]) - colour[c]) <= tolerance;
    count += near;
  }
  return count;
}

Tensor<double> ramp(std::size_t rows, std::size_t cols, double lo, double hi) {
  Tensor<double> t = Tensor<double>::from_shape({rows, cols});
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = lo + (hi - lo) * double(k) / double(t.size() - 1);
  return t;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("clip_limit is the nearest-rank percentile of |v|, ignoring NaN") {
  std::vector<double> v;
  for (int k = 1; k <= 100; ++k) v.push_back(k % 2 ? double(k) : -double(k));
  CHECK(clip_limit(v, 99) == 99.0);   // ⌈0.99 · 100⌉ = 99th smallest |v|
  CHECK(clip_limit(v, 100) == 100.0);
  CHECK(clip_limit(v, 50) == 50.0);
  CHECK(clip_limit(v, 0.5) == 1.0);   // ⌈0.005 · 100⌉ = 1st
  v.push_back(kNaN);
  CHECK(clip_limit(v, 99) == 99.0);
  CHECK(clip_limit({0.0, 0.0}, 99) == 1.0);  // all zero: no scaling
  CHECK_THROWS_AS(clip_limit(v, 0), ArgumentError);
  CHECK_THROWS_AS(clip_limit(v, 101), ArgumentError);
  CHECK_THROWS_AS(clip_limit({kNaN}, 99), ArgumentError);
}

TEST_CASE("plot_heatmap_grid draws titled panels, the map's end colours, masked cells and marks") {
  TempDir dir("fluxion-test-heatmap-grid");
  // Row 0: a gray ramp and a diverging ramp −1 … 1 (ends at the clip limit: pure end colours).
  // Row 1: a uniform +1 map with a masked (NaN) half and a mark, and a uniform −1 map.
  Tensor<double> masked = filled<double>({8, 8}, 1.0);
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 8; ++j) masked(i, j) = kNaN;
  const std::vector<std::vector<HeatmapPanel>> rows = {
      {{ramp(8, 8, 0, 1), PanelStyle::grayscale, "", {}}, {ramp(8, 8, -1, 1), PanelStyle::diverging, "ramp", {}}},
      {{masked, PanelStyle::diverging, "half masked", {{6, 2}}},
       {filled<double>({8, 8}, -1.0), PanelStyle::diverging, "", {}}}};
  for (HeatmapScale scale : {HeatmapScale::per_map, HeatmapScale::per_row}) {
    HeatmapGridSpec spec;
    spec.title = "test grid";
    spec.column_titles = {"left column", "right column"};
    spec.row_labels = {"row A", "row B"};
    spec.scale = scale;
    spec.panel_pixels = 80;
    const fs::path file = dir.path / "grid.png";
    plot_heatmap_grid(file, spec, rows);
    const RgbImage image = read_png(file);
    CHECK(image.width > 2 * 80);
    CHECK(image.height > 2 * 80);
    // The blue and red ends (#2166AC, #B2182B) fill most of the uniform panels (≥ 80·80/2 pixels each).
    CHECK(count_colour(image, {0x21, 0x66, 0xAC}) > 80 * 80 / 2);
    CHECK(count_colour(image, {0xB2, 0x18, 0x2B}) > 80 * 80 / 4);
    CHECK(count_colour(image, {0xC8, 0xC8, 0xC8}) > 80 * 80 / 4);  // the masked half
    CHECK(count_colour(image, {0x00, 0xA0, 0x00}, 40) > 20);       // the green ring
    CHECK(count_colour(image, {0, 0, 0}, 30) > 200);               // black text and the gray ramp's dark end
  }
}

TEST_CASE("plot_heatmap_grid draws one-row and one-column panels (gnuplot's image needs two of each)") {
  TempDir dir("fluxion-test-heatmap-grid-strips");
  Tensor<double> row = Tensor<double>::from_shape({1, 4}), column = Tensor<double>::from_shape({4, 1});
  for (std::size_t k = 0; k < 4; ++k) row.data()[k] = column.data()[k] = k < 2 ? 1.0 : -1.0;
  for (bool indices : {false, true}) {
    HeatmapGridSpec spec;
    spec.title = "strips";
    spec.column_titles = {"row", "column"};
    spec.row_labels = {"r"};
    spec.panel_pixels = 80;
    spec.show_indices = indices;
    const fs::path file = dir.path / "strips.png";
    plot_heatmap_grid(file, spec, {{{row, PanelStyle::diverging, "", {{0, 3}}}, {column, PanelStyle::diverging, "", {}}}});
    const RgbImage image = read_png(file);
    // Each panel is half +1 (red), half −1 (blue): ≥ 80·80/2 pixels of each end colour per panel, less the ring.
    CHECK(count_colour(image, {0xB2, 0x18, 0x2B}) > 2 * 80 * 80 / 2 * 8 / 10);
    CHECK(count_colour(image, {0x21, 0x66, 0xAC}) > 2 * 80 * 80 / 2 * 8 / 10);
    CHECK(count_colour(image, {0x00, 0xA0, 0x00}, 40) > 20);  // the mark on the row's last cell
  }
}

TEST_CASE("plot_heatmap_grid rejects bad grids with one clear error") {
  TempDir dir("fluxion-test-heatmap-grid-bad");
  const fs::path file = dir.path / "bad.png";
  HeatmapGridSpec spec;
  spec.column_titles = {"a"};
  spec.row_labels = {"r"};
  const HeatmapPanel ok{filled<double>({2, 2}, 1.0), PanelStyle::diverging, "", {}};
  CHECK_THROWS_AS(plot_heatmap_grid(file, spec, {}), ShapeError);
  CHECK_THROWS_AS(plot_heatmap_grid(file, spec, {{ok, ok}}), ShapeError);  // 2 columns, 1 title
  HeatmapGridSpec two = spec;
  two.row_labels = {"r", "s"};
  CHECK_THROWS_AS(plot_heatmap_grid(file, two, {{ok}}), ShapeError);
  CHECK_THROWS_AS(plot_heatmap_grid(file, spec, {{HeatmapPanel{filled<double>({4}, 1.0)}}}), ShapeError);
  HeatmapPanel infinite = ok;
  infinite.values(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(plot_heatmap_grid(file, spec, {{infinite}}), InputError);
  HeatmapPanel off = ok;
  off.marks = {{2, 0}};
  try {
    plot_heatmap_grid(file, spec, {{off}});
    FAIL("a mark outside its panel must be rejected");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "heatmap grid panel (0, 0): mark (2, 0) lies outside the panel");
  }
  HeatmapGridSpec bad_percentile = spec;
  bad_percentile.clip_percentile = 0;
  CHECK_THROWS_AS(plot_heatmap_grid(file, bad_percentile, {{ok}}), InputError);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("plot_lines gives every curve its own colour") {
  TempDir dir("fluxion-test-plot-styles");
  std::vector<Series> series;
  for (int k = 0; k < 12; ++k) series.push_back({"curve " + std::to_string(k), {0, 1, 2, 3}, {double(k), double(k), double(k), double(k)}});
  const fs::path file = dir.path / "styles.png";
  plot_lines(file, {"twelve curves", "x", "y", false, false, 900, 600}, series);
  const RgbImage image = read_png(file);
  // The 12 colours of plot.hpp, each drawn by its curve (and its key sample).
  const std::array<std::array<int, 3>, 12> colours = {{{0x00, 0x00, 0x00}, {0xE6, 0x9F, 0x00}, {0x56, 0xB4, 0xE9},
                                                       {0x00, 0x9E, 0x73}, {0xC9, 0xB2, 0x00}, {0x00, 0x72, 0xB2},
                                                       {0xD5, 0x5E, 0x00}, {0xCC, 0x79, 0xA7}, {0x7F, 0x3C, 0x8D},
                                                       {0x8C, 0x56, 0x4B}, {0x1B, 0x9E, 0x77}, {0x99, 0x99, 0x99}}};
  for (std::size_t k = 0; k < colours.size(); ++k) {
    INFO("curve " << k);
    CHECK(count_colour(image, colours[k]) > 30);
  }
}

TEST_CASE("plot_diagram draws boxed nodes and arrows, and rejects bad graphs") {
  TempDir dir("fluxion-test-diagram");
  const fs::path file = dir.path / "graph.png";
  const std::vector<DiagramNode> nodes = {{0.2, 0.5, {"x", "value = 1"}}, {0.8, 0.5, {"f = 2x", "value = 2"}}};
  plot_diagram(file, "two nodes", nodes, {{0, 1, "∂ = 2"}}, 600, 300);
  const RgbImage image = read_png(file);
  CHECK(image.width == 600);
  CHECK(image.height == 300);
  CHECK(count_colour(image, {0xEE, 0xF3, 0xFA}) > 2 * 40 * 20);  // the two box fills
  CHECK(count_colour(image, {0x7F, 0x3C, 0x8D}, 40) > 5);        // the edge label
  const fs::path bad = dir.path / "bad.png";
  CHECK_THROWS_AS(plot_diagram(bad, "t", {}, {}), InputError);
  CHECK_THROWS_AS(plot_diagram(bad, "t", {{0.5, 0.5, {}}}, {}), InputError);
  CHECK_THROWS_AS(plot_diagram(bad, "t", {{1.5, 0.5, {"a"}}}, {}), InputError);
  CHECK_THROWS_AS(plot_diagram(bad, "t", nodes, {{0, 2, ""}}), InputError);
  CHECK_THROWS_AS(plot_diagram(bad, "t", nodes, {{1, 1, ""}}), InputError);
  CHECK_THROWS_AS(plot_diagram(bad, "t", nodes, {}, 8, 300), InputError);
  CHECK_FALSE(fs::exists(bad));
}

TEST_CASE("plot_field draws a banded field with curves and points, and rejects bad input") {
  TempDir dir("fluxion-test-field");
  const fs::path file = dir.path / "field.png";
  FieldPlotSpec spec;
  spec.title = "field";
  spec.value_label = "v";
  spec.width = 500;
  spec.height = 450;
  const Tensor<double> field = ramp(20, 20, 0.5, 10);
  plot_field(file, spec, field, {Series{"a line", {0.1, 0.9}, {0.1, 0.9}}}, {{0.5, 0.5, "centre"}});
  const RgbImage image = read_png(file);
  CHECK(image.width == 500);
  CHECK(image.height == 450);
  CHECK(count_colour(image, {0xFF, 0xB0, 0x00}, 10) > 20);  // the point's fill
  const fs::path bad = dir.path / "bad.png";
  CHECK_THROWS_AS(plot_field(bad, spec, ramp(1, 20, 0, 1), {}, {}), ShapeError);
  Tensor<double> with_nan = field;
  with_nan(3, 3) = kNaN;
  CHECK_THROWS_AS(plot_field(bad, spec, with_nan, {}, {}), InputError);
  FieldPlotSpec log_spec = spec;
  log_spec.log_colour = true;
  CHECK_THROWS_AS(plot_field(bad, log_spec, ramp(4, 4, -1, 1), {}, {}), InputError);
  FieldPlotSpec empty = spec;
  empty.x1 = empty.x0;
  CHECK_THROWS_AS(plot_field(bad, empty, field, {}, {}), InputError);
  FieldPlotSpec one_band = spec;
  one_band.bands = 1;
  CHECK_THROWS_AS(plot_field(bad, one_band, field, {}, {}), InputError);
  CHECK_THROWS_AS(plot_field(bad, spec, field, {Series{"ragged", {0, 1}, {0}}}, {}), InputError);
  CHECK_FALSE(fs::exists(bad));
}
