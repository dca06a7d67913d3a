// AGI (Pan, Li & Zhu, IJCAI 2021) — see agi.hpp for the walk and the sum.
// The N·J walks (example, false class) are walks from the input
// (walk_integral.hpp); this file is their stopping rule and their step.
#include "attribution/agi.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

#include "attribution/sampling.hpp"
#include "attribution/walk_integral.hpp"
#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

void check_options(const AGIOptions& o) {
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon))
    throw ArgumentError("agi: epsilon must be a finite number > 0, got " + std::to_string(o.epsilon));
  if (o.max_iter < 1) throw ArgumentError("agi: max_iter must be >= 1, got " + std::to_string(o.max_iter));
  if (o.false_classes < 1) throw ArgumentError("agi: false_classes must be >= 1");
  if (!(o.lo < o.hi))
    throw ArgumentError("agi: the input box needs lo < hi, got [" + std::to_string(o.lo) + ", " + std::to_string(o.hi) + "]");
}

/// C, the number of classes, from one forward pass on the first example.
template <class T>
std::size_t class_count(const ExplainedOutput<T>& out, const Tensor<T>& x) {
  NoGradGuard inference;
  const Var<T> z = out.model(Var<T>(take_examples(x, 0, 1)));
  if (z.rank() != 2) throw ShapeError("agi: the model must return logits [N, C], got " + shape_str(z.shape()));
  return z.shape()[1];
}

/// The false classes walked for each example: all C − 1 of them in order, or
/// a seeded sample of `count` without replacement.
std::vector<std::vector<std::size_t>> choose_false_classes(const std::vector<std::size_t>& true_classes,
                                                          std::size_t classes, std::size_t count,
                                                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::size_t>> chosen;
  for (std::size_t c : true_classes) {
    std::vector<std::size_t> others;
    for (std::size_t j = 0; j < classes; ++j)
      if (j != c) others.push_back(j);
    if (count < others.size()) keep_random_sample(others, count, rng);
    chosen.push_back(std::move(others));
  }
  return chosen;
}

template <class T>
T sign(T v) {
  return static_cast<T>((v > T(0)) - (v < T(0)));
}

/// The walks of one group of examples that share J = false_classes[e].size() walks:
/// A_e = mean_j A_ej (integrate_walks averages), complete against the mean walk end.
template <class T>
PathAttributions<T> walk_false_classes(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const std::vector<std::size_t>& classes,
                                       const std::vector<std::vector<std::size_t>>& false_classes,
                                       const AGIOptions& options) {
  const std::size_t walks = false_classes.front().size();
  auto false_class_of = [&](std::size_t row) { return false_classes[row / walks][row % walks]; };

  ExplainedOutput<T> integrand = out;
  if (options.integrand) integrand.kind = *options.integrand;
  ExplainedOutput<T> towards = out;  // the walk climbs softmax_j
  towards.kind = OutputKind::probability;
  const T lo = static_cast<T>(options.lo), hi = static_cast<T>(options.hi), eps = static_cast<T>(options.epsilon);
  const std::size_t d = x.size() / x.shape()[0];
  std::size_t walk_gradients = 0;

  // Row e·J + j walks from x_e towards false class j of example e.
  WalkRule<T> walk{.starts = repeat_examples(x, walks), .walks_per_example = walks, .steps = options.max_iter,
                   .direction = WalkDirection::from_input};
  walk.arrived = [&](const std::vector<std::size_t>& rows, const Tensor<T>& points) {  // the model predicts j
    const std::vector<std::size_t> predicted = predicted_classes(out.model, points, out.batch_size);
    std::vector<char> arrived(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) arrived[r] = predicted[r] == false_class_of(rows[r]);
    return arrived;
  };
  walk.step = [&](WalkStep<T>& s) {  // x_{k+1} = clip(x_k + ε · sign(∇ softmax_j(x_k)), lo, hi)
    std::vector<std::size_t> up(s.rows.size());
    for (std::size_t r = 0; r < s.rows.size(); ++r) up[r] = false_class_of(s.rows[r]);
    const Tensor<T> g_walk = output_gradients(towards, s.points, up);
    walk_gradients += s.rows.size();
    for (std::size_t r = 0; r < s.rows.size(); ++r)
      for (std::size_t i = 0; i < d; ++i)
        s.move(r, i, std::clamp(s.point(r)[i] + eps * sign(g_walk.data()[r * d + i]), lo, hi));
  };
  WalkAttributions<T> result = integrate_walks(integrand, x, classes, walk);
  result.paths.gradient_evaluations += walk_gradients;
  return result.paths;
}

/// The explicit list without the explained class; ArgumentError for a class the model lacks or a repeat.
std::vector<std::size_t> listed_false_classes(const std::vector<std::size_t>& list, std::size_t true_class,
                                              std::size_t classes) {
  std::vector<std::size_t> kept;
  for (std::size_t j : list) {
    if (j >= classes)
      throw ArgumentError("agi: false class " + std::to_string(j) + " is not a class of the model, which has " +
                          std::to_string(classes));
    if (std::count(list.begin(), list.end(), j) > 1)
      throw ArgumentError("agi: false class " + std::to_string(j) + " is listed twice");
    if (j != true_class) kept.push_back(j);
  }
  if (kept.empty())
    throw ArgumentError("agi: the false-class list holds only the explained class " + std::to_string(true_class));
  return kept;
}

}  // namespace

template <class T>
PathAttributions<T> agi(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                        const AGIOptions& options) {
  const std::size_t n = example_count(x, "agi: x");
  check_options(options);
  const std::size_t classes_in_model = class_count(out, x);
  if (classes_in_model < 2)
    throw ShapeError("agi: the model has " + std::to_string(classes_in_model) + " class; AGI needs at least 2");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  std::vector<std::vector<std::size_t>> false_classes;
  if (options.false_class_list.empty()) {
    const std::size_t walks = std::min(options.false_classes, classes_in_model - 1);
    false_classes = choose_false_classes(classes, classes_in_model, walks, options.seed);
  } else {
    for (std::size_t c : classes) false_classes.push_back(listed_false_classes(options.false_class_list, c, classes_in_model));
  }
  // Examples whose lists have the same length walk together (a listed class that is
  // the explained one shortens an example's list by one).
  std::map<std::size_t, std::vector<std::size_t>> groups;
  for (std::size_t e = 0; e < n; ++e) groups[false_classes[e].size()].push_back(e);
  PathAttributions<T> result;
  result.attributions = Tensor<T>::from_shape(shape_of(x));
  result.output_changes.resize(n);
  result.completeness_gaps.resize(n);
  const std::size_t d = x.size() / n;
  for (const auto& [walks, members] : groups) {
    std::vector<std::size_t> group_classes;
    std::vector<std::vector<std::size_t>> group_false;
    for (std::size_t e : members) group_classes.push_back(classes[e]), group_false.push_back(false_classes[e]);
    const PathAttributions<T> part =
        walk_false_classes(out, gather_rows(x, members), group_classes, group_false, options);
    // sum_over_classes: A = Σ_j A_j = J · mean_j A_j, against J f(x) − Σ_j f(end_j).
    const double scale = options.aggregate == AGIAggregate::sum_over_classes ? double(walks) : 1.0;
    for (std::size_t m = 0; m < members.size(); ++m) {
      const std::size_t e = members[m];
      for (std::size_t i = 0; i < d; ++i)
        result.attributions.data()[e * d + i] = static_cast<T>(scale * static_cast<double>(part.attributions.data()[m * d + i]));
      result.output_changes[e] = scale * part.output_changes[m];
      result.completeness_gaps[e] = scale * part.completeness_gaps[m];
    }
    result.gradient_evaluations += part.gradient_evaluations;
  }
  return result;
}

template PathAttributions<float> agi(const ExplainedOutput<float>&, const Tensor<float>&,
                                     const std::vector<std::size_t>&, const AGIOptions&);
template PathAttributions<double> agi(const ExplainedOutput<double>&, const Tensor<double>&,
                                      const std::vector<std::size_t>&, const AGIOptions&);

}  // namespace fluxion
