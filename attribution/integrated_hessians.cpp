// Integrated Hessians on one path with batched-tangent Hessians
// (see integrated_hessians.hpp for the math and the cost of each output).
#include "attribution/integrated_hessians.hpp"

#include <algorithm>
#include <cmath>

#include "attribution/hessian_sweep.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

Quadrature interaction_rule(const std::string& name, int points) {
  if (name == "log_weighted") return make_quadrature("log_weighted", points);
  if (name == "paper_grid") {
    if (points < 2 || points > 1000)
      throw InputError("integrated hessians: paper_grid needs 2 <= k <= 1000 points per axis, got " +
                       std::to_string(points));
    return ih_paper_grid(points);
  }
  throw InputError("integrated hessians: unknown rule '" + name + "' (expected log_weighted or paper_grid)");
}

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
    throw InputError("interactions: interaction_index " + std::to_string(row_index) + " is out of range for " +
                     std::to_string(d) + " features");
  const std::size_t point_chunk = std::max<std::size_t>(out.batch_size, 1);
  const std::size_t direction_chunk = directions_per_sweep == 0 ? d : std::min(directions_per_sweep, d);

  Tensor<T> result = part == InteractionPart::full ? filled<T>({n, d, d}, T(0)) : filled<T>(shape_of(x), T(0));
  Shape chunk_shape = example_shape(x);
  chunk_shape.insert(chunk_shape.begin(), 0);
  for (std::size_t start = 0; start < terms; start += point_chunk) {
    const std::size_t count = std::min(point_chunk, terms - start);
    chunk_shape[0] = count;
    Tensor<T> points = Tensor<T>::from_shape(chunk_shape), delta = Tensor<T>::from_shape(chunk_shape);
    std::vector<InteractionTerm> chunk_terms(count);
    std::vector<std::size_t> chunk_targets(count);
    for (std::size_t p = 0; p < count; ++p) {
      const InteractionTerm term = next_term();
      if (term.example >= n || term.reference >= r)
        throw InputError("interactions: a term refers to example " + std::to_string(term.example) +
                         " or reference " + std::to_string(term.reference) + " that does not exist");
      chunk_terms[p] = term;
      chunk_targets[p] = classes[term.example];
      const T* xe = x.data() + term.example * d;
      const T* ref = references.data() + term.reference * d;
      const T t = static_cast<T>(term.t);
      for (std::size_t i = 0; i < d; ++i) {
        delta.data()[p * d + i] = xe[i] - ref[i];
        points.data()[p * d + i] = ref[i] + t * (xe[i] - ref[i]);
      }
    }
    auto direction_tensor = [&](std::size_t k) {
      Shape s = chunk_shape;
      s.insert(s.begin(), k);
      return filled<T>(s, T(0));
    };

    if (part == InteractionPart::full) {
      for (std::size_t first = 0; first < d; first += direction_chunk) {
        const std::size_t k = std::min(direction_chunk, d - first);
        Tensor<T> V = direction_tensor(k);
        for (std::size_t j = 0; j < k; ++j)
          for (std::size_t p = 0; p < count; ++p) V.data()[(j * count + p) * d + first + j] = T(1);
        const auto sweep = gradient_and_hessian_products(out, points, chunk_targets, V);
        for (std::size_t p = 0; p < count; ++p) {
          const InteractionTerm& term = chunk_terms[p];
          const T* dp = delta.data() + p * d;
          T* gamma = result.data() + term.example * d * d;
          for (std::size_t j = 0; j < k; ++j) {
            const std::size_t a = first + j;
            // HV[j, p] = H e_a = row a of H (symmetric): Γ_ab += w t Δ_a Δ_b H_ab.
            const T coef = static_cast<T>(term.weight * term.t) * dp[a];
            const T* h_row = sweep.hessian_products.data() + (j * count + p) * d;
            T* g_row = gamma + a * d;
            for (std::size_t b = 0; b < d; ++b) g_row[b] += coef * dp[b] * h_row[b];
            g_row[a] += static_cast<T>(term.weight) * dp[a] * sweep.gradients.data()[p * d + a];
          }
        }
      }
    } else {
      // One tangent per point: e_i (one row) or Δ (row sums).
      Tensor<T> V = direction_tensor(1);
      for (std::size_t p = 0; p < count; ++p) {
        if (part == InteractionPart::row)
          V.data()[p * d + row_index] = T(1);
        else
          std::copy(delta.data() + p * d, delta.data() + (p + 1) * d, V.data() + p * d);
      }
      const auto sweep = gradient_and_hessian_products(out, points, chunk_targets, V);
      for (std::size_t p = 0; p < count; ++p) {
        const InteractionTerm& term = chunk_terms[p];
        const T w = static_cast<T>(term.weight), wt = static_cast<T>(term.weight * term.t);
        const T* dp = delta.data() + p * d;
        const T* hv = sweep.hessian_products.data() + p * d;
        const T* g = sweep.gradients.data() + p * d;
        T* row = result.data() + term.example * d;
        if (part == InteractionPart::row) {
          // Γ_ib += w (t Δ_i Δ_b (H e_i)_b + δ_ib Δ_i g_i)
          for (std::size_t b = 0; b < d; ++b) row[b] += wt * dp[row_index] * dp[b] * hv[b];
          row[row_index] += w * dp[row_index] * g[row_index];
        } else {
          // Σ_j Γ_aj += w Δ_a (t (H Δ)_a + g_a)
          for (std::size_t a = 0; a < d; ++a) row[a] += dp[a] * (wt * hv[a] + w * g[a]);
        }
      }
    }
  }
  return result;
}

template <class T>
std::vector<double> interaction_gaps(const Tensor<T>& values, const std::vector<double>& changes) {
  const std::size_t n = changes.size(), per = n ? values.size() / n : 0;
  std::vector<double> gaps(n);
  for (std::size_t e = 0; e < n; ++e) {
    double total = 0;
    for (std::size_t i = 0; i < per; ++i) total += static_cast<double>(values.data()[e * per + i]);
    gaps[e] = std::fabs(total - changes[e]);
  }
  return gaps;
}

namespace {

// The references tensor and which row each example uses: the baseline is one
// shared example (zeros by default) or one per example.
template <class T>
struct Baselines {
  Tensor<T> references;
  bool shared = true;
};

template <class T>
Baselines<T> baselines_for(const Tensor<T>& x, const std::optional<Tensor<T>>& given) {
  const Shape one = example_shape(x);
  Shape single = one;
  single.insert(single.begin(), 1);
  if (!given) return {filled<T>(single, T(0)), true};
  const Tensor<T>& baseline = *given;
  if (shape_of(baseline) == one) {
    Tensor<T> b = baseline;
    b.reshape(single);
    return {b, true};
  }
  if (shape_of(baseline) == shape_of(x)) return {baseline, false};
  throw ShapeError("integrated hessians: baseline " + shape_str(shape_of(baseline)) + " must be one example " +
                   shape_str(one) + " or match the inputs " + shape_str(shape_of(x)));
}

// The terms of IH: for each example, each node k of the rule.
template <class T>
Tensor<T> ih_sum(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& classes,
                 const Baselines<T>& base, const Quadrature& rule, InteractionPart part, std::size_t row,
                 std::size_t directions) {
  const std::size_t n = x.shape()[0], k = rule.nodes.size();
  std::size_t next = 0;
  auto term = [&]() {
    const std::size_t e = next / k, node = next % k;
    ++next;
    return InteractionTerm{e, base.shared ? 0 : e, rule.nodes[node], rule.weights[node]};
  };
  return interaction_sum(out, x, classes, base.references, n * k, term, part, row, directions);
}

template <class T>
std::vector<double> output_changes(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                   const std::vector<std::size_t>& classes, const Baselines<T>& base) {
  const std::size_t n = x.shape()[0];
  const Tensor<T> f_x = output_values(out, x, classes);
  Tensor<T> starts = base.references;
  if (base.shared) {
    Shape s = shape_of(x);
    starts = Tensor<T>::from_shape(s);
    const std::size_t d = x.size() / n;
    for (std::size_t e = 0; e < n; ++e)
      std::copy(base.references.data(), base.references.data() + d, starts.data() + e * d);
  }
  const Tensor<T> f_b = output_values(out, starts, classes);
  std::vector<double> changes(n);
  for (std::size_t e = 0; e < n; ++e) changes[e] = static_cast<double>(f_x(e)) - static_cast<double>(f_b(e));
  return changes;
}

}  // namespace

template <class T>
InteractionAttributions<T> integrated_hessians(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                               const std::vector<std::size_t>& targets,
                                               const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  example_count(x, "integrated hessians: x");
  const Baselines<T> base = baselines_for(x, options.baseline);
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  InteractionAttributions<T> result;
  result.interactions =
      ih_sum(out, x, classes, base, rule, InteractionPart::full, 0, options.directions_per_sweep);
  result.output_changes = output_changes(out, x, classes, base);
  result.completeness_gaps = interaction_gaps(result.interactions, result.output_changes);
  return result;
}

template <class T>
Tensor<T> integrated_hessians_row(const ExplainedOutput<T>& out, const Tensor<T>& x, std::size_t interaction_index,
                                  const std::vector<std::size_t>& targets,
                                  const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  example_count(x, "integrated hessians: x");
  const Baselines<T> base = baselines_for(x, options.baseline);
  return ih_sum(out, x, resolve_targets(out, x, targets), base, rule, InteractionPart::row, interaction_index,
                options.directions_per_sweep);
}

template <class T>
PathAttributions<T> integrated_hessians_row_sums(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                                 const std::vector<std::size_t>& targets,
                                                 const IntegratedHessiansOptions<T>& options) {
  const Quadrature rule = interaction_rule(options.rule, options.points);
  const std::size_t n = example_count(x, "integrated hessians: x");
  const Baselines<T> base = baselines_for(x, options.baseline);
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  PathAttributions<T> result;
  result.attributions = ih_sum(out, x, classes, base, rule, InteractionPart::row_sums, 0, 1);
  result.output_changes = output_changes(out, x, classes, base);
  result.completeness_gaps = interaction_gaps(result.attributions, result.output_changes);
  result.gradient_evaluations = n * rule.nodes.size();
  return result;
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template Tensor<T> interaction_sum(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&, \
                                     const Tensor<T>&, std::size_t, const std::function<InteractionTerm()>&,      \
                                     InteractionPart, std::size_t, std::size_t);                                  \
  template std::vector<double> interaction_gaps(const Tensor<T>&, const std::vector<double>&);                    \
  template InteractionAttributions<T> integrated_hessians(const ExplainedOutput<T>&, const Tensor<T>&,            \
                                                          const std::vector<std::size_t>&,                        \
                                                          const IntegratedHessiansOptions<T>&);                   \
  template Tensor<T> integrated_hessians_row(const ExplainedOutput<T>&, const Tensor<T>&, std::size_t,            \
                                             const std::vector<std::size_t>&, const IntegratedHessiansOptions<T>&); \
  template PathAttributions<T> integrated_hessians_row_sums(const ExplainedOutput<T>&, const Tensor<T>&,          \
                                                            const std::vector<std::size_t>&,                      \
                                                            const IntegratedHessiansOptions<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
