// The walk integrator: path methods whose path is found step by step.
//
// Guided IG, AGI and IG2 do not know their path in advance: each step looks at
// the gradients where the walk stands and decides where to go next. They
// differ only in that decision (the step rule); everything else is this core:
//
//   * rows: walk w of example e is row r = e·W + w of one tensor z[N·W, ...],
//     and all rows advance together, so each step is one batched gradient call;
//   * charging: each move Δz of a step is charged with ∇f at the start of the
//     step (left rule), or the step's net move with the mean of the gradients
//     at both ends of it (trapezoid: Σ_k (∇f(z_k) + ∇f(z_{k+1}))/2 · Δz_k,
//     written as Σ_k ∇f(z_k) · (Δz_{k−1} + Δz_k)/2, one extra gradient per row
//     at the end);
//   * direction: a walk to the input (z_0 = x' … z_K = x) attributes
//         A = Σ_k ∇f(z_k) ⊙ Δz_k ≈ f(x) − f(x'),
//     a walk from the input (z_0 = x … z_K = end) attributes
//         A = −Σ_k ∇f(z_k) ⊙ Δz_k ≈ f(x) − f(end);
//   * averaging: A_e = (1/W) Σ_w A_{e·W+w}, and completeness is measured
//     against the mean output at the W reference points (starts or ends):
//         gap_e = |Σ_i A_ei − (f(x_e) − (1/W) Σ_w f(ref_{e·W+w}))|.
#pragma once
#include <functional>
#include <vector>

#include "attribution/path_integral.hpp"

namespace fluxion {

enum class WalkDirection {
  to_input,    // z_0 = baseline … z_K = x; reference: the start (Guided IG)
  from_input,  // z_0 = x … z_K = the walk's end; reference: the end (AGI, IG2)
};

/// What a step rule sees of one step, and how it moves the walks.
template <class T>
class WalkStep {
 public:
  WalkStep(int number, const std::vector<std::size_t>& rows, const Tensor<T>& points, const Tensor<T>& gradients,
           T* z, T* attributions, std::size_t d, bool charge_moves, bool to_input)
      : number(number), rows(rows), points(points), gradients(gradients), z_(z), a_(attributions), d_(d),
        charge_moves_(charge_moves), to_input_(to_input) {}

  const int number;                       // k = 0 … K−1
  const std::vector<std::size_t>& rows;   // the walking rows r = e·W + w, in order
  const Tensor<T>& points;                // their points at the start of the step, [rows.size(), ...]
  const Tensor<T>& gradients;             // ∇f of the integrand at those points, [rows.size(), ...]

  /// The live point of walking row j (updated by move).
  const T* point(std::size_t j) const { return z_ + rows[j] * d_; }
  /// ∇f at the start of the step for walking row j.
  const T* gradient(std::size_t j) const { return gradients.data() + j * d_; }
  /// Moves feature i of walking row j to `value`; under the left rule the
  /// move is charged at once: A_i += ∇_i f · (value − z_i) (to the input) or
  /// A_i += ∇_i f · (z_i − value) (from the input).
  void move(std::size_t j, std::size_t i, T value) {
    T& zi = z_[rows[j] * d_ + i];
    if (charge_moves_) {
      const T g = gradients.data()[j * d_ + i];
      a_[rows[j] * d_ + i] += to_input_ ? g * (value - zi) : g * (zi - value);
    }
    zi = value;
  }

 private:
  T* z_;
  T* a_;
  std::size_t d_;
  bool charge_moves_, to_input_;
};

/// A method's walk: K steps of its step rule from `starts`.
template <class T>
struct WalkRule {
  Tensor<T> starts;                   // z_0 of every row, [N·W, ...]
  std::size_t walks_per_example = 1;  // W
  int steps = 1;                      // K, the most steps a walk takes
  WalkDirection direction = WalkDirection::to_input;
  SegmentRule rule = SegmentRule::left;  // left or trapezoid
  /// Optional, checked before each step: which of the walking rows have
  /// arrived (1) and stop; `points` are their current points.
  std::function<std::vector<char>(const std::vector<std::size_t>& rows, const Tensor<T>& points)> arrived{};
  /// The method's decision: moves the walking rows (WalkStep::move).
  std::function<void(WalkStep<T>&)> step{};
};

/// The walk's attributions with their completeness, and where the walks ended.
template <class T>
struct WalkAttributions {
  PathAttributions<T> paths;  // attributions [N, ...]; gradient_evaluations counts the integrand's gradients only
  Tensor<T> ends;             // z_K of every row, [N·W, ...]
};

/// Walks every row of rule.starts with rule.step, integrating ∇f of `out`
/// for classes[e] (one class per example of x[N, ...]); see the top of the file.
template <class T>
WalkAttributions<T> integrate_walks(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                    const std::vector<std::size_t>& classes, const WalkRule<T>& rule);

/// Every example of x[N, ...] repeated W times in a row: [N·W, ...] (the starts of walks from the input).
template <class T>
Tensor<T> repeat_examples(const Tensor<T>& x, std::size_t walks_per_example);

/// Rows `which` of x[R, ...] stacked into [which.size(), ...].
template <class T>
Tensor<T> gather_rows(const Tensor<T>& x, const std::vector<std::size_t>& which);

}  // namespace fluxion
