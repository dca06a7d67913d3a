// A program written against the INSTALLED library only: it sees the headers
// through <fluxion/fluxion.hpp> and links through pkg-config, as a user's
// program does (tests/install/check_install.sh builds and runs it). It checks
// three results against their closed forms and exits 1 on a mismatch.
#include <fluxion/fluxion.hpp>

#include <cmath>
#include <cstdio>

using namespace fluxion;

int failures = 0;

void expect_near(const char* what, double got, double want, double tolerance) {
  const bool ok = std::abs(got - want) <= tolerance;
  std::printf("%s %s: %.17g (closed form %.17g)\n", ok ? "ok  " : "FAIL", what, got, want);
  failures += ok ? 0 : 1;
}

int main() {
  // f(x) = Σ x_i³:  ∇f = 3x²,  H = diag(6x).
  Tensor<double> x = filled<double>({3}, 0.0);
  x(0) = 0.5;
  x(1) = -1.0;
  x(2) = 2.0;
  const Function<double> cube_sum = [](const Var<double>& v) { return sum(v * v * v); };
  const Tensor<double> g = grad(cube_sum, x);
  const Tensor<double> h = hessian(cube_sum, x);
  for (std::size_t i = 0; i < 3; ++i) {
    expect_near("gradient 3x^2", g(i), 3 * x(i) * x(i), 1e-12);
    for (std::size_t j = 0; j < 3; ++j) expect_near("hessian diag(6x)", h(i, j), i == j ? 6 * x(i) : 0.0, 1e-12);
  }
  // A model built from an architecture description: the preset mlp maps one
  // [1, 28, 28] image to 10 logits.
  Sequential<double> model = build_model<double>("mlp", 0, "installed_app");
  const Tensor<double> image = filled<double>({1, 1, 28, 28}, 0.25);
  const Tensor<double> logits = model.forward(Var<double>(image)).value();
  expect_near("mlp logits per image", static_cast<double>(logits.size()), 10.0, 0.0);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
