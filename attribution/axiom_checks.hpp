// The axiom gaps of one method call, as numbers with their bounds: what
// `fluxion check` prints and fluxion.check (Python) returns.
//
//   completeness             |Σ A − Δ| / |Δ|,  Δ = f(x) − f(reference)     path methods        ≤ T
//   interaction completeness |Σ_ij Γ_ij − Δ| / |Δ|                          ih, eh              ≤ T
//   row completeness         max_i |Σ_j Γ_ij − IG_i| / max_i |IG_i|         ih (IG, same baseline) ≤ T
//   symmetry                 max |Γ_ij − Γ_ji| / max |Γ_ij|                 interaction methods ≤ rounding
//
// Each is relative to the largest example (absolute where the denominator
// is 0; worst over the batch). T is the caller's tolerance. Symmetry holds
// exactly in exact arithmetic (Γ comes from a symmetric Hessian), so its
// bound is rounding only: 1e-9 in double, 1e-4 in float. Completeness
// (Sundararajan et al. 2017, §3) and the row identity Σ_j Γ_ij = IG_i
// (Janizek et al. 2021, eq. 4) are the two identities the papers prove.
#pragma once

#include <string>
#include <vector>

#include "attribution/method_registry.hpp"

namespace fluxion {

/// gap / scale, or the gap itself when scale = 0 (nothing to be relative to).
inline double relative_gap(double gap, double scale) { return scale > 0 ? gap / scale : gap; }

/// The worst relative completeness gap of a batch: max_n |gap_n| / |Δ_n|
/// (absolute where Δ_n = 0).
double worst_relative_gap(const std::vector<double>& gaps, const std::vector<double>& output_changes);

/// The rounding-only bound of the symmetry gap in precision T.
template <class T>
constexpr double symmetry_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-4 : 1e-9;
}

/// One axiom's measured gap and the bound it is held to.
struct AxiomGap {
  std::string axiom;       // "completeness", "interaction completeness", "row completeness", "symmetry"
  double relative_gap = 0;
  double tolerance = 0;
  std::string note;        // what the gap is relative to, the reference, ...
  bool holds() const { return relative_gap <= tolerance; }
};

template <class T>
struct AxiomCheck {
  MethodOutput<T> output;     // the method's result
  std::vector<AxiomGap> gaps; // every axiom that applies to the method, in the order above
};

/// Runs `method` once and measures every axiom gap that applies to it, each
/// held to `tolerance` (symmetry to symmetry_tolerance<T>()). Row
/// completeness compares IH with IG on 128 Gauss–Legendre nodes from the same
/// baseline.
template <class T>
AxiomCheck<T> check_axioms(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& classes, const MethodSettings<T>& settings,
                           double tolerance);

}  // namespace fluxion
