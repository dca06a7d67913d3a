// IG2 — Integrated Gradients on an Iterative Gradient path.
//
// Zhuo & Ge, "IG2: Integrated Gradient on Iterative Gradient Path for
// Feature Attribution", IEEE TPAMI 2024 (arXiv 2406.10852); follows the
// reference code (JoeZhuo-ZY/IG2, ig2.py) as summarised in shared/papers/ig2.md.
//
// The model is split as f = head ∘ features: h(x) is a representation (by
// default the input of the last Linear layer) and f the explained output of
// head(h(x)) (the pre-softmax logit in the paper). For a reference r of
// another class, GradPath walks x towards r *in representation space* with
// normalised gradient steps of length η, clipped to the input box:
//     x_0 = x,   g_j = ∇_x ‖h(x_j) − h(r)‖²,
//     x_{j+1} = clip(x_j − η · g_j / max(‖g_j‖₂, eps), lo, hi),   j = 0 … K−1,
// and the attribution integrates ∇f along this real path (left Riemann sum):
//     A_r = Σ_j ∇f(x_j) ⊙ (x_j − x_{j+1}),        IG2(x) = mean_r A_r.
// The end point GradCF_r = x_K is the counterfactual baseline; the sum
// telescopes, so
//     Σ_i IG2_i ≈ f(x) − mean_r f(GradCF_r),
// with an error that shrinks linearly with η at fixed path length K·η
// (the trapezoid rule, an option here, makes it quadratic for one extra
// gradient per path). A feature neither f nor h depends on has zero
// gradient in both oracles: it never moves and gets exactly 0.
#pragma once

#include <cstdint>
#include <limits>

#include "attribution/path_integral.hpp"

namespace fluxion {

/// model(x) = head(features(x)); features: x[N, ...] → h[N, ...], head: h → logits [N, C].
template <class T>
struct SplitModel {
  Function<T> features;
  Function<T> head;
  /// head ∘ features, the model whose output is explained.
  Function<T> model() const;
};

struct IG2Options {
  int steps = 500;            // K (≥ 1)
  double step_size = 0.02;    // η, the L2 length of one step (MNIST pixels in [0, 1])
  double lo = 0.0, hi = 1.0;  // the input box (−inf, +inf: no clipping)
  double eps = 1e-12;         // guards ‖g‖ = 0 (then the step is 0)
  OutputKind kind = OutputKind::logit;  // f: the logit (paper) or the probability
  SegmentRule rule = SegmentRule::left; // left (paper) or trapezoid (one more gradient per path)
  std::size_t batch_size = 64;          // path points per model call
};

/// The IG2 attributions plus what completeness is measured against.
template <class T>
struct IG2Result {
  PathAttributions<T> paths;   // attributions [N, ...]; output_changes = f(x) − mean_r f(GradCF_r)
  Tensor<T> counterfactuals;   // GradCF: [N, B, ...], the end of each path
};

/// IG2 = mean_r Σ_j ∇f(x_j) ⊙ (x_j − x_{j+1}),  x_{j+1} = clip(x_j − η g_j/‖g_j‖, lo, hi), g_j = ∇‖h(x_j) − h(r)‖².
/// IG2 of every example of x[N, ...] for classes `targets` (size N, or empty
/// for the predicted classes). `references` holds B references shared by all
/// examples, [B, ...], or B per example, [N, B, ...]. All N·B paths advance
/// together: each step costs two batched gradient calls.
template <class T>
IG2Result<T> ig2(const SplitModel<T>& model, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                 const Tensor<T>& references, const IG2Options& options = {});

/// References of other classes: for each example n, `count` distinct rows of
/// pool[M, ...] whose label differs from targets[n], drawn without
/// replacement with `seed` (labels: the pool's classes, size M; pass the
/// model's predictions when true labels are unknown). Returns [N, count, ...].
template <class T>
Tensor<T> draw_references(const Tensor<T>& pool, const std::vector<std::size_t>& pool_labels,
                          const std::vector<std::size_t>& targets, std::size_t count, std::uint64_t seed);

}  // namespace fluxion
