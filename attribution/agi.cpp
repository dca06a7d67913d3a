// AGI (Pan, Li & Zhu, IJCAI 2021) — see agi.hpp for the walk and the sum.
// The N·J walks (example, false class) are walks from the input
// (walk_integral.hpp); this file is their stopping rule and their step.
#include "attribution/agi.hpp"

#include <algorithm>
#include <cmath>
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

}  // namespace

template <class T>
PathAttributions<T> agi(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                        const AGIOptions& options) {
  example_count(x, "agi: x");
  check_options(options);
  const std::size_t classes_in_model = class_count(out, x);
  if (classes_in_model < 2)
    throw ShapeError("agi: the model has " + std::to_string(classes_in_model) + " class; AGI needs at least 2");
  const std::vector<std::size_t> classes = resolve_targets(out, x, targets);
  const std::size_t walks = std::min(options.false_classes, classes_in_model - 1);
  const auto false_classes = choose_false_classes(classes, classes_in_model, walks, options.seed);
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

template PathAttributions<float> agi(const ExplainedOutput<float>&, const Tensor<float>&,
                                     const std::vector<std::size_t>&, const AGIOptions&);
template PathAttributions<double> agi(const ExplainedOutput<double>&, const Tensor<double>&,
                                      const std::vector<std::size_t>&, const AGIOptions&);

}  // namespace fluxion
