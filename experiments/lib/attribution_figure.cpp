// The labelled --png figure (see attribution_figure.hpp).
#include "experiments/lib/attribution_figure.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autodiff/errors.hpp"

namespace fluxion {
namespace {

/// Panels are drawn this many pixels wide (a 28 × 28 map: 6 pixels per cell).
constexpr int kPanelPixels = 168;
/// Matrices up to this side get their indices 0 … d−1 along the axes.
constexpr std::size_t kIndexedSide = 16;

/// Example e's map on the plane: m_ij = Σ_c v[e, c, i, j] (channels summed, as the report does).
Tensor<double> summed_plane(const Tensor<double>& batch, std::size_t e, std::size_t h, std::size_t w) {
  const std::size_t per = batch.size() / batch.shape()[0], plane = h * w;
  Tensor<double> m = Tensor<double>::from_shape({h, w});
  m.fill(0);
  for (std::size_t k = 0; k < per; ++k) m.data()[k % plane] += batch.data()[e * per + k];
  return m;
}

/// Example e's input as gray levels: g_ij = mean_c x[e, c, i, j], shown as it
/// is when every example lies in [0, 1], else rescaled per example,
/// g ↦ (g − min g) / (max g − min g) (a constant picture is mid-gray).
Tensor<double> gray_plane(const Tensor<double>& inputs, std::size_t e, const ImagePlane& p, bool rescale) {
  Tensor<double> g = summed_plane(inputs, e, p.height, p.width);
  for (double& v : g) v /= double(p.channels);
  if (!rescale) return g;
  const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
  const double low = *lo, span = *hi - *lo;
  for (double& v : g) v = span > 0 ? (v - low) / span : 0.5;
  return g;
}

/// Γ of example e as a d × d map with the diagonal set to NaN (masked).
Tensor<double> off_diagonal(const Tensor<double>& values, std::size_t e, std::size_t d) {
  Tensor<double> m = Tensor<double>::from_shape({d, d});
  std::copy_n(values.data() + e * d * d, d * d, m.data());
  for (std::size_t i = 0; i < d; ++i) m(i, i) = std::numeric_limits<double>::quiet_NaN();
  return m;
}

void require(bool ok, const std::string& problem) {
  if (!ok) throw ShapeError("attribution figure: " + problem);
}

}  // namespace

ImagePlane image_plane(const Shape& example) {
  ImagePlane p;
  if (example.size() == 3) return {true, example[0], example[1], example[2]};
  if (example.size() == 2) return {true, 1, example[0], example[1]};
  const std::size_t d = numel_of(example);
  const auto side = static_cast<std::size_t>(std::llround(std::sqrt(double(d))));
  if (side >= 4 && side * side == d) return {true, 1, side, side};
  p.width = d;
  return p;
}

AttributionFigure attribution_figure(const AttributionFigureSpec& spec, const Tensor<double>& inputs,
                                     const Tensor<double>& values, const std::vector<std::size_t>& classes) {
  const std::size_t n = std::min(spec.total_examples, spec.max_rows);
  const std::size_t d = numel_of(spec.example_shape);
  require(n > 0 && d > 0, "no example to draw");
  require(inputs.dimension() >= 1 && inputs.shape()[0] == n && inputs.size() == n * d,
          "inputs of shape " + shape_str(shape_of(inputs)) + " are not " + std::to_string(n) + " examples of shape " +
              shape_str(spec.example_shape));
  const std::size_t per = spec.kind == FigureKind::interaction_matrices ? d * d : d;
  require(values.dimension() >= 1 && values.shape()[0] == n && values.size() == n * per,
          "values of shape " + shape_str(shape_of(values)) + " do not fit " + std::to_string(n) + " examples");
  require(classes.size() == n, std::to_string(classes.size()) + " classes for " + std::to_string(n) + " examples");

  const ImagePlane plane = image_plane(spec.example_shape);
  bool inputs_in_unit_range = true;
  for (double v : inputs) inputs_in_unit_range = inputs_in_unit_range && v >= 0 && v <= 1;
  const std::string channels = plane.channels > 1 ? ", summed over " + std::to_string(plane.channels) + " channels" : "";

  AttributionFigure figure;
  HeatmapGridSpec& grid = figure.spec;
  grid.scale = HeatmapScale::per_map;
  grid.clip_percentile = 99;
  grid.panel_pixels = kPanelPixels;
  grid.wrap_title = true;  // two columns are narrower than the title
  if (plane.is_image) {
    grid.column_titles.push_back(inputs_in_unit_range ? "input (0 black, 1 white)"
                                                      : "input (per example: min black, max white)");
  }
  std::string shows;  // what the title says the maps are
  switch (spec.kind) {
    case FigureKind::attributions:
      shows = "attributions to the " + spec.explained + " of each row's class";
      grid.value_label = "attribution";
      grid.column_titles.push_back(spec.method_label + ": attribution" + channels);
      break;
    case FigureKind::interaction_matrices:
      shows = "interactions Γ_ij of the " + spec.explained + " of each row's class, diagonal Γ_ii masked gray";
      grid.value_label = "Γ_ij";
      grid.column_titles.push_back(spec.method_label + ": Γ_ij, i ≠ j");
      grid.show_indices = d <= kIndexedSide;
      grid.panel_pixels = std::clamp<int>(int(d), kPanelPixels, 400);
      break;
    case FigureKind::interaction_row_sums:
      shows = "interaction row sums Σ_j Γ_ij of the " + spec.explained + " of each row's class";
      grid.value_label = "Σ_j Γ_ij";
      grid.column_titles.push_back(spec.method_label + ": Σ_j Γ_ij (diagonal included)" + channels);
      break;
  }
  if (!plane.is_image && spec.kind != FigureKind::interaction_matrices) grid.show_indices = d <= kIndexedSide;
  grid.title = spec.command + ": " + shows + " (red > 0, blue < 0";
  if (spec.total_examples > n) {
    grid.title += "; the first " + std::to_string(n) + " of " + std::to_string(spec.total_examples) + " examples";
  }
  grid.title += ")";

  for (std::size_t e = 0; e < n; ++e) {
    std::vector<HeatmapPanel> row;
    if (plane.is_image) row.push_back({gray_plane(inputs, e, plane, !inputs_in_unit_range), PanelStyle::grayscale, "", {}});
    Tensor<double> map = spec.kind == FigureKind::interaction_matrices ? off_diagonal(values, e, d)
                                                                       : summed_plane(values, e, plane.height, plane.width);
    row.push_back({std::move(map), PanelStyle::diverging, "", {}});
    figure.rows.push_back(std::move(row));
    grid.row_labels.push_back("example " + std::to_string(e) + ", class " + std::to_string(classes[e]));
  }
  return figure;
}

}  // namespace fluxion
