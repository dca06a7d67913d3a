// NeFLAG — Negative Flux Aggregation.
//
// Li, Pan, Li, Qiang & Zhu, "Negative Flux Aggregation to Estimate Feature
// Attributions", IJCAI 2023 (arXiv 2301.06989).
//
// Not a path method: NeFLAG looks at the gradient field F(z) = ∇f(z) on a
// small sphere S = {z : ‖z − x‖₂ = ε} around the input. With the outward
// normal n̂(z) = (z − x)/ε the flux density is φ(z) = F(z)·n̂(z), and the
// divergence theorem ties the total flux to the curvature inside:
//     ∮_S φ dS = ∫_{ball} div F dV = ∫_{ball} trace(∇²f) dV.
// The attribution aggregates the *negative* flux — where the field enters the
// sphere — into a vector.
//
// ---- RECONSTRUCTED (begin) ------------------------------------------------
// The paper's method section could not be read and no code is published.
// Known: the field, the divergence theorem, "aggregate negative flux", the
// signature NeFLAG(f, x, n, S_x, ε, m), n = 20 points, ε = 0.1. Everything
// below is a reconstruction (shared/papers/neflag.md), and each of its open
// choices is an option:
//  1. aggregation (NeFLAGAggregation):
//       flux_vector   A = (1/n) Σ_{φ_k<0} φ_k n̂_k   (default; E[A] ∥ w if f = wᵀx)
//       feature_flux  A = −(1/n) Σ_{φ_k<0} F_k ⊙ n̂_k (per-feature inflow;
//                     Σ_i A_i = −(1/n) Σ_{φ_k<0} φ_k ≥ 0)
//       field         A = (1/n) Σ_{φ_k<0} F_k
//  2. how the n points are found (NeFLAGSearch):
//       random (default): n distinct random points of negative flux, as the
//         paper's "random negative flux points" (NeFLAG-1/10/20 differ by n):
//         draw u/‖u‖ (u ~ N(0, I)), uniform on the sphere, and keep the draws
//         with φ < 0 until n are found. The cap: at most
//         max_draws_per_point · n draws per example (64 n by default); an
//         example that finds fewer reports how many in negative_points and
//         divides by that number (0 found: A = 0). Each example's stream is
//         seeded by (seed, example index), so results do not depend on the
//         batch. n counts negative-flux points, and the accepted points are
//         independent draws, so A is a mean of n i.i.d. terms and its
//         variance is exactly Var[one term]/n.
//         Linear f = wᵀz (constant field F = w, d features): write
//         n̂ = t ŵ + √(1−t²) v with t = ŵ·n̂ and v uniform on the unit sphere
//         ⊥ ŵ. An accepted n̂ has t < 0, and t², v keep their unconditioned
//         laws, so with E t² = 1/d, E t⁴ = 3/(d(d+2)), E v_i² = (1 − ŵ_i²)/(d−1)
//         and E|t| = c_d = Γ(d/2)/(√π Γ((d+1)/2)):
//           flux_vector   term φ n̂ = ‖w‖(t² ŵ + t√(1−t²) v):
//                         E[A] = w/d, Var[A_i] = (w_i²(d−2)/d + ‖w‖²) / (d(d+2) n),
//                         E‖A − w/d‖² = ‖w‖²(d−1)/(d² n),
//                         so cos(A, w) ≈ 1/√(1 + (d−1)/n) (0.16 for d = 784, n = 20);
//           feature_flux  term −w ⊙ n̂: E[A] = c_d · w ⊙ w/‖w‖,
//                         Var[A_i] = w_i² (1/d − c_d² ŵ_i²) / n;
//           field         term w: A = w exactly, for every n.
//         The Monte Carlo error of every entry falls like 1/√n. The price:
//         with flux_vector (and feature_flux) a feature the model ignores
//         (F_i ≡ 0) gets φ n̂_i, of mean 0 but not 0 — the dummy axiom fails
//         by this Monte Carlo error, falling like 1/√n; the guided points
//         converge to −F̂, whose dummy entries are 0.
//       guided: start at n random points u/‖u‖ (u ~ N(0, I)) and take m
//         descent steps of f *on the sphere*: rotate n̂ along the great
//         circle towards −F by the angle min(s, ∠(n̂, −F)), landing exactly
//         on −F̂ when it is within reach, so that for a uniform field the
//         point has the most negative flux. (The notes' step
//         normalize(n̂ − s·F_t/‖F_t‖) turns by atan s every time and keeps
//         circling the minimum; the cap is our choice.) All n points
//         converge to the same minimum, so NeFLAG-1, -10 and -20 agree —
//         the reason it is no longer the default (issue 20).
//       plain: the random points as drawn (in d = 784 they are almost
//         orthogonal to F: for a linear f, cos(A, w) ≈ √(n/(2d)), since only the
//         ≈ n/2 inflow points count).
//     The default aggregation stays flux_vector with the random search: it is
//     the notes' reading of "aggregate the negative flux" (the flux vector
//     φ n̂ dS of each inflow element). The notes' check "A ∥ w on a linear
//     model for any n ≥ 1" then holds only as n grows (cos above); `field`
//     meets it for every n, but it aggregates the gradient, not the flux
//     (φ enters only through its sign: a half-sphere SmoothGrad), so it is
//     an option, compared in `fluxion reproduce neflag`, not the default.
//     (There, on MNIST, the default rises with n, as the paper's table does,
//     but stays far below SmoothGrad; `field` and `guided` score close to the
//     gradient methods and do not rise: no variant reproduces the paper's
//     ordering. The experiment's report gives the numbers.)
//  3. ε (radius), m (search_steps), s (angular step);
//  4. f = softmax probability (default, as in the authors' AGI) or logit;
//  5. n, the number of points (random: n counts the negative-flux points
//     themselves, as in the paper; guided and plain: n starting points, those
//     whose final flux is ≥ 0 are dropped, but the mean still divides by n).
// Completeness is not claimed: NeFLAG has no baseline.
// ---- RECONSTRUCTED (end) --------------------------------------------------
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attribution/explained_output.hpp"

namespace fluxion {

enum class NeFLAGAggregation { flux_vector, feature_flux, field };
enum class NeFLAGSearch { random, guided, plain };

/// "flux_vector" | "feature_flux" | "field" (ArgumentError otherwise).
NeFLAGAggregation parse_neflag_aggregation(const std::string& name);
/// "random" | "guided" | "plain" (ArgumentError otherwise).
NeFLAGSearch parse_neflag_search(const std::string& name);

struct NeFLAGOptions {
  std::size_t points = 20;   // n sphere points per example (NeFLAG-n)
  double radius = 0.1;       // ε, the sphere's radius (the paper's ImageNet value)
  NeFLAGSearch search = NeFLAGSearch::random;  // n random negative-flux points (the paper's); guided / plain: options
  int search_steps = 20;     // m descent steps on the sphere (guided only)
  std::size_t max_draws_per_point = 64;  // random: the cap, at most this many draws per negative-flux point
  double angular_step = 0.2; // s, the largest rotation per step in radians; m·s ≥ π reaches any point
  NeFLAGAggregation aggregation = NeFLAGAggregation::flux_vector;
  /// f: the softmax probability of the class; std::nullopt: use out.kind.
  std::optional<OutputKind> output = OutputKind::probability;
  std::uint64_t seed = 0;    // the random starting points
};

template <class T>
struct NeFLAGResult {
  Tensor<T> attributions;                    // shape of x: [N, ...]
  std::vector<std::size_t> negative_points;  // per example: how many of the n points had φ < 0 (random: found)
  std::size_t gradient_evaluations = 0;      // random: the draws (≤ N · n · max_draws_per_point); guided: N · n · (m + 1)
};

/// A = (1/n) Σ_{k: φ_k<0} φ_k n̂_k,  φ_k = ∇f(z_k)·n̂_k, z_k = x + ε n̂_k on the sphere (default aggregation; RECONSTRUCTED).
/// NeFLAG of every example of x[N, ...] for classes `targets` (size N, or empty
/// for the predicted classes). Random search: one batched gradient call per
/// round of draws over the examples still short of n points; guided: all N·n
/// sphere points are moved together, one batched gradient call per search step.
template <class T>
NeFLAGResult<T> neflag(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets,
                       const NeFLAGOptions& options = {});

/// The total flux ∮_S ∇f·n̂ dS of the explained output through the sphere of
/// `radius` around one example x (no batch axis) with 2 or 3 values:
///   d = 2: the circle, `resolution` equally spaced angles (the periodic
///          trapezoid rule, spectrally accurate): (2πε/M) Σ_k φ(θ_k);
///   d = 3: Gauss–Legendre in cos θ (`resolution` nodes) × 2·resolution equally
///          spaced azimuths, dS = ε² d(cos θ) dϕ.
/// For checking the divergence theorem; ShapeError for other dimensions.
template <class T>
double sphere_total_flux(const ExplainedOutput<T>& out, const Tensor<T>& x, std::size_t target, double radius,
                         std::size_t resolution);

}  // namespace fluxion
