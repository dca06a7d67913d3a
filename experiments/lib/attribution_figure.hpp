// The labelled figure of `fluxion explain|interactions --png`: one row per
// example ("example i, class c"), an input column (grayscale, when the
// examples are images) and the map column, drawn by the heatmap grid
// (heatmap_grid.hpp) with a diverging scale symmetric around 0, each map
// divided by its own 99th percentile L of |value| (printed under it), and a
// colour bar that says so.
//
// What a map shows, by the kind of output:
//   attributions          A(x) summed over channels onto the image plane
//                         (or a 1 × d strip for feature vectors);
//   interaction matrices  Γ_ij with the diagonal Γ_ii masked gray: the
//                         diagonal is each feature's main effect and would set
//                         the scale; L is the percentile of the off-diagonal |Γ_ij|;
//   interaction row sums  Σ_j Γ_ij (diagonal included: the sums cannot be
//                         split), drawn like attributions.
// Only the first `max_rows` examples are drawn; the title says so when N is larger.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "experiments/lib/heatmap_grid.hpp"

namespace fluxion {

enum class FigureKind { attributions, interaction_matrices, interaction_row_sums };

struct AttributionFigureSpec {
  std::string command;        // what was run, for the title: e.g. "fluxion explain on model.safetensors"
  std::string method_label;   // e.g. "ig (50 steps)"
  std::string explained;      // the explained output: "logit" | "probability"
  Shape example_shape;        // one input example (the model's input shape)
  FigureKind kind = FigureKind::attributions;
  std::size_t total_examples = 0;  // N of the run; the figure draws min(N, max_rows)
  std::size_t max_rows = 8;
};

/// How an input example of shape `example` lies on a picture: [C, H, W] → H × W
/// with C channels, [H, W] → H × W, a flat [d] with d = s² ≥ 16 → s × s (e.g.
/// 784 = 28 × 28); anything else is not an image (is_image false, 1 × d).
struct ImagePlane {
  bool is_image = false;
  std::size_t channels = 1, height = 1, width = 1;
};
ImagePlane image_plane(const Shape& example);

struct AttributionFigure {
  HeatmapGridSpec spec;
  std::vector<std::vector<HeatmapPanel>> rows;
};

/// Builds the grid for the first min(N, max_rows) examples. `inputs` is
/// [n, example...], `values` the method's output for the same n examples
/// ([n, example...], [n, d, d] or [n, d]), `classes` the n explained classes,
/// with n = min(total_examples, max_rows). Throws ShapeError when the sizes
/// disagree with the spec.
AttributionFigure attribution_figure(const AttributionFigureSpec& spec, const Tensor<double>& inputs,
                                     const Tensor<double>& values, const std::vector<std::size_t>& classes);

}  // namespace fluxion
