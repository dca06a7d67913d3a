// Synthetic data made in code, reproducible bit for bit from a seed:
//  * the Integrated Hessians paper's regression task with planted pairwise
//    interactions: x ~ N(0, I_d), y = Σ_{(i,j) planted} term(x_i, x_j);
//  * small seeded helpers: standard normal tensors and permutations.
//
// Randomness comes only from std::mt19937_64 (whose output sequence the C++
// standard fixes) through our own Box–Muller normal and our own unbiased
// integer draw, so results do not depend on the standard library's
// distribution implementations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// The planted pair term: Product x_i x_j, Max max(x_i, x_j), Min min(x_i, x_j),
/// Cos cos(x_i + x_j), Tanh tanh(x_i + x_j).
enum class InteractionKind { Product, Max, Min, Cos, Tanh };

/// "product" | "max" | "min" | "cos" | "tanh" (throws InputError otherwise).
InteractionKind parse_interaction_kind(const std::string& name);
std::string to_string(InteractionKind kind);

/// term(a, b) for the given kind (see InteractionKind).
double interaction_term(InteractionKind kind, double a, double b);

struct InteractionDataset {
  Tensor<double> x;                         // [n, d], x ~ N(0, I_d)
  Tensor<double> y;                         // [n], y[s] = Σ_p pair_terms[s, p]
  std::vector<std::pair<int, int>> pairs;   // planted pairs (i < j), sorted
  Tensor<double> pair_terms;                // [n, pairs.size()], term(x[s,i], x[s,j])
};

/// n samples in d dimensions with num_pairs planted pairs of the given kind.
/// Pairs are drawn with the seed: disjoint (no shared feature) when
/// 2·num_pairs ≤ d, otherwise distinct pairs (needs num_pairs ≤ d(d−1)/2).
/// x does not depend on kind or num_pairs (it has its own seed stream).
InteractionDataset make_interaction_dataset(int n, int d, InteractionKind kind, int num_pairs,
                                            std::uint64_t seed);

/// The strongest planted pair of one sample: pairs[argmax_p |pair_terms[sample, p]|]
/// (the first one on ties).
std::pair<int, int> strongest_planted_pair(const InteractionDataset& data, int sample);

/// A tensor of the given shape with independent N(0, 1) entries (row-major order).
Tensor<double> gaussian(const Shape& shape, std::uint64_t seed);

/// A uniformly random permutation of 0..n−1 (Fisher–Yates).
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed);

}  // namespace fluxion
