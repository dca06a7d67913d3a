// Tests for the pieces of the path core that every path method shares:
// Baselines (one example or [N, ...]), the chunked point evaluator, the
// completeness helpers and the walk integrator (attribution/baselines,
// chunked_evaluation, path_integral, walk_integral). The methods built on
// them have their own tests; these pin down the contracts they rely on.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "attribution/baselines.hpp"
#include "attribution/chunked_evaluation.hpp"
#include "attribution/path_integral.hpp"
#include "attribution/walk_integral.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

/// f_c(x) = Σ_i x_i² w_ci: logits [N, C] of x [N, d] (C = w.shape[0]); ∇f_c = 2 w_c ⊙ x.
Function<double> weighted_squares(const Tensor<double>& w) {
  return [w](const Var<double>& x) { return matmul(square(x), Var<double>(w), false, true); };
}

}  // namespace

TEST_CASE("path core: Baselines are one example shared by all rows or one per example, checked once") {
  const Tensor<double> x = seeded_uniform<double>({3, 2, 2}, 1);
  const Tensor<double> one = seeded_uniform<double>({2, 2}, 2);
  const Baselines<double> shared(x, one, "test");
  CHECK(shared.shared());
  CHECK(shape_of(shared.references()) == Shape{1, 2, 2});
  const Tensor<double> rows = shared.rows();
  REQUIRE(shape_of(rows) == shape_of(x));
  for (std::size_t e = 0; e < 3; ++e) {
    CHECK(shared.index(e) == 0);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(shared.row(e)[i] == one.data()[i]);
      CHECK(rows.data()[e * 4 + i] == one.data()[i]);
    }
  }
  const Tensor<double> each = seeded_uniform<double>({3, 2, 2}, 3);
  const Baselines<double> per_example(x, each, "test");
  CHECK_FALSE(per_example.shared());
  CHECK(per_example.rows() == each);
  CHECK(per_example.index(2) == 2);
  CHECK(per_example.row(2)[3] == each.data()[11]);
  const Baselines<double> black(x, std::optional<Tensor<double>>(), "test");
  CHECK(black.rows() == filled<double>({3, 2, 2}, 0.0));
  CHECK_THROWS_AS(Baselines<double>(x, filled<double>({4}, 0.0), "test"), ShapeError);
  CHECK_THROWS_AS(Baselines<double>(x, filled<double>({2, 2, 2}, 0.0), "test"), ShapeError);
}

TEST_CASE("path core: evaluate_in_chunks makes every point once, in order, batch_size at a time") {
  for (std::size_t batch : {0u, 1u, 3u, 7u, 100u}) {
    INFO("batch_size " << batch);
    std::vector<std::size_t> made, seen;
    std::size_t largest = 0;
    evaluate_in_chunks<double>(
        batch, {2}, 7,
        [&](std::size_t p, double* point) {
          made.push_back(p);
          point[0] = double(p);
          point[1] = -double(p);
          return p % 3;
        },
        [&](std::size_t first, const Tensor<double>& points, const std::vector<std::size_t>& classes) {
          REQUIRE(points.shape()[0] == classes.size());
          largest = std::max(largest, classes.size());
          for (std::size_t p = 0; p < classes.size(); ++p) {
            CHECK(points(p, 0) == double(first + p));
            CHECK(classes[p] == (first + p) % 3);
            seen.push_back(first + p);
          }
        });
    const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6};
    CHECK(made == all);
    CHECK(seen == all);
    CHECK(largest == std::min<std::size_t>(std::max<std::size_t>(batch, 1), 7));
  }
}

TEST_CASE("path core: gradients_in_chunks hands back ∇f of each point, whatever the chunk size") {
  const Tensor<double> w = seeded_uniform<double>({2, 3}, 4);
  const Tensor<double> points = seeded_uniform<double>({5, 3}, 5);
  for (std::size_t batch : {1u, 2u, 64u}) {
    const ExplainedOutput<double> out{weighted_squares(w), OutputKind::logit, batch};
    gradients_in_chunks<double>(
        out, {3}, 5,
        [&](std::size_t p, double* point) {
          std::copy(points.data() + p * 3, points.data() + (p + 1) * 3, point);
          return p % 2;
        },
        [&](std::size_t p, const double* g) {
          for (std::size_t i = 0; i < 3; ++i)
            CHECK(g[i] == doctest::Approx(2 * w(p % 2, i) * points(p, i)).epsilon(1e-14));
        });
  }
}

TEST_CASE("path core: completeness_gaps and with_completeness") {
  const Tensor<double> a({{1.0, 2.0}, {0.5, -0.5}});
  const std::vector<double> gaps = completeness_gaps(a, {2.5, 0.25});
  CHECK(gaps == std::vector<double>{0.5, 0.25});
  // f(x) = Σ x_i² (one class): with the reference output 0, the change is f(x).
  const ExplainedOutput<double> out{weighted_squares(filled<double>({1, 2}, 1.0))};
  const Tensor<double> x({{1.0, 2.0}, {3.0, 0.0}});
  const PathAttributions<double> r = with_completeness(out, x, {0, 0}, a, {0.0, 1.0});
  CHECK(r.output_changes == std::vector<double>{5.0, 8.0});
  CHECK(r.completeness_gaps == std::vector<double>{2.0, 8.0});
  CHECK(r.attributions == a);
}

TEST_CASE("path core: the walk integrator charges moves, averages walks and measures completeness") {
  // f_c(x) = Σ_i w_ci x_i²; walks along the straight line x' → x in K equal steps.
  const Tensor<double> w = seeded_uniform<double>({2, 3}, 6, 0.5, 1.5);
  const ExplainedOutput<double> out{weighted_squares(w)};
  const Tensor<double> x = seeded_uniform<double>({2, 3}, 7);
  const Tensor<double> baseline = seeded_uniform<double>({3}, 8);
  const std::vector<std::size_t> classes{1, 0};
  const int K = 8;
  auto straight = [&](WalkStep<double>& s) {
    for (std::size_t j = 0; j < s.rows.size(); ++j)
      for (std::size_t i = 0; i < 3; ++i) {
        const double b = baseline(i), xi = x(s.rows[j], i);
        s.move(j, i, b + double(s.number + 1) / K * (xi - b));
      }
  };
  const Baselines<double> base(x, baseline, "test");
  WalkRule<double> walk{.starts = base.rows(), .steps = K, .direction = WalkDirection::to_input};
  walk.step = straight;

  // Left rule: Σ_k 2 w x_k Δ = w (x² − x'²) − w Δ²/K exactly per feature, so the gap is Σ_i w_i Δ_i²/K.
  const WalkAttributions<double> left = integrate_walks(out, x, classes, walk);
  // Trapezoid: exact for a quadratic (∇f is linear along each step).
  walk.rule = SegmentRule::trapezoid;
  const WalkAttributions<double> trapezoid = integrate_walks(out, x, classes, walk);
  for (std::size_t e = 0; e < 2; ++e) {
    double change = 0, left_error = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      const double c = w(classes[e], i), d = x(e, i) - baseline(i);
      change += c * (x(e, i) * x(e, i) - baseline(i) * baseline(i));
      left_error += c * d * d / K;
      CHECK(trapezoid.paths.attributions(e, i) ==
            doctest::Approx(c * (x(e, i) * x(e, i) - baseline(i) * baseline(i))).epsilon(1e-12));
    }
    CHECK(left.paths.output_changes[e] == doctest::Approx(change).epsilon(1e-14));
    CHECK(left.paths.completeness_gaps[e] == doctest::Approx(left_error).epsilon(1e-12));
    CHECK(trapezoid.paths.completeness_gaps[e] <= 1e-14);
    for (std::size_t i = 0; i < 3; ++i) CHECK(left.ends(e, i) == doctest::Approx(x(e, i)).epsilon(1e-15));
  }
  CHECK(left.paths.gradient_evaluations == 2 * K);
  CHECK(trapezoid.paths.gradient_evaluations == 2 * K + 2);  // one more gradient per row at the end

  // Two walks per example from the input, one of which arrives at once: the
  // walking one goes x → x + K·0.1 (left rule: A = −Σ ∇f Δz), the attribution
  // is their mean and the reference the mean output at the two ends.
  WalkRule<double> away{.starts = repeat_examples(x, 2), .walks_per_example = 2, .steps = K,
                        .direction = WalkDirection::from_input};
  away.arrived = [](const std::vector<std::size_t>& rows, const Tensor<double>&) {
    std::vector<char> arrived(rows.size());
    for (std::size_t j = 0; j < rows.size(); ++j) arrived[j] = rows[j] % 2 == 1;  // walk 1 never moves
    return arrived;
  };
  away.step = [](WalkStep<double>& s) {
    for (std::size_t j = 0; j < s.rows.size(); ++j)
      for (std::size_t i = 0; i < 3; ++i) s.move(j, i, s.point(j)[i] + 0.1);
  };
  const WalkAttributions<double> walked = integrate_walks(out, x, classes, away);
  for (std::size_t e = 0; e < 2; ++e) {
    double a_total = 0, end_output = 0, start_output = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      const double c = w(classes[e], i), end = x(e, i) + K * 0.1;
      CHECK(walked.ends(2 * e, i) == doctest::Approx(end).epsilon(1e-14));
      CHECK(walked.ends(2 * e + 1, i) == x(e, i));
      // −Σ_k 2 c z_k · 0.1 over z_k = x + 0.1 k, halved by the mean over two walks.
      double sum = 0;
      for (int k = 0; k < K; ++k) sum -= 2 * c * (x(e, i) + 0.1 * k) * 0.1;
      CHECK(walked.paths.attributions(e, i) == doctest::Approx(sum / 2).epsilon(1e-12));
      a_total += walked.paths.attributions(e, i);
      end_output += c * end * end;
      start_output += c * x(e, i) * x(e, i);
    }
    const double change = start_output - (end_output + start_output) / 2;
    CHECK(walked.paths.output_changes[e] == doctest::Approx(change).epsilon(1e-12));
    CHECK(walked.paths.completeness_gaps[e] == doctest::Approx(std::fabs(a_total - change)).epsilon(1e-10));
  }
  CHECK(walked.paths.gradient_evaluations == 2 * K);  // only the two walking rows were evaluated

  walk.rule = SegmentRule::midpoint;
  CHECK_THROWS_AS(integrate_walks(out, x, classes, walk), ArgumentError);
  walk.rule = SegmentRule::left;
  walk.starts = filled<double>({3, 3}, 0.0);
  CHECK_THROWS_AS(integrate_walks(out, x, classes, walk), ShapeError);
}
