// Tests for nn/data/synthetic: the planted-interaction dataset (determinism,
// pair choice, consistency of y and pair terms, strongest pair) and the
// seeded normal / permutation helpers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "autodiff/errors.hpp"
#include "nn/data/synthetic.hpp"

using namespace fluxion;

namespace {

const InteractionKind kAllKinds[] = {InteractionKind::Product, InteractionKind::Max, InteractionKind::Min,
                                     InteractionKind::Cos, InteractionKind::Tanh};

bool same(const Tensor<double>& a, const Tensor<double>& b) {
  return shape_of(a) == shape_of(b) && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("interaction dataset is deterministic for a seed and differs across seeds") {
  const InteractionDataset a = make_interaction_dataset(50, 10, InteractionKind::Product, 3, 42);
  const InteractionDataset b = make_interaction_dataset(50, 10, InteractionKind::Product, 3, 42);
  CHECK(same(a.x, b.x));
  CHECK(same(a.y, b.y));
  CHECK(same(a.pair_terms, b.pair_terms));
  CHECK(a.pairs == b.pairs);

  const InteractionDataset c = make_interaction_dataset(50, 10, InteractionKind::Product, 3, 43);
  CHECK_FALSE(same(a.x, c.x));
  CHECK_FALSE(same(a.y, c.y));
  std::set<std::vector<std::pair<int, int>>> pair_sets;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    pair_sets.insert(make_interaction_dataset(1, 10, InteractionKind::Product, 3, seed).pairs);
  }
  CHECK(pair_sets.size() > 5);
}

TEST_CASE("x has its own seed stream: it does not depend on the kind or the number of pairs") {
  const InteractionDataset a = make_interaction_dataset(20, 8, InteractionKind::Cos, 1, 7);
  const InteractionDataset b = make_interaction_dataset(20, 8, InteractionKind::Min, 4, 7);
  CHECK(same(a.x, b.x));
}

TEST_CASE("shapes, and y is the sum of the planted pair terms") {
  for (InteractionKind kind : kAllKinds) {
    CAPTURE(to_string(kind));
    const InteractionDataset data = make_interaction_dataset(40, 9, kind, 4, 5);
    REQUIRE(shape_of(data.x) == Shape{40, 9});
    REQUIRE(shape_of(data.y) == Shape{40});
    REQUIRE(shape_of(data.pair_terms) == Shape{40, 4});
    REQUIRE(data.pairs.size() == 4);
    for (std::size_t s = 0; s < 40; ++s) {
      double total = 0;
      for (std::size_t p = 0; p < data.pairs.size(); ++p) {
        const auto [i, j] = data.pairs[p];
        CHECK(data.pair_terms(s, p) == interaction_term(kind, data.x(s, i), data.x(s, j)));
        total += data.pair_terms(s, p);
      }
      CHECK(data.y(s) == doctest::Approx(total).epsilon(1e-15));
    }
  }
}

TEST_CASE("interaction terms follow their formulas") {
  CHECK(interaction_term(InteractionKind::Product, 2.0, -3.0) == -6.0);
  CHECK(interaction_term(InteractionKind::Max, 2.0, -3.0) == 2.0);
  CHECK(interaction_term(InteractionKind::Min, 2.0, -3.0) == -3.0);
  CHECK(interaction_term(InteractionKind::Cos, 0.5, 0.25) == std::cos(0.75));
  CHECK(interaction_term(InteractionKind::Tanh, 0.5, 0.25) == std::tanh(0.75));
  for (InteractionKind kind : kAllKinds) CHECK(parse_interaction_kind(to_string(kind)) == kind);
  CHECK_THROWS_AS(parse_interaction_kind("sum"), InputError);
}

TEST_CASE("planted pairs are ordered, distinct, and disjoint when 2*num_pairs <= d") {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const InteractionDataset data = make_interaction_dataset(1, 10, InteractionKind::Max, 5, seed);
    std::set<int> features;
    for (const auto& [i, j] : data.pairs) {
      CHECK(i < j);
      CHECK(i >= 0);
      CHECK(j < 10);
      features.insert(i);
      features.insert(j);
    }
    CHECK(features.size() == 10);  // 5 disjoint pairs use all 10 features
    CHECK(std::is_sorted(data.pairs.begin(), data.pairs.end()));
  }
  // More pairs than disjointness allows: all 6 pairs of 4 features, each once.
  const InteractionDataset full = make_interaction_dataset(3, 4, InteractionKind::Tanh, 6, 9);
  CHECK(full.pairs == std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}});
  const InteractionDataset overlapping = make_interaction_dataset(3, 5, InteractionKind::Tanh, 4, 9);
  CHECK(std::set<std::pair<int, int>>(overlapping.pairs.begin(), overlapping.pairs.end()).size() == 4);
}

TEST_CASE("strongest planted pair is the argmax of |pair term|") {
  const InteractionDataset data = make_interaction_dataset(30, 12, InteractionKind::Product, 4, 11);
  std::set<std::pair<int, int>> seen;
  for (int s = 0; s < 30; ++s) {
    const auto strongest = strongest_planted_pair(data, s);
    const auto p = std::find(data.pairs.begin(), data.pairs.end(), strongest) - data.pairs.begin();
    for (std::size_t q = 0; q < data.pairs.size(); ++q) {
      CHECK(std::fabs(data.pair_terms(s, p)) >= std::fabs(data.pair_terms(s, q)));
    }
    seen.insert(strongest);
  }
  CHECK(seen.size() > 1);  // the strongest pair varies from sample to sample

  InteractionDataset hand;
  hand.pairs = {{0, 1}, {2, 3}};
  hand.pair_terms = Tensor<double>{{0.5, -2.0}, {1.0, 1.0}};
  CHECK(strongest_planted_pair(hand, 0) == std::pair<int, int>{2, 3});
  CHECK(strongest_planted_pair(hand, 1) == std::pair<int, int>{0, 1});  // first on ties
  CHECK_THROWS_AS(strongest_planted_pair(hand, 2), InputError);
  CHECK_THROWS_AS(strongest_planted_pair(hand, -1), InputError);
}

TEST_CASE("interaction dataset rejects bad arguments") {
  CHECK_THROWS_AS(make_interaction_dataset(0, 5, InteractionKind::Product, 1, 0), InputError);
  CHECK_THROWS_AS(make_interaction_dataset(5, 1, InteractionKind::Product, 1, 0), InputError);
  CHECK_THROWS_AS(make_interaction_dataset(5, 4, InteractionKind::Product, 0, 0), InputError);
  CHECK_THROWS_AS(make_interaction_dataset(5, 4, InteractionKind::Product, 7, 0), InputError);
  CHECK_THROWS_AS(make_interaction_dataset(1 << 20, 1 << 10, InteractionKind::Product, 1, 0), InputError);
}

TEST_CASE("gaussian: deterministic standard normal samples") {
  const Tensor<double> a = gaussian({200, 500}, 3);
  CHECK(same(a, gaussian({200, 500}, 3)));
  CHECK_FALSE(same(a, gaussian({200, 500}, 4)));
  const double n = static_cast<double>(a.size());
  double mean = 0, second = 0, fourth = 0;
  CHECK(std::all_of(a.begin(), a.end(), [](double v) { return std::isfinite(v); }));
  for (double v : a) {
    mean += v / n;
    second += v * v / n;
    fourth += v * v * v * v / n;
  }
  CHECK(std::fabs(mean) < 0.01);           // standard error 1/√n ≈ 0.003
  CHECK(std::fabs(second - 1.0) < 0.02);   // standard error √2/√n ≈ 0.0045
  CHECK(std::fabs(fourth - 3.0) < 0.1);    // E z⁴ = 3
  CHECK(shape_of(gaussian({2, 3, 4}, 0)) == Shape{2, 3, 4});
}

TEST_CASE("permutation: a seeded uniform shuffle") {
  const std::vector<std::size_t> p = permutation(100, 1);
  std::vector<std::size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 100; ++i) CHECK(sorted[i] == i);
  CHECK(p == permutation(100, 1));
  CHECK(p != permutation(100, 2));
  CHECK(permutation(0, 5).empty());
  CHECK(permutation(1, 5) == std::vector<std::size_t>{0});

  std::map<std::vector<std::size_t>, int> counts;  // all 6 orders of 3 items, ≈ 1000 each
  for (std::uint64_t seed = 0; seed < 6000; ++seed) ++counts[permutation(3, seed)];
  CHECK(counts.size() == 6);
  for (const auto& [order, count] : counts) CHECK(std::abs(count - 1000) < 150);  // σ ≈ 29
}
