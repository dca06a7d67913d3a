// Tests for attribution/shapley_interaction: closed forms for products of
// features, efficiency, the Shapley value against the permutation
// definition (all d! orderings) on an MLP, and the pairwise interaction index
// on the same non-polynomial MLP against its own permutation form: merge i
// and j into one player [ij]; in a uniformly random ordering of the d − 1
// players the set S before [ij] has probability |S|!(d − |S| − 2)!/(d − 1)!,
// so I_ij is the mean over all (d − 1)! orderings of the second difference
// v(S ∪ ij) − v(S ∪ i) − v(S ∪ j) + v(S) — no subset weights involved.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attribution/shapley_interaction.hpp"
#include "attribution_models.hpp"
#include "autodiff/errors.hpp"

using namespace fluxion;
using namespace fluxion::attribution_testing;

namespace {

ExplainedOutput<double> explain(Function<double> model, std::size_t batch = 64) {
  ExplainedOutput<double> out;
  out.model = std::move(model);
  out.batch_size = batch;
  return out;
}

Var<double> column(const Var<double>& x, std::size_t i) {
  Tensor<double> mask = filled<double>({x.shape()[1]}, 0.0);
  mask(i) = 1;
  return sum(x * Var<double>(mask), {1}, true);
}

}  // namespace

TEST_CASE("shapley interaction: f = x0·x1 + x2 at x = 1, baseline 0") {
  const auto out = explain([](const Var<double>& x) { return column(x, 0) * column(x, 1) + column(x, 2); });
  const auto r = shapley_interactions(out, filled<double>({1, 3}, 1.0), {0});
  // I₀₁ = 1 (the product's whole interaction), nothing else interacts;
  // φ = (½, ½, 1) splits the product evenly.
  const double expected[3][3] = {{0, 1, 0}, {1, 0, 0}, {0, 0, 0}};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) CHECK(std::fabs(r.interactions(0, i, j) - expected[i][j]) <= 1e-15);
  CHECK(std::fabs(r.shapley_values(0, 0) - 0.5) <= 1e-15);
  CHECK(std::fabs(r.shapley_values(0, 1) - 0.5) <= 1e-15);
  CHECK(std::fabs(r.shapley_values(0, 2) - 1.0) <= 1e-15);
  CHECK(std::fabs(r.output_changes[0] - 2.0) <= 1e-15);
}

TEST_CASE("shapley interaction: a k-way product gives c/(k−1) per pair and c/k per feature") {
  // f = x0·x1 + 2·x2·x3·x4 on d = 6 (x5 unused), x = 1, x' = 0.
  const auto out = explain([](const Var<double>& x) {
    return column(x, 0) * column(x, 1) + 2.0 * (column(x, 2) * column(x, 3) * column(x, 4));
  }, 5);
  const auto r = shapley_interactions(out, filled<double>({1, 6}, 1.0), {0});
  auto pair = [](std::size_t i, std::size_t j) {
    if (i == j) return 0.0;
    if (std::min(i, j) == 0 && std::max(i, j) == 1) return 1.0;            // c = 1, k = 2
    if (i >= 2 && i <= 4 && j >= 2 && j <= 4) return 1.0;                  // c = 2, k = 3
    return 0.0;
  };
  const double phi[6] = {0.5, 0.5, 2.0 / 3, 2.0 / 3, 2.0 / 3, 0.0};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(std::fabs(r.shapley_values(0, i) - phi[i]) <= 1e-14);
    for (std::size_t j = 0; j < 6; ++j) CHECK(std::fabs(r.interactions(0, i, j) - pair(i, j)) <= 1e-14);
  }
}

TEST_CASE("shapley interaction: efficiency and the permutation definition on an MLP") {
  const auto mlp = SoftplusMlp<double>::random(5, 8, 3, 81, 10.0);
  const auto out = explain(mlp.function(), 7);
  const Tensor<double> x = seeded_uniform<double>({2, 5}, 82), base = seeded_uniform<double>({5}, 83);
  const auto r = shapley_interactions(out, x, {1, 2}, std::optional<Tensor<double>>(base));
  for (std::size_t n = 0; n < 2; ++n) {
    const std::size_t target = n + 1;
    auto v = [&](const std::vector<bool>& in) {
      Tensor<double> z = Tensor<double>::from_shape({1, 5});
      for (std::size_t i = 0; i < 5; ++i) z(0, i) = in[i] ? x(n, i) : base(i);
      return mlp.function()(Var<double>(z)).value()(0, target);
    };
    // φ_i = mean over all 5! orderings of i's marginal contribution.
    std::vector<std::size_t> order(5);
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> phi(5, 0.0);
    int count = 0;
    do {
      std::vector<bool> in(5, false);
      double before = v(in);
      for (std::size_t i : order) {
        in[i] = true;
        const double after = v(in);
        phi[i] += after - before;
        before = after;
      }
      ++count;
    } while (std::next_permutation(order.begin(), order.end()));
    double total = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      // 120-term averages of O(1) differences: rounding ~1e-15.
      CHECK(std::fabs(r.shapley_values(n, i) - phi[i] / count) <= 1e-13);
      total += r.shapley_values(n, i);
    }
    CHECK(std::fabs(total - r.output_changes[n]) <= 1e-13);  // efficiency
    for (std::size_t i = 0; i < 5; ++i)
      for (std::size_t j = 0; j < 5; ++j) CHECK(r.interactions(n, i, j) == r.interactions(n, j, i));
  }
  CHECK_THROWS_AS(shapley_interactions(out, seeded_uniform<double>({1, 11}, 1), {0}), ArgumentError);
}

TEST_CASE("shapley interaction: the pairwise index equals the merged-player permutation average on an MLP") {
  const std::size_t d = 5;
  const auto mlp = SoftplusMlp<double>::random(d, 8, 3, 91, 4.0);
  const auto out = explain(mlp.function(), 5);
  const Tensor<double> x = seeded_uniform<double>({2, d}, 92), base = seeded_uniform<double>({d}, 93);
  const auto r = shapley_interactions(out, x, {0, 2}, std::optional<Tensor<double>>(base));
  double largest = 0;
  for (std::size_t n = 0; n < 2; ++n) {
    const std::size_t target = n == 0 ? 0 : 2;
    auto v = [&](const std::vector<bool>& in) {  // the model itself, one coalition at a time
      Tensor<double> z = Tensor<double>::from_shape({1, d});
      for (std::size_t i = 0; i < d; ++i) z(0, i) = in[i] ? x(n, i) : base(i);
      return mlp.function()(Var<double>(z)).value()(0, target);
    };
    for (std::size_t i = 0; i < d; ++i) {
      CHECK(r.interactions(n, i, i) == 0.0);
      for (std::size_t j = i + 1; j < d; ++j) {
        // Players: the d − 2 others and the merged [ij] (index d − 2 below).
        std::vector<std::size_t> players;
        for (std::size_t k = 0; k < d; ++k)
          if (k != i && k != j) players.push_back(k);
        players.push_back(d);  // stands for [ij]
        std::sort(players.begin(), players.end());
        double sum = 0;
        int orderings = 0;
        do {
          std::vector<bool> in(d, false);
          for (std::size_t p : players) {
            if (p == d) break;  // S = the players before [ij]
            in[p] = true;
          }
          std::vector<bool> with_i = in, with_j = in, with_both = in;
          with_i[i] = with_both[i] = true;
          with_j[j] = with_both[j] = true;
          sum += v(with_both) - v(with_i) - v(with_j) + v(in);
          ++orderings;
        } while (std::next_permutation(players.begin(), players.end()));
        CHECK(orderings == 24);  // (d − 1)!
        const double expected = sum / orderings;
        largest = std::max(largest, std::fabs(expected));
        // 24-term means of second differences of O(1) values: rounding ~1e-15.
        CHECK(std::fabs(r.interactions(n, i, j) - expected) <= 1e-13);
        CHECK(r.interactions(n, j, i) == r.interactions(n, i, j));
      }
    }
  }
  CHECK(largest > 1e-3);  // the MLP really interacts: not a comparison of zeros
}
