// Deletion and insertion curves (Petsiuk, Das & Saenko, "RISE: Randomized
// Input Sampling for Explanation of Black-box Models", BMVC 2018), the
// faithfulness metrics used by NeFLAG and AGI.
//
// Rank the d features of one example by attribution, descending:
// π(1), π(2), …, π(d). For counts 0 = k_0 < k_1 < … < k_S = d,
//
//   deletion:  D(k) = f(x with features π(1..k) set to the baseline b)
//   insertion: I(k) = f(b with features π(1..k) set to their values in x)
//
// and the scores are areas under the curves on the fraction axis t = k/d:
//
//   AUC = Σ_s (t_{s+1} − t_s) · (v_s + v_{s+1}) / 2        (trapezoid on [0, 1])
//
// A faithful attribution makes f fall fast when its top features are deleted
// (low deletion AUC) and rise fast when they are inserted (high insertion
// AUC); "difference" = insertion AUC − deletion AUC (higher is better).
//
// Conventions (state them with every reported number):
//   * a feature is one element of an example (one pixel of a 1-channel image);
//   * ranking by signed attribution, descending (option: by |attribution|);
//     ties keep the lower feature index first;
//   * step: a fixed number of features per step, or a fraction p of d with
//     k_s = round(s·p·d) so the points land on 0, p, 2p, …, 100 %;
//   * f is the explained output of ExplainedOutput (logit by default; Petsiuk
//     et al. and the notes use the softmax probability: set
//     out.kind = OutputKind::probability); the target defaults to the class
//     predicted at x and stays fixed along the curve;
//   * baselines: deletion replaces with 0 by default (black, MNIST);
//     insertion starts from 0 by default, or from a blurred copy of x
//     (blur_sigma, Petsiuk's choice) or from any image.
// All (example, step) inputs go through the model in chunks of out.batch_size.
#pragma once

#include <cstddef>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

/// What a removed feature becomes (deletion), or where insertion starts.
/// Priority: blur_sigma > 0, else an image (rank ≥ 1), else the constant value.
template <class T>
struct ReplacementBaseline {
  double value = 0.0;       // constant baseline (0 = black)
  Tensor<T> image;          // one example's shape (shared) or x's shape; default (rank 0) = none
  double blur_sigma = 0.0;  // > 0: gaussian_blur(x_n, σ) over the last two axes
};

template <class T>
struct FaithfulnessOptions {
  std::size_t features_per_step = 0;   // > 0: change this many features per step (1 = per pixel)
  double fraction_per_step = 0.01;     // used when features_per_step == 0: 1 % steps, 101 points
  bool rank_by_absolute_value = false; // rank by |attribution| instead of the signed value
  ReplacementBaseline<T> deletion_baseline;   // default: constant 0
  ReplacementBaseline<T> insertion_baseline;  // default: constant 0
};

template <class T>
struct PerturbationCurve {
  std::vector<double> fractions;  // t_s = k_s / d, from 0 to 1 (S + 1 points)
  Tensor<T> values;               // [N, S + 1]: f along the curve, one row per example
  std::vector<double> auc;        // [N]: trapezoid area under each row on [0, 1]
};

template <class T>
struct DeletionInsertion {
  PerturbationCurve<T> deletion, insertion;
  std::vector<double> difference;  // [N]: insertion.auc − deletion.auc
};

/// D(k) = f(x with features π(1..k) set to the baseline),  AUC = Σ_s (t_{s+1} − t_s)(D_s + D_{s+1})/2.
/// x: [N, ...], attributions: same shape, targets: N classes or empty (= predicted).
template <class T>
PerturbationCurve<T> deletion_curve(const ExplainedOutput<T>& out, const Tensor<T>& x, const Tensor<T>& attributions,
                                    const std::vector<std::size_t>& targets = {},
                                    const FaithfulnessOptions<T>& options = {});

/// I(k) = f(baseline with features π(1..k) set to x),  AUC = Σ_s (t_{s+1} − t_s)(I_s + I_{s+1})/2.
/// x: [N, ...], attributions: same shape, targets: N classes or empty (= predicted).
template <class T>
PerturbationCurve<T> insertion_curve(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                     const Tensor<T>& attributions, const std::vector<std::size_t>& targets = {},
                                     const FaithfulnessOptions<T>& options = {});

/// difference = AUC(I) − AUC(D), with both curves.
/// Both curves and insertion − deletion.
template <class T>
DeletionInsertion<T> deletion_insertion(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                        const Tensor<T>& attributions, const std::vector<std::size_t>& targets = {},
                                        const FaithfulnessOptions<T>& options = {});

/// The counts k_0 = 0 < k_1 < … < k_S = d for d features (see the header comment).
std::vector<std::size_t> features_changed_per_point(std::size_t d, std::size_t features_per_step,
                                                    double fraction_per_step);

/// Feature indices by descending attribution (or |attribution|), ties by index.
template <class T>
std::vector<std::size_t> rank_features(const T* attribution, std::size_t d, bool by_absolute_value = false);

/// Σ_s (t_{s+1} − t_s)(v_s + v_{s+1})/2 for increasing t.
double trapezoid_area(const std::vector<double>& t, const std::vector<double>& v);

}  // namespace fluxion
