// The --png figure's grid (experiments/lib/attribution_figure.hpp), by value:
// which panels it makes and what they hold, computed here by hand from small
// inputs — channel sums, gray levels (as they are, or rescaled per example),
// the masked diagonal — and the words a reader needs: row labels, the method
// in the column title, the cap in the title; bad sizes are one ShapeError.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "autodiff/errors.hpp"
#include "experiments/lib/attribution_figure.hpp"

using namespace fluxion;

namespace {

Tensor<double> counting(const Shape& shape, double scale = 1.0) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = scale * double(k);
  return t;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("image_plane: [C,H,W], [H,W], flat squares of side >= 4, else a 1 x d strip") {
  const ImagePlane chw = image_plane({3, 4, 5});
  CHECK((chw.is_image && chw.channels == 3 && chw.height == 4 && chw.width == 5));
  const ImagePlane hw = image_plane({2, 3});
  CHECK((hw.is_image && hw.channels == 1 && hw.height == 2 && hw.width == 3));
  const ImagePlane flat = image_plane({784});
  CHECK((flat.is_image && flat.height == 28 && flat.width == 28));
  const ImagePlane small = image_plane({9});  // 3 × 3 is too small to be taken for an image
  CHECK((!small.is_image && small.height == 1 && small.width == 9));
  const ImagePlane vector = image_plane({6});
  CHECK((!vector.is_image && vector.height == 1 && vector.width == 6));
}

TEST_CASE("attribution_figure: attributions of [C,H,W] images are summed over channels beside the mean gray input") {
  AttributionFigureSpec spec;
  spec.command = "fluxion explain on m.safetensors";
  spec.method_label = "ig (50 steps)";
  spec.explained = "logit";
  spec.example_shape = {2, 2, 2};
  spec.total_examples = 10;
  spec.max_rows = 2;
  // Inputs in [0, 1]: drawn as they are (channel mean); values: v = k (k the flat index).
  Tensor<double> x = counting({2, 2, 2, 2}, 1.0 / 16);
  const Tensor<double> v = counting({2, 2, 2, 2});
  const AttributionFigure f = attribution_figure(spec, x, v, {3, 7});
  REQUIRE(f.rows.size() == 2);
  REQUIRE(f.rows[0].size() == 2);
  CHECK(f.spec.row_labels == std::vector<std::string>{"example 0, class 3", "example 1, class 7"});
  REQUIRE(f.spec.column_titles.size() == 2);
  CHECK(f.spec.column_titles[0] == "input (0 black, 1 white)");
  CHECK(f.spec.column_titles[1] == "ig (50 steps): attribution, summed over 2 channels");
  CHECK(contains(f.spec.title, "the first 2 of 10 examples"));
  CHECK(contains(f.spec.title, "attributions to the logit"));
  CHECK(f.spec.clip_percentile == 99);
  CHECK(f.spec.scale == HeatmapScale::per_map);
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 2; ++j) {
        const double k0 = double(8 * e + 2 * i + j), k1 = k0 + 4;  // the two channels' flat indices
        CHECK(f.rows[e][0].style == PanelStyle::grayscale);
        CHECK(f.rows[e][0].values(i, j) == doctest::Approx((k0 + k1) / 16 / 2).epsilon(1e-15));
        CHECK(f.rows[e][1].style == PanelStyle::diverging);
        CHECK(f.rows[e][1].values(i, j) == k0 + k1);
      }
}

TEST_CASE("attribution_figure: inputs outside [0, 1] are rescaled per example to min black, max white") {
  AttributionFigureSpec spec;
  spec.method_label = "saliency";
  spec.explained = "probability";
  spec.example_shape = {1, 2};
  spec.total_examples = 1;
  Tensor<double> x = Tensor<double>::from_shape({1, 1, 2});
  x.data()[0] = -3, x.data()[1] = 5;
  const AttributionFigure f = attribution_figure(spec, x, counting({1, 1, 2}), {0});
  CHECK(f.spec.column_titles[0] == "input (per example: min black, max white)");
  CHECK(f.rows[0][0].values(0, 0) == 0.0);
  CHECK(f.rows[0][0].values(0, 1) == 1.0);
  CHECK_FALSE(contains(f.spec.title, "first"));  // not capped
}

TEST_CASE("attribution_figure: interaction matrices with the diagonal masked; row sums and vectors without an input column") {
  AttributionFigureSpec spec;
  spec.method_label = "ih (32 steps)";
  spec.explained = "logit";
  spec.example_shape = {3};
  spec.total_examples = 1;
  spec.kind = FigureKind::interaction_matrices;
  const AttributionFigure m = attribution_figure(spec, counting({1, 3}), counting({1, 3, 3}), {1});
  REQUIRE(m.rows[0].size() == 1);  // a feature vector is no picture: no input column
  CHECK(m.spec.column_titles == std::vector<std::string>{"ih (32 steps): Γ_ij, i ≠ j"});
  CHECK(contains(m.spec.title, "diagonal Γ_ii masked gray"));
  CHECK(m.spec.show_indices);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      if (i == j) CHECK(std::isnan(m.rows[0][0].values(i, j)));
      else CHECK(m.rows[0][0].values(i, j) == double(3 * i + j));
    }
  spec.kind = FigureKind::interaction_row_sums;
  const AttributionFigure r = attribution_figure(spec, counting({1, 3}), counting({1, 3}), {1});
  REQUIRE(r.rows[0][0].values.shape() == Shape{1, 3});
  CHECK(r.rows[0][0].values(0, 2) == 2.0);
  CHECK(r.spec.column_titles[0] == "ih (32 steps): Σ_j Γ_ij (diagonal included)");
}

TEST_CASE("attribution_figure: sizes that disagree with the spec are one ShapeError") {
  AttributionFigureSpec spec;
  spec.example_shape = {2, 3};
  spec.total_examples = 2;
  const Tensor<double> x = counting({2, 2, 3});
  CHECK_NOTHROW(attribution_figure(spec, x, x, {0, 1}));
  CHECK_THROWS_AS(attribution_figure(spec, counting({1, 2, 3}), x, {0, 1}), ShapeError);  // one input for two
  CHECK_THROWS_AS(attribution_figure(spec, x, counting({2, 5}), {0, 1}), ShapeError);     // values of another size
  CHECK_THROWS_AS(attribution_figure(spec, x, x, {0}), ShapeError);                       // one class for two
  spec.kind = FigureKind::interaction_matrices;
  CHECK_THROWS_AS(attribution_figure(spec, x, x, {0, 1}), ShapeError);  // [2, 6] is not [2, 6, 6]
  spec.total_examples = 0;
  CHECK_THROWS_AS(attribution_figure(spec, x, x, {}), ShapeError);
}
