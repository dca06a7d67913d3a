// The comparators the derivative tests rest on, checked on inputs whose
// answers are known by hand:
//
//   max_relative_error(a, b, floor) = max_i |a_i − b_i| / max(max_i |b_i|, floor)
//       normwise (the scale is the LARGEST reference entry, so an error in a
//       small entry is divided by the largest one: that masking is shown
//       here by value), the scale taken from b only, the floor used for zero
//       references, a ShapeError for different shapes, and a non-finite
//       entry never passing a tolerance. Double and float.
//   numerical_grad   central differences: exact for a quadratic (up to
//       rounding) and off by exactly h² for x³ (the truncation term h²f‴/6).
//   gradcheck        small for a right rule, and the error of a deliberately
//       wrong rule (a custom op made with make_op whose VJP is perturbed) is
//       reported with its known size.
//
// Why: about a hundred checks compare through max_relative_error; if it
// under-reported, every one of them would be looser than it says.
#include <cmath>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "autodiff/autodiff.hpp"
#include "autodiff/make_op.hpp"
#include "tests/autodiff/check_derivatives.hpp"

using namespace fluxion;
using fluxion::testing::contains;
using fluxion::testing::shape_error_message;

namespace {

template <class T>
Tensor<T> vec(std::initializer_list<double> values) {
  Tensor<T> t = Tensor<T>::from_shape({values.size()});
  std::size_t i = 0;
  for (double v : values) t.data()[i++] = static_cast<T>(v);
  return t;
}


// y = x³ with a correct JVP and a VJP supplied by the test (to plant errors).
Var<double> cube_with_vjp(const Var<double>& x, std::function<Var<double>(const Var<double>&, const Var<double>&)> vjp) {
  Tensor<double> v = x.value() * x.value() * x.value();
  return make_op<double>(
      Op::custom, {x}, std::move(v),
      Jvp{[](const Vars<double>& in, const Var<double>& t) { return mul(t, scale(square(in[0]), 3.0)); }},
      Vjp{[vjp](const Vars<double>& in, const Var<double>& g) { return vjp(in[0], g); }});
}

}  // namespace

TEST_CASE_TEMPLATE("max_relative_error: known answers", T, float, double) {
  // Every value below is exact in float and double, and so are the
  // differences; the only rounding is the final division, done in double by
  // both the comparator and the expected value.
  const double floor = std::is_same_v<T, float> ? 1e-6 : 1e-12;  // the defaults
  SUBCASE("equal tensors give exactly 0") {
    CHECK(max_relative_error(vec<T>({1, -2, 0.5}), vec<T>({1, -2, 0.5})) == 0.0);
    CHECK(max_relative_error(vec<T>({0, 0}), vec<T>({0, 0})) == 0.0);
    CHECK(max_relative_error(Tensor<T>::from_shape({0}), Tensor<T>::from_shape({0})) == 0.0);  // empty
  }
  SUBCASE("the worst difference over the largest reference entry") {
    // diff = max(0, 0.5, 1) = 1 at entry 2, scale = max |b| = 4 at entry 1.
    CHECK(max_relative_error(vec<T>({1, -3.5, 4}), vec<T>({1, -4, 3})) == 1.0 / 4.0);
    // The scale is taken from the second argument only: swapped, it is 4 as well
    // here, but for a = 2·b it is max|b|, not max|a|.
    CHECK(max_relative_error(vec<T>({2, -8}), vec<T>({1, -4})) == 4.0 / 4.0);
    CHECK(max_relative_error(vec<T>({1, -4}), vec<T>({2, -8})) == 4.0 / 8.0);
  }
  SUBCASE("normwise: an error confined to a small entry is divided by the largest") {
    // Entry 1 is wrong by 100 % of itself, but the comparator reports
    // 2⁻¹⁰ / 2⁸ = 2⁻¹⁸ ≈ 3.8e-6: this is why the per-primitive checks also
    // compare entry by entry (tests/autodiff/check_derivatives.hpp).
    const double small = std::ldexp(1.0, -10);
    CHECK(max_relative_error(vec<T>({256, 2 * small, -3}), vec<T>({256, small, -3})) == std::ldexp(1.0, -18));
  }
  SUBCASE("zero references: the floor is the scale") {
    CHECK(max_relative_error(vec<T>({0.5, 0}), vec<T>({0, 0}), 1.0) == 0.5);
    CHECK(max_relative_error(vec<T>({0.25}), vec<T>({0}), 0.5) == 0.5);
    // default floor: 1e-12 (double) / 1e-6 (float); an error of 4·floor reads 4
    const T four_floors = static_cast<T>(4 * floor);
    Tensor<T> a = vec<T>({0, 0});
    a(1) = four_floors;
    CHECK(max_relative_error(a, vec<T>({0, 0})) == double(four_floors) / floor);
    // The floor only matters below it: a reference entry of 1 wins.
    CHECK(max_relative_error(vec<T>({1, 0.5}), vec<T>({1, 0}), 1e-3) == 0.5);
  }
  SUBCASE("rounding of a float entry is seen in double") {
    if constexpr (std::is_same_v<T, float>) {
      const float a = 0.1f, b = 0.3f;  // not exact in binary: compare with their exact float values
      CHECK(max_relative_error(vec<T>({a}), vec<T>({b})) == std::abs(double(a) - double(b)) / double(b));
    }
  }
}

TEST_CASE_TEMPLATE("max_relative_error: different shapes throw, naming both", T, float, double) {
  for (auto [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{3}, {1, 3}}, {{2, 3}, {3, 2}}, {{4}, {5}}, {{}, {1}}}) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    Tensor<T> a = filled<T>(sa, T(1)), b = filled<T>(sb, T(1));
    std::string msg = shape_error_message([&] { max_relative_error(a, b); });
    CHECK(contains(msg, shape_str(sa)));
    CHECK(contains(msg, shape_str(sb)));
  }
}

TEST_CASE_TEMPLATE("max_relative_error: a non-finite entry never passes a tolerance", T, float, double) {
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  auto fails_every_tolerance = [](double e) { return !(e <= 1e300); };
  Tensor<T> ref = vec<T>({1, 2, 3});
  for (std::size_t at = 0; at < 3; ++at) {
    CAPTURE(at);
    for (T bad : {nan, inf, -inf}) {
      CAPTURE(double(bad));
      Tensor<T> a = ref;
      a(at) = bad;
      CHECK(fails_every_tolerance(max_relative_error(a, ref)));  // a broken result
      CHECK(fails_every_tolerance(max_relative_error(ref, a)));  // a broken reference
    }
  }
  // The same infinity on both sides is not a "relative error of 0": it would
  // also make the scale infinite and hide every other entry's error.
  Tensor<T> a = vec<T>({1, 5}), b = vec<T>({1, 2});
  a(0) = inf;
  b(0) = inf;
  CHECK(fails_every_tolerance(max_relative_error(a, b)));
}

TEST_CASE("numerical_grad: exact for quadratics, off by h² for a cube") {
  // f = Σ c_i x_i² + b_i x_i: the central difference is exact in exact
  // arithmetic; rounding is eps·|f|/h ≈ 1e-16·5/1e-3 ≈ 5e-13, so 1e-11.
  const Tensor<double> x = vec<double>({0.3, -1.2, 2.0, 0.0}), c = vec<double>({1.5, -0.5, 0.25, 2.0}),
                       b = vec<double>({-1.0, 0.75, 0.0, 3.0});
  auto quadratic = [&](const Tensor<double>& z) {
    double s = 0;
    for (std::size_t i = 0; i < z.size(); ++i) s += c(i) * z(i) * z(i) + b(i) * z(i);
    return s;
  };
  const Tensor<double> g = numerical_grad(quadratic, x, 1e-3);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(std::abs(g(i) - (2 * c(i) * x(i) + b(i))) <= 1e-11);
  // f = Σ x_i³: ((x+h)³ − (x−h)³)/2h = 3x² + h² exactly. With h = 1e-2 the
  // h² = 1e-4 term is far above rounding (≈ 1e-16·8/1e-2 ≈ 1e-13).
  auto cube = [](const Tensor<double>& z) {
    double s = 0;
    for (double e : z) s += e * e * e;
    return s;
  };
  const double h = 1e-2;
  const Tensor<double> gc = numerical_grad(cube, x, h);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(std::abs(gc(i) - (3 * x(i) * x(i) + h * h)) <= 1e-12);
}

TEST_CASE("gradcheck: small for a right rule, large for a wrong one") {
  const Tensor<double> x = vec<double>({0.5, -1.25, 2.0, 0.75});  // max x² = 4 at entry 2
  using Vjp = std::function<Var<double>(const Var<double>&, const Var<double>&)>;
  auto f_with = [](Vjp vjp) { return Function<double>([vjp](const Var<double>& z) { return cube_with_vjp(z, vjp); }); };

  const Vjp right = [](const Var<double>& in, const Var<double>& g) { return mul(g, scale(square(in), 3.0)); };
  // Central differences with h = 1e-6: truncation h² = 1e-12 per entry and
  // rounding ≈ eps·|f|/h ≈ 2e-9 over a scale of 12.
  CHECK(gradcheck(f_with(right), x) <= 1e-9);

  // 2x² instead of 3x²: |2x² − 3x²| / max 3x² = 4 / 12 = 1/3.
  const Vjp wrong_factor = [](const Var<double>& in, const Var<double>& g) { return mul(g, scale(square(in), 2.0)); };
  // Explicit absolute tolerances (not doctest::Approx, whose hidden scale of 1
  // would make them absolute anyway): the finite-difference noise in the
  // numerator and the scale is ≈ 2e-9 / 12.
  CHECK(std::abs(gradcheck(f_with(wrong_factor), x) - 1.0 / 3.0) <= 1e-9);

  // A sign error: |−3x² − 3x²| / 3x² = 2.
  const Vjp wrong_sign = [](const Var<double>& in, const Var<double>& g) { return mul(g, scale(square(in), -3.0)); };
  CHECK(std::abs(gradcheck(f_with(wrong_sign), x) - 2.0) <= 1e-9);

  // An error of 0.06 in the smallest entry (entry 0, where 3x² = 0.75): 8 % of
  // that entry, reported normwise as 0.06 / 12 = 5e-3 (the masking of small
  // entries by the largest one, see max_relative_error above).
  const Vjp wrong_small_entry = [](const Var<double>& in, const Var<double>& g) {
    return add(mul(g, scale(square(in), 3.0)), Var<double>(vec<double>({0.06, 0, 0, 0})));
  };
  CHECK(std::abs(gradcheck(f_with(wrong_small_entry), x) - 0.06 / 12) <= 1e-9);

  // The rule is used by reverse mode only: a wrong VJP with a right JVP
  // leaves forward mode right (a cross-check gradcheck does not make).
  const Tensor<double> ones = vec<double>({1, 1, 1, 1});
  CHECK(max_relative_error(jvp(f_with(wrong_factor), x, ones), Tensor<double>(3.0 * x * x)) <= 1e-15);
}
