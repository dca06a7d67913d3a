// Experiment 7 — Expected Hessians interaction maps on MNIST (Janizek et al.
// 2021, the MNIST figure; shared/papers/integrated-hessians.md).
//
// The `cnn` preset (trained with ReLU) is explained after SoftPlus(β = 10)
// smoothing. For each digit: the Expected Hessians row sums Σ_j Γ_ij (which
// equal the Expected Gradients attribution, one HVP per sample), then for the
// three most important pixels i (largest |Σ_j Γ_ij|) their full interaction
// row Γ_i,: over the 784 pixels, and the strongest partner j* = argmax_j≠i |Γ_ij|.
#include <sstream>

#include <xtensor/xview.hpp>

#include "attribution/expected_hessians.hpp"
#include <limits>

#include "experiments/lib/heatmap_grid.hpp"
#include "experiments/reproduce/common.hpp"
#include "experiments/reproduce/experiment_kinds.hpp"
#include "nn/models/smoothing.hpp"

namespace fluxion::experiments {

namespace {
Tensor<double> as_image(const Tensor<double>& flat_or_image, std::size_t n) {
  Tensor<double> img = Tensor<double>::from_shape({28, 28});
  std::copy(flat_or_image.data() + n * 784, flat_or_image.data() + (n + 1) * 784, img.data());
  return img;
}
}  // namespace

Outcome run_hessian_maps(const Context& ctx, const std::filesystem::path& dir) {
  const std::size_t digits = by_scale<std::size_t>(ctx, 2, 4, 8);
  const std::size_t samples = by_scale<std::size_t>(ctx, 8, 64, 200);
  const Dataset<double> images = evaluation_images(ctx, digits, 12);
  const Dataset<double> pool = reference_images(ctx, by_scale<std::size_t>(ctx, 40, 1000, 5000), 13);
  Sequential<double> cnn = load_preset(ctx, "cnn");
  const auto out = explain_logits(smooth(cnn, 10.0), 64);
  const auto targets = resolve_targets(out, images.inputs, {});
  ExpectedHessiansOptions o;
  o.samples = samples;
  o.seed = ctx.seed;
  ctx.progress("Expected Hessians row sums for " + std::to_string(digits) + " digits");
  const auto sums = expected_hessians_row_sums(out, images.inputs, pool.inputs, targets, o);

  Table table;
  table.columns = {"digit", "class", "pixel (row, col)", "Σ_j Γ_ij", "strongest partner (row, col)", "Γ_ij*",
                   "completeness gap (rel.)"};
  std::vector<std::vector<HeatmapPanel>> cells;
  HeatmapGridSpec spec;
  spec.title = "Expected Hessians on the smoothed cnn: interactions of each digit's 3 most important pixels";
  spec.column_titles = {"digit", "row sums (= EG)", "Γ(i, j) over j, pixel 1", "Γ(i, j) over j, pixel 2",
                        "Γ(i, j) over j, pixel 3"};
  spec.value_label = "Γ";
  spec.panel_pixels = 112;
  nlohmann::json numbers = nlohmann::json::array();
  for (std::size_t n = 0; n < digits; ++n) {
    std::vector<HeatmapPanel> row = {{as_image(images.inputs, n), PanelStyle::grayscale, "", {}},
                                     {as_image(sums.attributions, n), PanelStyle::diverging, "", {}}};
    std::vector<std::size_t> order(784);
    for (std::size_t i = 0; i < 784; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 3, order.end(), [&](std::size_t a, std::size_t b) {
      return std::abs(sums.attributions.data()[n * 784 + a]) > std::abs(sums.attributions.data()[n * 784 + b]);
    });
    const Tensor<double> x = xt::view(images.inputs, xt::range(n, n + 1));
    const double rel_gap = sums.completeness_gaps[n] / std::max(std::abs(sums.output_changes[n]), 1e-12);
    for (std::size_t k = 0; k < 3; ++k) {
      const std::size_t i = order[k];
      ctx.progress("digit " + std::to_string(n) + ": interaction row of pixel " + std::to_string(i));
      const Tensor<double> gamma_row = expected_hessians_row(out, x, pool.inputs, i, {targets[n]}, o);
      std::size_t partner = i == 0 ? 1 : 0;
      for (std::size_t j = 0; j < 784; ++j)
        if (j != i && std::abs(gamma_row.data()[j]) > std::abs(gamma_row.data()[partner])) partner = j;
      // The diagonal Γ_ii (the pixel's main effect) dwarfs its interactions: masked (gray).
      Tensor<double> masked = as_image(gamma_row, 0);
      masked.data()[i] = std::numeric_limits<double>::quiet_NaN();
      const std::array<int, 2> at = {int(i / 28), int(i % 28)};
      row[1].marks.push_back(at);
      row.push_back({masked, PanelStyle::diverging, "i = " + pixel_label(i), {at}});
      table.add_row({std::to_string(n), std::to_string(targets[n]),
                     pixel_label(i),
                     format_number(sums.attributions.data()[n * 784 + i], 3),
                     pixel_label(partner),
                     format_number(gamma_row.data()[partner], 3), format_number(rel_gap, 2)});
      numbers.push_back({{"digit", n}, {"pixel", i}, {"row_sum", sums.attributions.data()[n * 784 + i]},
                         {"partner", partner}, {"interaction", gamma_row.data()[partner]}, {"gap", rel_gap}});
    }
    cells.push_back(row);
    spec.row_labels.push_back("digit " + std::to_string(n) + ", class " + std::to_string(targets[n]));
  }
  plot_heatmap_grid(dir / "interaction_maps.png", spec, cells);
  std::ostringstream md;
  md << "Settings: the `cnn` preset smoothed with β = 10, " << samples << " Expected Hessians samples "
     << "(training images as baselines, α, β ~ U(0,1), the same baseline for both integrals), " << digits
     << " test digits. Each figure row: the digit, the row sums Σ_j Γ_ij (= its Expected Gradients "
        "attribution, the three chosen pixels ringed in green), and the interaction rows Γ_i,: of its three "
        "most important pixels i (ringed) with the diagonal Γ_ii masked in gray (it is the pixel's main "
        "effect and dwarfs every interaction). Red: positive, blue: negative; each map is divided by its "
        "own 99th percentile L of |Γ| (printed under it), so one colour bar reads every map.\n\n![interaction maps](" << dir.filename().string()
     << "/interaction_maps.png)\n\n" << table_section(dir, "strongest_interactions", table)
     << "**Paper vs ours.** The paper shows Expected Hessians maps on MNIST in which the most important "
        "pixels interact mostly with nearby stroke pixels of the same digit. Our maps show where each "
        "important pixel's interactions lie; completeness of the row sums holds in expectation (the gap "
        "column shrinks like 1/√samples).\n";
  return {numbers, md.str()};
}

}  // namespace fluxion::experiments
