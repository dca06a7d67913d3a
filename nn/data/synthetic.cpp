// Synthetic data: planted-interaction regression (Integrated Hessians paper),
// seeded normal tensors and permutations. See synthetic.hpp.
#include "nn/data/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <random>
#include <set>

#include "autodiff/errors.hpp"

namespace fluxion {
namespace {

/// Largest number of entries make_interaction_dataset will allocate for x.
constexpr std::size_t kMaxEntries = std::size_t{1} << 28;

/// SplitMix64 finaliser of seed + stream·φ: independent seeds for the parts of one dataset.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + (stream + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Uniform double in [0, 1): the top 53 bits of one draw times 2⁻⁵³.
double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Uniform integer in [0, bound) without modulo bias: reject the top
/// 2⁶⁴ mod bound values, then reduce modulo bound.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t excess = (max % bound + 1) % bound;  // 2⁶⁴ mod bound
  std::uint64_t r = rng();
  while (r > max - excess) r = rng();
  return r % bound;
}

/// Box–Muller: u₁ ∈ (0,1], u₂ ∈ [0,1) give two N(0,1) values
/// r cos(2πu₂), r sin(2πu₂) with r = √(−2 ln u₁); the second is kept for the next call.
class NormalStream {
 public:
  explicit NormalStream(std::uint64_t seed) : rng_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform01(rng_), u2 = uniform01(rng_);
    const double r = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

std::pair<int, int> ordered(std::size_t a, std::size_t b) {
  return {static_cast<int>(std::min(a, b)), static_cast<int>(std::max(a, b))};
}

/// Disjoint pairs: consecutive entries of a random permutation of the features.
std::vector<std::pair<int, int>> disjoint_pairs(int d, int num_pairs, std::uint64_t seed) {
  const std::vector<std::size_t> order = permutation(static_cast<std::size_t>(d), seed);
  std::vector<std::pair<int, int>> pairs;
  for (int p = 0; p < num_pairs; ++p) pairs.push_back(ordered(order[2 * p], order[2 * p + 1]));
  return pairs;
}

/// Distinct (possibly overlapping) pairs: draw (i, j), i ≠ j, reject repeats.
std::vector<std::pair<int, int>> distinct_pairs(int d, int num_pairs, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<std::pair<int, int>> chosen;
  while (chosen.size() < static_cast<std::size_t>(num_pairs)) {
    const std::uint64_t i = uniform_below(rng, d), j = uniform_below(rng, d);
    if (i != j) chosen.insert(ordered(i, j));
  }
  return {chosen.begin(), chosen.end()};
}

void check_dataset_arguments(int n, int d, int num_pairs) {
  const auto fail = [](const std::string& what) { throw InputError("interaction dataset: " + what); };
  if (n < 1) fail("needs at least one sample, got n = " + std::to_string(n));
  if (d < 2) fail("needs at least two features, got d = " + std::to_string(d));
  if (static_cast<std::size_t>(n) * static_cast<std::size_t>(d) > kMaxEntries) {
    fail("n·d = " + std::to_string(static_cast<std::size_t>(n) * d) + " entries is too large");
  }
  const long long possible = static_cast<long long>(d) * (d - 1) / 2;
  if (num_pairs < 1 || num_pairs > possible) {
    fail("num_pairs must be between 1 and d(d-1)/2 = " + std::to_string(possible) + ", got " +
         std::to_string(num_pairs));
  }
}

}  // namespace

InteractionKind parse_interaction_kind(const std::string& name) {
  if (name == "product") return InteractionKind::Product;
  if (name == "max") return InteractionKind::Max;
  if (name == "min") return InteractionKind::Min;
  if (name == "cos") return InteractionKind::Cos;
  if (name == "tanh") return InteractionKind::Tanh;
  throw InputError("unknown interaction kind '" + name + "' (expected product, max, min, cos or tanh)");
}

std::string to_string(InteractionKind kind) {
  switch (kind) {
    case InteractionKind::Product: return "product";
    case InteractionKind::Max: return "max";
    case InteractionKind::Min: return "min";
    case InteractionKind::Cos: return "cos";
    case InteractionKind::Tanh: return "tanh";
  }
  throw InputError("invalid InteractionKind value");
}

double interaction_term(InteractionKind kind, double a, double b) {
  switch (kind) {
    case InteractionKind::Product: return a * b;
    case InteractionKind::Max: return std::max(a, b);
    case InteractionKind::Min: return std::min(a, b);
    case InteractionKind::Cos: return std::cos(a + b);
    case InteractionKind::Tanh: return std::tanh(a + b);
  }
  throw InputError("invalid InteractionKind value");
}

InteractionDataset make_interaction_dataset(int n, int d, InteractionKind kind, int num_pairs,
                                            std::uint64_t seed) {
  check_dataset_arguments(n, d, num_pairs);
  InteractionDataset data;
  data.x = gaussian({static_cast<std::size_t>(n), static_cast<std::size_t>(d)}, derive_seed(seed, 0));
  data.pairs = 2 * num_pairs <= d ? disjoint_pairs(d, num_pairs, derive_seed(seed, 1))
                                  : distinct_pairs(d, num_pairs, derive_seed(seed, 1));
  std::sort(data.pairs.begin(), data.pairs.end());
  data.pair_terms = Tensor<double>::from_shape({static_cast<std::size_t>(n), data.pairs.size()});
  data.y = Tensor<double>::from_shape({static_cast<std::size_t>(n)});
  for (int s = 0; s < n; ++s) {
    double total = 0;
    for (std::size_t p = 0; p < data.pairs.size(); ++p) {
      const auto [i, j] = data.pairs[p];
      total += data.pair_terms(s, p) = interaction_term(kind, data.x(s, i), data.x(s, j));
    }
    data.y(s) = total;
  }
  return data;
}

std::pair<int, int> strongest_planted_pair(const InteractionDataset& data, int sample) {
  const Shape shape = shape_of(data.pair_terms);
  if (shape.size() != 2 || shape[1] != data.pairs.size() || shape[1] == 0) {
    throw ShapeError("strongest_planted_pair: pair_terms has shape " + shape_str(shape) + " for " +
                     std::to_string(data.pairs.size()) + " planted pairs");
  }
  if (sample < 0 || static_cast<std::size_t>(sample) >= shape[0]) {
    throw InputError("strongest_planted_pair: sample " + std::to_string(sample) + " is outside [0, " +
                     std::to_string(shape[0]) + ")");
  }
  std::size_t best = 0;
  for (std::size_t p = 1; p < shape[1]; ++p) {
    if (std::fabs(data.pair_terms(sample, p)) > std::fabs(data.pair_terms(sample, best))) best = p;
  }
  return data.pairs[best];
}

Tensor<double> gaussian(const Shape& shape, std::uint64_t seed) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  NormalStream normal(seed);
  for (double& v : t) v = normal.next();
  return t;
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[uniform_below(rng, i)]);
  return order;
}

}  // namespace fluxion
