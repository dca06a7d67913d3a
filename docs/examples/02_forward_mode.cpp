// Tutorial 2 (docs/02-forward-mode.md): forward mode, forward-over-reverse
// Hessian-vector products, batched tangents and full Hessians.
//
// Prints one `name = value` line per number; exits 1 if a check fails.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "docs/examples/tutorial_support.hpp"
#include "autodiff/autodiff.hpp"

// ============================================================================
// Part 1: forward mode from scratch — dual numbers.
//
// A dual number carries a value and a tangent: (v, v̇). Each operation maps
// (inputs, input tangents) to (output, output tangent) with its JVP rule,
//     (a, ȧ) · (b, ḃ) = (ab, ȧb + aḃ),   tanh(a, ȧ) = (tanh a, (1 − tanh²a) ȧ).
// Seeding x with tangent v computes J v along with f(x), in the same sweep.
namespace tiny {

struct Dual {
  double value, tangent;
};
Dual operator+(Dual a, Dual b) { return {a.value + b.value, a.tangent + b.tangent}; }
Dual operator*(Dual a, Dual b) { return {a.value * b.value, a.tangent * b.value + a.value * b.tangent}; }
Dual tanh(Dual a) {
  const double y = std::tanh(a.value);
  return {y, (1 - y * y) * a.tangent};
}

}  // namespace tiny

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

void report(const char* name, double value) { std::printf("%s = %.6e\n", name, value); }

Tensor<double> uniform(const Shape& shape, double bound, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-bound, bound);
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (auto& e : t) e = u(rng);
  return t;
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t) m = std::max(m, std::fabs(v));
  return m;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a.data()[i] - b.data()[i]));
  return m;
}

// A one-hidden-layer softplus network on one example x [d]:
//     z = W₂ s(W₁ x + b₁) + b₂,   s = softplus_β,   z ∈ R^m.
struct SoftplusMlp {
  Tensor<double> w1, b1, w2, b2;  // [h, d], [h], [m, h], [m]
  double beta;

  SoftplusMlp(std::size_t d, std::size_t h, std::size_t m, double beta_, std::uint64_t seed) : beta(beta_) {
    std::mt19937_64 rng(seed);
    w1 = uniform({h, d}, 2.5 / std::sqrt(double(d)), rng);
    b1 = uniform({h}, 0.5, rng);
    w2 = uniform({m, h}, 2.5 / std::sqrt(double(h)), rng);
    b2 = uniform({m}, 0.5, rng);
  }
  /// x [d] → logits z [m].
  Var<double> logits(const Var<double>& x) const {
    Var<double> u = matmul(Var<double>(w1), reshape(x, {x.numel(), 1}));    // [h, 1]
    Var<double> s = softplus(reshape(u, {b1.size()}) + Var<double>(b1), beta);  // [h]
    Var<double> z = matmul(Var<double>(w2), reshape(s, {b1.size(), 1}));    // [m, 1]
    return reshape(z, {b2.size()}) + Var<double>(b2);
  }
  Function<double> vector_function() const {
    return [m = *this](const Var<double>& x) { return m.logits(x); };
  }
  /// The scalar explained here: the first logit z₀.
  Function<double> scalar_function() const {
    return [m = *this](const Var<double>& x) { return select(reshape(m.logits(x), {1, m.b2.size()}), {0}); };
  }
  /// The closed form H = W₁ᵀ diag(w₂₀ ⊙ s''(u)) W₁ with s''(u) = β σ(βu)(1 − σ(βu)).
  Tensor<double> closed_form_hessian(const Tensor<double>& x) const {
    const std::size_t h = w1.shape()[0], d = w1.shape()[1];
    Tensor<double> H = filled<double>({d, d}, 0.0);
    for (std::size_t k = 0; k < h; ++k) {
      double u = b1(k);
      for (std::size_t i = 0; i < d; ++i) u += w1(k, i) * x(i);
      const double sig = 1 / (1 + std::exp(-beta * u));
      const double c = w2(0, k) * beta * sig * (1 - sig);
      for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) H(i, j) += c * w1(k, i) * w1(k, j);
    }
    return H;
  }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  // ---- part 1: dual numbers on f(x, y) = tanh(x·y) + x ----------------------
  const double x0 = 0.7, y0 = -1.3;
  const double th = std::tanh(x0 * y0);
  const double hand_dx = y0 * (1 - th * th) + 1, hand_dy = x0 * (1 - th * th);
  {
    using tiny::Dual;
    // Direction e_x gives ∂f/∂x, direction e_y gives ∂f/∂y: one sweep per direction.
    Dual fx = tiny::tanh(Dual{x0, 1} * Dual{y0, 0}) + Dual{x0, 1};
    Dual fy = tiny::tanh(Dual{x0, 0} * Dual{y0, 1}) + Dual{x0, 0};
    report("dual dfdx", fx.tangent);
    report("dual dfdy", fy.tangent);
    const double err = std::max(std::fabs(fx.tangent - hand_dx), std::fabs(fy.tangent - hand_dy));
    report("dual error_vs_hand", err);
    check(err <= 1e-14, "dual numbers reproduce the hand-derived gradient");
  }

  // ---- part 2: jvp and vjp are adjoint: ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ ---------------
  const std::size_t d = 6, h = 16, m = 3;
  const SoftplusMlp net(d, h, m, 4.0, 7);
  std::mt19937_64 rng(11);
  const Tensor<double> x = uniform({d}, 1.0, rng), v = uniform({d}, 1.0, rng), u = uniform({m}, 1.0, rng);
  {
    const Function<double> F = net.vector_function();
    const Tensor<double> Jv = jvp(F, x, v);   // forward mode: one sweep, shape [m]
    const Tensor<double> JTu = vjp(F, x, u);  // reverse mode: one sweep, shape [d]
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < m; ++i) lhs += u(i) * Jv(i);
    for (std::size_t i = 0; i < d; ++i) rhs += JTu(i) * v(i);
    report("adjoint u_dot_Jv", lhs);
    report("adjoint JTu_dot_v", rhs);
    report("adjoint abs_diff", std::fabs(lhs - rhs));
    check(std::fabs(lhs - rhs) <= 1e-12, "⟨u, Jv⟩ = ⟨Jᵀu, v⟩");

    // Batched tangents: V = identity [d, d] → all d columns of J in one sweep.
    Tensor<double> V = filled<double>({d, d}, 0.0);
    for (std::size_t i = 0; i < d; ++i) V(i, i) = 1;
    const Tensor<double> JT = jvp_batched(F, x, V);  // [d, m]: row i = J e_i
    const Tensor<double> J = jacobian(F, x);          // [m, d]
    double batched_vs_single = 0, batched_vs_jacobian = 0;
    for (std::size_t i = 0; i < d; ++i) {
      Tensor<double> e = filled<double>({d}, 0.0);
      e(i) = 1;
      const Tensor<double> column = jvp(F, x, e);
      for (std::size_t r = 0; r < m; ++r) {
        batched_vs_single = std::max(batched_vs_single, std::fabs(JT(i, r) - column(r)));
        batched_vs_jacobian = std::max(batched_vs_jacobian, std::fabs(JT(i, r) - J(r, i)));
      }
    }
    report("batched_jvp max_diff_vs_single", batched_vs_single);
    report("batched_jvp max_diff_vs_jacobian", batched_vs_jacobian);
    check(batched_vs_single <= 1e-14 && batched_vs_jacobian <= 1e-14, "batched tangents = one at a time");
  }

  // ---- part 3: Hessian-vector products --------------------------------------
  const Function<double> f = net.scalar_function();
  const Tensor<double> H_exact = net.closed_form_hessian(x);
  Tensor<double> Hv_exact = filled<double>({d}, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j < d; ++j) Hv_exact(i) += H_exact(i, j) * v(j);
  {
    const Tensor<double> Hv = hvp(f, x, v);              // forward-over-reverse
    const Tensor<double> Hv_rr = hvp_reverse(f, x, v);   // reverse-over-reverse
    report("hvp rel_error_vs_closed_form", max_relative_error(Hv, Hv_exact));
    report("hvp max_diff_vs_reverse_over_reverse", max_abs_diff(Hv, Hv_rr));
    check(max_relative_error(Hv, Hv_exact) <= 1e-13, "HVP matches the closed form");
    check(max_abs_diff(Hv, Hv_rr) <= 1e-13, "forward-over-reverse = reverse-over-reverse");
    // Finite differences of the gradient: (∇f(x + εv) − ∇f(x − εv)) / 2ε.
    for (double eps : {1e-2, 1e-3, 1e-4, 1e-5}) {
      Tensor<double> xp = x + eps * v, xm = x - eps * v;
      const Tensor<double> fd = (grad(f, xp) - grad(f, xm)) / (2 * eps);
      char name[64];
      std::snprintf(name, sizeof name, "hvp_fd eps=%.0e rel_error", eps);
      report(name, max_relative_error(fd, Hv_exact));
    }
  }

  // ---- part 4: the full Hessian from d identity tangents in one sweep -------
  {
    const Tensor<double> H = hessian(f, x);  // [d, d]
    double asym = 0;
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) asym = std::max(asym, std::fabs(H(i, j) - H(j, i)));
    report("hessian max_abs", max_abs(H));
    report("hessian rel_error_vs_closed_form", max_relative_error(H, H_exact));
    report("hessian symmetry_gap", asym);
    check(max_relative_error(H, H_exact) <= 1e-13, "Hessian matches the closed form");
    check(asym <= 1e-15 * max_abs(H) * d, "Hessian is symmetric to rounding");
    std::printf("# H (6x6) =\n");
    for (std::size_t i = 0; i < d; ++i) {
      std::printf("#");
      for (std::size_t j = 0; j < d; ++j) std::printf(" %9.5f", H(i, j));
      std::printf("\n");
    }
  }

  // ---- part 5: batched versus one direction at a time (timing, not checked) -
  {
    const std::size_t big_d = 128;
    const SoftplusMlp big(big_d, 256, 10, 4.0, 13);
    const Function<double> g = big.scalar_function();
    const Tensor<double> xb = uniform({big_d}, 1.0, rng);
    auto batched = [&] { return hessian(g, xb); };  // one sweep, k = 128 tangents
    auto looped = [&] {                                // 128 sweeps, one tangent each
      Tensor<double> H = filled<double>({big_d, big_d}, 0.0);
      for (std::size_t i = 0; i < big_d; ++i) {
        Tensor<double> e = filled<double>({big_d}, 0.0);
        e(i) = 1;
        const Tensor<double> column = hvp(g, xb, e);  // H e_i, column i of H = ∂(∇g)/∂x
        for (std::size_t r = 0; r < big_d; ++r) H(r, i) = column(r);
      }
      return H;
    };
    // Best of 5 runs after a warm-up (the first run pays for memory the
    // allocator has not handed out yet).
    Tensor<double> H_batched = batched(), H_loop = looped();
    double t_batched = 1e9, t_loop = 1e9;
    for (int repeat = 0; repeat < 5; ++repeat) {
      auto start = std::chrono::steady_clock::now();
      H_batched = batched();
      t_batched = std::min(t_batched, seconds_since(start));
      start = std::chrono::steady_clock::now();
      H_loop = looped();
      t_loop = std::min(t_loop, seconds_since(start));
    }
    report("hessian_d128 max_diff_batched_vs_loop", max_abs_diff(H_batched, H_loop));
    check(max_relative_error(H_batched, H_loop) <= 1e-13, "batched and looped Hessians agree");
    std::printf("time hessian_d128 batched_ms = %.2f\n", 1e3 * t_batched);
    std::printf("time hessian_d128 loop_ms = %.2f\n", 1e3 * t_loop);
    std::printf("time hessian_d128 speedup = %.1f\n", t_loop / t_batched);
  }

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
