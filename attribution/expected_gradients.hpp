// Expected Gradients (Erion, Janizek, Sturmfels, Lundberg & Lee, "Improving
// performance of deep learning models with axiomatic attribution priors and
// expected gradients", Nature Machine Intelligence 2021):
//
//     EG_i(x) = E_{x' ~ D, α ~ U(0,1)} [ (x_i − x'_i) ∂_i f(x' + α (x − x')) ]
//             ≈ (1/n) Σ_s (x_i − x'_s,i) ∂_i f(x'_s + α_s (x − x'_s))
//
// IG averaged over baselines drawn from a reference data set D, estimated by
// Monte Carlo with one (x'_s, α_s) pair per sample. Completeness holds in
// expectation: Σ_i EG_i = f(x) − E_D f(x'); the returned gap compares with the
// mean output over the WHOLE reference set, so it is the Monte Carlo error
// and falls like 1/√n.
//
// Sampling: one seeded mt19937_64 draws (reference index, α) in the fixed
// order (example, sample), so results depend on the seed, not on batch_size.
#pragma once

#include <cstdint>

#include "attribution/path_integral.hpp"

namespace fluxion {

struct ExpectedGradientsOptions {
  std::size_t samples = 200;  // n Monte Carlo samples per example
  std::uint64_t seed = 0;
};

/// EG_i = (1/n) Σ_s (x_i − x'_s,i) ∂_i f(x'_s + α_s (x − x'_s)),  x'_s ~ references, α_s ~ U(0, 1).
/// EG for every example of x[N, ...]; references[R, ...] share x's example
/// shape. output_changes[n] = f(x_n) − E_D f(x'), completeness_gaps[n] = |Σ EG_n − that|.
template <class T>
PathAttributions<T> expected_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                       const Tensor<T>& references, const std::vector<std::size_t>& targets = {},
                                       const ExpectedGradientsOptions& options = {});

}  // namespace fluxion
