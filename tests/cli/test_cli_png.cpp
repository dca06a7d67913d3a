// `fluxion explain|interactions --png` with gnuplot: the labelled figure
// (experiments/lib/attribution_figure.hpp) checked by its pixels, on models
// whose attribution signs are known in closed form:
//   - a linear model z = W x of 2×3 "images" with w_ci = s_ci / x_i, s_ci = ±1
//     a checkerboard (class 0) or its inverse (class 1): IG from the zero
//     baseline is A_i = w_ci x_i = s_ci exactly (the path integral of a
//     constant gradient), so every map cell is ±1 = ±L (L, the 99th
//     percentile of 6 values, is their max) and must be drawn in the diverging
//     map's end colour of its sign, #B2182B (red) or #2166AC (blue);
//   - f(x) = x₀x₁ (cli_fixtures.hpp product_architecture): the Integrated
//     Hessians Γ₀₁ = Γ₁₀ have the sign of x₀x₁ and equal size (both ±L), the
//     diagonal is masked (#C8C8C8), and the row sums Σ_j Γ_ij = x₀x₁/2 each
//     (completeness and symmetry) share that sign.
// Cells are found as 4-connected regions of one colour (checkerboards keep
// neighbouring cells apart), sorted top to bottom and left to right, so the
// test needs no pixel position of the layout: it checks which cells exist,
// their order, their colours, that the input column shows each x_i as gray
// 255·x_i^(1/1.5) (gnuplot's gray palette, gamma 1.5) beside the matching map cell, that the title, row labels and
// colour bar are drawn, and that a run of more than 8 examples draws 8 rows.
#include <doctest/doctest.h>
#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "nn/io/npy.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

struct Picture {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  std::array<int, 3> at(int x, int y) const {
    const std::size_t p = 3 * (std::size_t(y) * std::size_t(width) + std::size_t(x));
    return {rgb[p], rgb[p + 1], rgb[p + 2]};
  }
};

Picture read_picture(const fs::path& path) {
  png_image info{};
  info.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&info, path.c_str()) != 0);
  info.format = PNG_FORMAT_RGB;
  Picture p{int(info.width), int(info.height), {}};
  p.rgb.resize(PNG_IMAGE_SIZE(info));
  REQUIRE(png_image_finish_read(&info, nullptr, p.rgb.data(), 0, nullptr) != 0);
  return p;
}

using Colour = std::array<int, 3>;
const Colour kRed = {0xB2, 0x18, 0x2B}, kBlue = {0x21, 0x66, 0xAC}, kMask = {0xC8, 0xC8, 0xC8};

bool near(const Colour& a, const Colour& b, int tolerance) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(a[c] - b[c]) > tolerance) return false;
  return true;
}

struct Region {
  Colour colour;
  std::size_t area = 0;
  int left = 0, top = 0, right = 0, bottom = 0;  // inclusive bounding box
  double cx = 0, cy = 0;                          // centroid
};

/// The 4-connected regions of pixels within ±tolerance of `colour` whose area is at least `min_area`.
std::vector<Region> regions_of(const Picture& p, const Colour& colour, std::size_t min_area, int tolerance = 3) {
  std::vector<char> seen(std::size_t(p.width) * std::size_t(p.height), 0);
  std::vector<Region> found;
  for (int y0 = 0; y0 < p.height; ++y0)
    for (int x0 = 0; x0 < p.width; ++x0) {
      const std::size_t start = std::size_t(y0) * std::size_t(p.width) + std::size_t(x0);
      if (seen[start] || !near(p.at(x0, y0), colour, tolerance)) continue;
      Region r{colour, 0, x0, y0, x0, y0, 0, 0};
      std::vector<std::array<int, 2>> stack = {{x0, y0}};
      seen[start] = 1;
      while (!stack.empty()) {
        const auto [x, y] = stack.back();
        stack.pop_back();
        ++r.area;
        r.cx += x, r.cy += y;
        r.left = std::min(r.left, x), r.right = std::max(r.right, x);
        r.top = std::min(r.top, y), r.bottom = std::max(r.bottom, y);
        const int next[4][2] = {{x + 1, y}, {x - 1, y}, {x, y + 1}, {x, y - 1}};
        for (const auto& n : next) {
          if (n[0] < 0 || n[1] < 0 || n[0] >= p.width || n[1] >= p.height) continue;
          const std::size_t k = std::size_t(n[1]) * std::size_t(p.width) + std::size_t(n[0]);
          if (!seen[k] && near(p.at(n[0], n[1]), colour, tolerance)) {
            seen[k] = 1;
            stack.push_back({n[0], n[1]});
          }
        }
      }
      r.cx /= double(r.area), r.cy /= double(r.area);
      if (r.area >= min_area) found.push_back(r);
    }
  return found;
}

/// Top to bottom (centroids within 2 pixels count as one line), then left to right.
void sort_reading_order(std::vector<Region>& regions) {
  std::sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) {
    if (std::abs(a.cy - b.cy) > 2) return a.cy < b.cy;
    return a.cx < b.cx;
  });
}

/// Pixels in the rectangle [x0, x1) × [y0, y1) darker than 100 in every channel (text).
std::size_t dark_pixels(const Picture& p, int x0, int y0, int x1, int y1) {
  std::size_t count = 0;
  for (int y = std::max(0, y0); y < std::min(p.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(p.width, x1); ++x) {
      const Colour c = p.at(x, y);
      count += c[0] < 100 && c[1] < 100 && c[2] < 100;
    }
  return count;
}

/// Pixels of the rectangle within ±tolerance of `colour`.
std::size_t count_in(const Picture& p, const Colour& colour, int x0, int y0, int x1, int y1, int tolerance = 3) {
  std::size_t count = 0;
  for (int y = std::max(0, y0); y < std::min(p.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(p.width, x1); ++x) count += near(p.at(x, y), colour, tolerance);
  return count;
}

// The linear model's inputs and signs (see the top of the file).
const std::vector<double> kX = {0.2, 0.4, 0.6, 0.8, 0.3, 0.7};  // distinct gray levels, none white
const std::array<std::array<int, 6>, 3> kSigns = {{{+1, -1, +1, -1, +1, -1},    // class 0: checkerboard
                                                   {-1, +1, -1, +1, -1, +1},    // class 1: its inverse
                                                   {+1, +1, +1, -1, -1, -1}}};  // class 2 (never explained here)

struct PngFixture {
  ScratchDir dir{"cli_png"};
  PngFixture() {
    std::vector<double> w;
    for (const auto& s : kSigns)
      for (std::size_t i = 0; i < 6; ++i) w.push_back(double(s[i]) / kX[i]);
    write_model(dir / "linear.safetensors", linear_image_architecture(), {{"1.weight", w}, {"1.bias", {0, 0, 0}}});
    write_model(dir / "product.safetensors", product_architecture(), product_parameters());
    write_examples("one.npy", 0);
    write_examples("two.npy", 2);
    write_examples("ten.npy", 10);
    Tensor<double> pairs = Tensor<double>::from_shape({3, 2});
    const std::vector<double> kPairs = {0.8, -0.6, 0.5, 0.9, -0.7, -0.4};  // x₀x₁ < 0, > 0, > 0
    std::copy(kPairs.begin(), kPairs.end(), pairs.data());
    write_npy(dir / "pairs.npy", pairs);
  }
  /// `n` copies of kX as [n, 2, 3]; n = 0: one example [2, 3] without a batch axis.
  void write_examples(const std::string& name, std::size_t n) const {
    Tensor<double> x = n == 0 ? Tensor<double>::from_shape({2, 3}) : Tensor<double>::from_shape({n, 2, 3});
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = kX[k % 6];
    write_npy(dir / name, x);
  }
  Picture run(std::vector<std::string> args) const {
    args.insert(args.end(), {"--png", "map.png"});
    ProcessOptions o;
    o.working_dir = dir.path;
    const ProcessResult r = run_fluxion(args, o);
    std::string line;
    for (const auto& a : args) line += " " + a;
    INFO("fluxion" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    REQUIRE(fs::exists(dir / "map.png"));
    return read_picture(dir / "map.png");
  }
};

/// The map cells of a linear-model figure: `rows` examples × 6 end-coloured
/// cells in reading order, each of the sign kSigns[classes[row]] says.
std::vector<Region> expect_linear_maps(const Picture& p, const std::vector<int>& classes) {
  const std::size_t min_area = 56 * 84 / 2;  // a cell is 168/3 × 168/2 pixels
  std::vector<Region> cells = regions_of(p, kRed, min_area);
  const auto blue = regions_of(p, kBlue, min_area);
  cells.insert(cells.end(), blue.begin(), blue.end());
  sort_reading_order(cells);
  REQUIRE(cells.size() == 6 * classes.size());
  for (std::size_t k = 0; k < cells.size(); ++k) {
    const std::size_t row = k / 6, i = k % 6;
    const Colour want = kSigns[std::size_t(classes[row])][i] > 0 ? kRed : kBlue;
    CHECK_MESSAGE(cells[k].colour == want, "example " << row << " cell " << i << " has the wrong sign's colour");
    CHECK(cells[k].area > 56 * 84 * 8 / 10);
  }
  return cells;
}

}  // namespace

TEST_CASE("cli --png: explain draws a labelled figure whose map cells carry the attribution's sign") {
  PngFixture fx;
  // Two examples, classes 0 and 1: the second row's colours are the first row's swapped.
  const Picture p = fx.run({"explain", "--model", "linear.safetensors", "--method", "ig", "--input", "two.npy",
                            "--target", "0", "--target", "1", "--out", "a.npy"});
  CHECK(p.width > 2 * 168);
  CHECK(p.height > 2 * 168);
  const std::vector<Region> cells = expect_linear_maps(p, {0, 1});
  const int map_left = cells[0].left, map_right = cells[2].right;
  // The input column: per example the six gray levels 255·x_i, each one region
  // of a cell's size on the line of map cell i, left of the map, at the same
  // offset from it as every other input cell (the input panel is the map's twin).
  int input_left = p.width;
  std::array<double, 2> offset{};  // map cell x − input cell x, of cell 0 of each example
  for (std::size_t i = 0; i < 6; ++i) {
    // gnuplot's `set palette gray` applies its default gamma 1.5: gray = 255 · x^(1/1.5).
    const int level = int(std::lround(255 * std::pow(kX[i], 1 / 1.5)));
    auto grays = regions_of(p, {level, level, level}, 56 * 84 / 2, 2);
    sort_reading_order(grays);
    INFO("input pixel " << i << " (gray " << level << ")");
    REQUIRE(grays.size() == 2);
    for (std::size_t e = 0; e < 2; ++e) {
      const Region& map_cell = cells[6 * e + i];
      CHECK(std::abs(grays[e].cy - map_cell.cy) < 2);
      CHECK(grays[e].right < map_left);
      if (i == 0) offset[e] = map_cell.cx - grays[e].cx;
      CHECK(std::abs((map_cell.cx - grays[e].cx) - offset[e]) < 2);
      CHECK(offset[e] > 168);
      input_left = std::min(input_left, grays[e].left);
    }
  }
  // Text: the title above the first row, a label left of each row, the colour bar right of the maps.
  const int first_top = cells[0].top;
  CHECK(dark_pixels(p, 0, 0, p.width, first_top - 40) > 100);  // the title
  for (std::size_t e = 0; e < 2; ++e) {
    INFO("row label of example " << e);
    CHECK(dark_pixels(p, 0, cells[6 * e].top, input_left - 2, cells[6 * e + 5].bottom) > 60);
  }
  CHECK(count_in(p, kRed, map_right + 5, 0, p.width, p.height) > 10);   // the bar's +1 end
  CHECK(count_in(p, kBlue, map_right + 5, 0, p.width, p.height) > 10);  // its −1 end
  // and its middle: u = +0.5, halfway between white and #B2182B.
  CHECK(count_in(p, {(255 + 0xB2) / 2, (255 + 0x18) / 2, (255 + 0x2B) / 2}, map_right + 5, 0, p.width, p.height, 4) > 5);
  CHECK(dark_pixels(p, map_right + 40, 0, p.width, p.height) > 100);  // the bar's tics and label
}

TEST_CASE("cli --png: a single example, float32, and a run of 10 examples drawn as its first 8") {
  PngFixture fx;
  expect_linear_maps(fx.run({"explain", "--model", "linear.safetensors", "--method", "ig", "--input", "one.npy",
                             "--target", "1", "--out", "a.npy"}),
                     {1});
  expect_linear_maps(fx.run({"explain", "--model", "linear.safetensors", "--method", "gradient_x_input", "--input",
                             "two.npy", "--target", "0", "--dtype", "float32", "--out", "a.npy"}),
                     {0, 0});
  const Picture ten = fx.run({"explain", "--model", "linear.safetensors", "--method", "ig", "--input", "ten.npy",
                              "--target", "1", "--out", "a.npy"});
  expect_linear_maps(ten, std::vector<int>(8, 1));  // 8 rows of 6 cells, not 10
  CHECK(read_npy<double>(fx.dir / "a.npy").shape()[0] == 10);  // the .npy keeps every example
}

TEST_CASE("cli --png: interactions draw Γ_ij with the diagonal masked, and row sums, in the sign of x0·x1") {
  PngFixture fx;
  const std::vector<Colour> sign_of_product = {kBlue, kRed, kRed};  // x₀x₁ of the three pairs
  {
    const Picture p = fx.run({"interactions", "--model", "product.safetensors", "--method", "ih", "--input",
                              "pairs.npy", "--out", "g.npy"});
    const std::size_t min_area = 84 * 84 / 2;  // a 2 × 2 matrix in a 168-pixel panel
    std::vector<Region> cells = regions_of(p, kRed, min_area);
    for (const auto& extra : {regions_of(p, kBlue, min_area), regions_of(p, kMask, min_area, 2)})
      cells.insert(cells.end(), extra.begin(), extra.end());
    sort_reading_order(cells);
    REQUIRE(cells.size() == 3 * 4);
    for (std::size_t e = 0; e < 3; ++e) {
      INFO("example " << e);
      // Reading order of a 2 × 2 matrix: Γ₀₀ (masked), Γ₀₁, Γ₁₀, Γ₁₁ (masked).
      CHECK(cells[4 * e].colour == kMask);
      CHECK(cells[4 * e + 1].colour == sign_of_product[e]);
      CHECK(cells[4 * e + 2].colour == sign_of_product[e]);
      CHECK(cells[4 * e + 3].colour == kMask);
      CHECK(cells[4 * e + 1].cx > cells[4 * e].cx + 40);  // Γ₀₁ right of Γ₀₀
      CHECK(cells[4 * e + 2].cx < cells[4 * e + 3].cx - 40);
    }
  }
  {
    const Picture p = fx.run({"interactions", "--model", "product.safetensors", "--method", "ih", "--input",
                              "pairs.npy", "--output-form", "row-sums", "--out", "g.npy"});
    // Σ_j Γ_0j = Σ_j Γ_1j = x₀x₁/2: one 1 × 2 strip of one colour per example (the two cells touch).
    std::vector<Region> strips = regions_of(p, kRed, 168 * 168 / 2);
    const auto blue = regions_of(p, kBlue, 168 * 168 / 2);
    strips.insert(strips.end(), blue.begin(), blue.end());
    sort_reading_order(strips);
    REQUIRE(strips.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      CHECK(strips[e].colour == sign_of_product[e]);
      CHECK(strips[e].area > 168 * 168 * 8 / 10);
    }
    CHECK(regions_of(p, kMask, 1000, 2).empty());  // nothing is masked in row sums
  }
}
