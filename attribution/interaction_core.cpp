// The IH/EH interaction engine (see interaction_core.hpp for the sums).
#include "attribution/interaction_core.hpp"

#include <algorithm>

#include "attribution/chunked_evaluation.hpp"
#include "attribution/hessian_sweep.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

template <class T>
Tensor<T> interaction_sum(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& classes,
                          const Tensor<T>& references, std::size_t terms,
                          const std::function<InteractionTerm()>& next_term, InteractionPart part,
                          std::size_t row_index, std::size_t directions_per_sweep) {
  const std::size_t n = example_count(x, "interactions: x");
  const std::size_t r = example_count(references, "interactions: references");
  if (example_shape(references) != example_shape(x))
    throw ShapeError("interactions: references " + shape_str(shape_of(references)) +
                     " must hold examples shaped like the inputs " + shape_str(shape_of(x)));
  const std::size_t d = x.size() / n;
  if (part == InteractionPart::row && row_index >= d)
    throw ArgumentError("interactions: interaction_index " + std::to_string(row_index) + " is out of range for " +
                        std::to_string(d) + " features");
  const std::size_t direction_chunk = directions_per_sweep == 0 ? d : std::min(directions_per_sweep, d);
  Tensor<T> result = part == InteractionPart::full ? filled<T>({n, d, d}, T(0)) : filled<T>(shape_of(x), T(0));

  // Point of term p, drawn in order: x' + tΔ (x' = references[term.reference]),
  // or with an inner reference x'' = references[term.inner_reference] the point
  // x'' + s (p − x''), p = x' + tΔ, s = term.inner_t.
  std::vector<InteractionTerm> term_of(terms);
  auto point = [&](std::size_t p, T* dst) {
    const InteractionTerm term = term_of[p] = next_term();
    if (term.example >= n || term.reference >= r || (term.inner_reference != InteractionTerm::none && term.inner_reference >= r))
      throw ArgumentError("interactions: a term refers to example " + std::to_string(term.example) +
                          " or a reference that does not exist");
    const T* xe = x.data() + term.example * d;
    const T* ref = references.data() + term.reference * d;
    const T t = static_cast<T>(term.t);
    for (std::size_t i = 0; i < d; ++i) dst[i] = ref[i] + t * (xe[i] - ref[i]);
    if (term.inner_reference != InteractionTerm::none) {
      const T* inner = references.data() + term.inner_reference * d;
      const T s = static_cast<T>(term.inner_t);
      for (std::size_t i = 0; i < d; ++i) dst[i] = inner[i] + s * (dst[i] - inner[i]);
    }
    return classes[term.example];
  };
  // R = Δ = x − x' of term p into dst.
  auto delta_of = [&](std::size_t p, T* dst) {
    const T* xe = x.data() + term_of[p].example * d;
    const T* ref = references.data() + term_of[p].reference * d;
    for (std::size_t i = 0; i < d; ++i) dst[i] = xe[i] - ref[i];
  };
  // L of term p into dst: Δ, or p − x'' = x' + tΔ − x'' with an inner reference.
  auto left_of = [&](std::size_t p, T* dst) {
    const InteractionTerm& term = term_of[p];
    delta_of(p, dst);
    if (term.inner_reference == InteractionTerm::none) return;
    const T* ref = references.data() + term.reference * d;
    const T* inner = references.data() + term.inner_reference * d;
    const T t = static_cast<T>(term.t);
    for (std::size_t i = 0; i < d; ++i) dst[i] = ref[i] + t * dst[i] - inner[i];
  };
  // The Hessian coefficient: t, or s with an inner reference.
  auto hessian_coefficient = [&](const InteractionTerm& term) {
    return term.inner_reference == InteractionTerm::none ? term.t : term.inner_t;
  };

  auto sum_chunk = [&](std::size_t first, const Tensor<T>& points, const std::vector<std::size_t>& chunk_classes) {
    const std::size_t count = chunk_classes.size();
    Tensor<T> delta = Tensor<T>::from_shape(shape_of(points)), left = Tensor<T>::from_shape(shape_of(points));
    for (std::size_t p = 0; p < count; ++p) delta_of(first + p, delta.data() + p * d);
    for (std::size_t p = 0; p < count; ++p) left_of(first + p, left.data() + p * d);
    auto direction_tensor = [&](std::size_t k) {  // k tangents per point: [k, count, ...]
      Shape s = shape_of(points);
      s.insert(s.begin(), k);
      return filled<T>(s, T(0));
    };

    if (part == InteractionPart::full) {
      for (std::size_t first_direction = 0; first_direction < d; first_direction += direction_chunk) {
        const std::size_t k = std::min(direction_chunk, d - first_direction);
        Tensor<T> V = direction_tensor(k);
        for (std::size_t j = 0; j < k; ++j)
          for (std::size_t p = 0; p < count; ++p) V.data()[(j * count + p) * d + first_direction + j] = T(1);
        const auto sweep = gradient_and_hessian_products(out, points, chunk_classes, V);
        for (std::size_t p = 0; p < count; ++p) {
          const InteractionTerm& term = term_of[first + p];
          const T* dp = delta.data() + p * d;
          const T* lp = left.data() + p * d;
          T* gamma = result.data() + term.example * d * d;
          for (std::size_t j = 0; j < k; ++j) {
            const std::size_t a = first_direction + j;
            // HV[j, p] = H e_a = row a of H (symmetric): Γ_ab += w c L_a R_b H_ab (L = R = Δ, c = t by default).
            const T coef = static_cast<T>(term.weight * hessian_coefficient(term)) * lp[a];
            const T* h_row = sweep.hessian_products.data() + (j * count + p) * d;
            T* g_row = gamma + a * d;
            for (std::size_t b = 0; b < d; ++b) g_row[b] += coef * dp[b] * h_row[b];
            g_row[a] += static_cast<T>(term.weight) * dp[a] * sweep.gradients.data()[p * d + a];
          }
        }
      }
      return;
    }
    // One tangent per point: e_i (one row) or Δ (row sums).
    Tensor<T> V = direction_tensor(1);
    for (std::size_t p = 0; p < count; ++p) {
      if (part == InteractionPart::row)
        V.data()[p * d + row_index] = T(1);
      else
        std::copy(delta.data() + p * d, delta.data() + (p + 1) * d, V.data() + p * d);
    }
    const auto sweep = gradient_and_hessian_products(out, points, chunk_classes, V);
    for (std::size_t p = 0; p < count; ++p) {
      const InteractionTerm& term = term_of[first + p];
      const T w = static_cast<T>(term.weight), wt = static_cast<T>(term.weight * hessian_coefficient(term));
      const T* dp = delta.data() + p * d;
      const T* lp = left.data() + p * d;
      const T* hv = sweep.hessian_products.data() + p * d;
      const T* g = sweep.gradients.data() + p * d;
      T* row = result.data() + term.example * d;
      if (part == InteractionPart::row) {
        // Γ_ib += w (c L_i R_b (H e_i)_b + δ_ib R_i g_i)
        for (std::size_t b = 0; b < d; ++b) row[b] += wt * lp[row_index] * dp[b] * hv[b];
        row[row_index] += w * dp[row_index] * g[row_index];
      } else {
        // Σ_j Γ_aj += w (c L_a (H R)_a + R_a g_a)
        for (std::size_t a = 0; a < d; ++a) row[a] += wt * lp[a] * hv[a] + w * dp[a] * g[a];
      }
    }
  };
  evaluate_in_chunks<T>(out.batch_size, example_shape(x), terms, point, sum_chunk);
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template Tensor<T> interaction_sum(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, \
                                     const Tensor<T>&, std::size_t, const std::function<InteractionTerm()>&,      \
                                     InteractionPart, std::size_t, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
