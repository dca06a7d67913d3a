// Tutorial 3, "Why IG: the axioms" (docs/03-integrated-gradients.md): the
// three axioms of Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
// Networks" (ICML 2017, §2–§4), each with its classic counterexample.
//
//   Sensitivity(a): if x and x′ differ in one feature and f(x) ≠ f(x′), that
//     feature gets a non-zero attribution. The gradient fails it on the
//     saturating f(x) = 1 − ReLU(1 − x) (the paper's §2.1 example): at x = 2,
//     x′ = 0, f changes by 1 but ∂f/∂x(2) = 0. IG = 2 · ∫₀¹ f′(2t) dt = 1.
//   Implementation invariance: two programs computing the same function get
//     the same attributions. IG uses only ∂f, which belongs to the function,
//     not to the graph: f_A(x) = tanh(x₀x₁) + x₀ and
//     f_B(x) = tanh(x₀x₁) + ReLU(x₀) − ReLU(−x₀) (= f_A, since ReLU(a) −
//     ReLU(−a) = a) give the same IG.
//   Symmetry preservation (§4): if f(x₀, x₁) = f(x₁, x₀) and x, x′ have equal
//     entries, the two features get equal attributions. The straight line keeps
//     it; the path that moves x₀ first, then x₁ (a path method too, §4) breaks
//     it: for f = tanh(x₀ + x₁), x = (1, 1), x′ = 0 it gives
//     A₀ = tanh 1 − tanh 0 and A₁ = tanh 2 − tanh 1.
//
// Prints one `name = value` line per number; exits 1 if a check fails.
#include <cmath>
#include <cstdio>
#include <vector>

#include "attribution/integrated_gradients.hpp"
#include "docs/examples/tutorial_support.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

void report(const char* name, double value) { std::printf("%s = %.17g\n", name, value); }

/// A tensor of zeros (from_shape leaves the values unset).
Tensor<double> zeros(const Shape& shape) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  t.fill(0.0);
  return t;
}

/// Column j of x [N, 2] as [N, 1] (x times the unit column e_j).
Var<double> column(const Var<double>& x, std::size_t j) {
  Tensor<double> e = zeros({2, 1});
  e(j, 0) = 1.0;
  return matmul(x, Var<double>(e));
}

/// IG of output 0 of `model` at x [1, d] from the baseline zeros, with n
/// Gauss–Legendre nodes.
PathAttributions<double> ig_from_zero(const Function<double>& model, const Tensor<double>& x, int n) {
  ExplainedOutput<double> out;
  out.model = model;
  IntegratedGradientsOptions<double> options;  // black baseline: x′ = 0
  options.steps = n;
  return integrated_gradients(out, x, {0}, options);
}

}  // namespace

int main() {
  // ---- Sensitivity(a): a saturating function ---------------------------------
  // f(x) = 1 − ReLU(1 − x): f rises with slope 1 up to x = 1, then stays at 1.
  Function<double> saturating = [](const Var<double>& x) {
    return Var<double>(Tensor<double>{1.0}) - relu(Var<double>(Tensor<double>{1.0}) - x);
  };
  Tensor<double> x1 = zeros({1, 1});
  x1(0, 0) = 2.0;
  const double grad_at_x = grad(Function<double>([&](const Var<double>& v) { return sum(saturating(v)); }), x1)(0, 0);
  report("sensitivity gradient", grad_at_x);
  report("sensitivity gradient_times_input", grad_at_x * x1(0, 0));
  // An even number of Gauss–Legendre nodes puts half the weight on t < ½
  // (where f′(2t) = 1) and half on t > ½ (f′ = 0): IG = 2 · ½ = 1 exactly.
  const PathAttributions<double> ig_sat = ig_from_zero(saturating, x1, 16);
  report("sensitivity f_x_minus_f_baseline", ig_sat.output_changes[0]);  // f(2) − f(0) = 1 − 0
  report("sensitivity ig", ig_sat.attributions(0, 0));
  report("sensitivity ig_gap", ig_sat.completeness_gaps[0]);
  check(grad_at_x == 0.0, "the gradient of 1 − ReLU(1 − x) vanishes at x = 2");
  check(std::fabs(ig_sat.attributions(0, 0) - 1.0) <= 1e-14, "IG of the saturating function is 1");

  // ---- Implementation invariance: one function, two graphs -------------------
  Function<double> f_a = [](const Var<double>& x) {
    Var<double> a = column(x, 0), b = column(x, 1);
    return tanh(a * b) + a;
  };
  Function<double> f_b = [](const Var<double>& x) {
    Var<double> a = column(x, 0), b = column(x, 1);
    return tanh(a * b) + (relu(a) - relu(neg(a)));  // ReLU(a) − ReLU(−a) = a
  };
  Tensor<double> x2 = zeros({1, 2});
  x2(0, 0) = 0.7, x2(0, 1) = -1.3;  // tutorial 1's point
  const PathAttributions<double> ig_a = ig_from_zero(f_a, x2, 32), ig_b = ig_from_zero(f_b, x2, 32);
  const double invariance_diff = std::max(std::fabs(ig_a.attributions(0, 0) - ig_b.attributions(0, 0)),
                                          std::fabs(ig_a.attributions(0, 1) - ig_b.attributions(0, 1)));
  report("invariance ig_A 0", ig_a.attributions(0, 0));
  report("invariance ig_A 1", ig_a.attributions(0, 1));
  report("invariance max_diff_A_vs_B", invariance_diff);
  check(invariance_diff <= 1e-15, "two implementations of one function get the same IG");

  // ---- Symmetry preservation: straight line versus an axis-by-axis path ------
  Function<double> symmetric = [](const Var<double>& x) { return tanh(column(x, 0) + column(x, 1)); };
  Tensor<double> x3 = zeros({1, 2});
  x3(0, 0) = 1.0, x3(0, 1) = 1.0;
  const PathAttributions<double> ig_sym = ig_from_zero(symmetric, x3, 32);
  report("symmetry ig 0", ig_sym.attributions(0, 0));
  report("symmetry ig 1", ig_sym.attributions(0, 1));
  report("symmetry ig_abs_diff", std::fabs(ig_sym.attributions(0, 0) - ig_sym.attributions(0, 1)));
  // The path (0,0) → (1,0) → (1,1): along the first leg only x₀ moves, so by
  // the fundamental theorem of calculus A₀ = f(1,0) − f(0,0) and A₁ = f(1,1) − f(1,0).
  // Each leg is integrated by IG itself (a straight line in one coordinate).
  Tensor<double> leg1 = zeros({1, 2});
  leg1(0, 0) = 1.0;
  const PathAttributions<double> first = ig_from_zero(symmetric, leg1, 32);
  ExplainedOutput<double> out;
  out.model = symmetric;
  IntegratedGradientsOptions<double> from_leg1;
  from_leg1.baseline = BaselineKind::user;
  from_leg1.user_baseline = leg1;
  from_leg1.steps = 32;
  const PathAttributions<double> second = integrated_gradients(out, x3, {0}, from_leg1);
  const double axis0 = first.attributions(0, 0), axis1 = second.attributions(0, 1);
  report("symmetry axis_path 0", axis0);
  report("symmetry axis_path 1", axis1);
  check(std::fabs(ig_sym.attributions(0, 0) - ig_sym.attributions(0, 1)) <= 1e-15, "IG keeps the symmetry");
  check(std::fabs(axis0 - std::tanh(1.0)) <= 1e-14 && std::fabs(axis1 - (std::tanh(2.0) - std::tanh(1.0))) <= 1e-14,
        "the axis path gives tanh 1 and tanh 2 − tanh 1");

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
