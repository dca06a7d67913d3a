#include "autodiff/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

// Σ f(x) if f is not scalar, so that "the gradient" is always defined.
template <class T>
Var<T> as_scalar(const Var<T>& y) {
  return y.numel() == 1 ? y : sum(y);
}

template <class T>
Tensor<T> tangent_or_zeros(const Var<T>& y, std::size_t k) {
  if (y.has_tangent()) return y.tangent().value();
  Shape s = y.shape();
  s.insert(s.begin(), k);
  return filled<T>(s, T(0));
}

template <class T>
void check_tangents(const Tensor<T>& x, const Tensor<T>& V, const char* op) {
  Shape sx = shape_of(x), sv = shape_of(V);
  Shape expected = sx;
  expected.insert(expected.begin(), sv.empty() ? 0 : sv[0]);
  if (sv != expected)
    throw ShapeError(std::string(op) + ": tangents " + shape_str(sv) + " must be [k] + " + shape_str(sx));
}

// Rows start..start+count of the identity, shaped [count, ...shape].
template <class T>
Tensor<T> identity_directions(const Shape& shape, std::size_t start, std::size_t count) {
  std::size_t d = numel_of(shape);
  Shape s = shape;
  s.insert(s.begin(), count);
  Tensor<T> V = filled<T>(s, T(0));
  for (std::size_t i = 0; i < count; ++i) V.data()[i * d + start + i] = T(1);
  return V;
}

template <class T>
Tensor<T> with_leading(const Tensor<T>& v) {
  Tensor<T> V = v;
  Shape s = shape_of(v);
  s.insert(s.begin(), 1);
  V.reshape(s);
  return V;
}

template <class T>
Tensor<T> drop_leading(Tensor<T> V) {
  const Shape s = shape_of(V);  // [1, ...]
  V.reshape(Shape(s.begin() + (s.empty() ? 0 : 1), s.end()));
  return V;
}

}  // namespace

template <class T>
Function<T> gradient_of(Function<T> f) {
  return [f = std::move(f)](const Var<T>& x) {
    const bool differentiable = grad_mode_enabled();  // record the sweep iff the caller records
    EnableGradGuard tape(true);                       // the sweep needs f's graph, whatever the mode
    // x itself if it is a variable, else a variable equal to x (with x's tangent, if any)
    const Var<T> v = x.requires_grad() ? x
                     : x.has_tangent() ? make_dual(Var<T>(x.value(), true), x.tangent())
                                       : Var<T>(x.value(), true);
    return grad<T>({as_scalar(f(v))}, {v}, {}, /*create_graph=*/differentiable)[0];
  };
}

template <class T>
ValueAndGrad<T> value_and_grad(const Function<T>& f, const Tensor<T>& x) {
  Var<T> xv(x, true);
  Var<T> y = f(xv);
  Var<T> g = grad<T>({as_scalar(y)}, {xv})[0];
  return {y.value(), g.value()};
}

template <class T>
Tensor<T> grad(const Function<T>& f, const Tensor<T>& x) {
  return value_and_grad(f, x).grad;
}

template <class T>
Tensor<T> vjp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& u) {
  Var<T> xv(x, true);
  Var<T> y = f(xv);
  if (y.shape() != shape_of(u))
    throw ShapeError("vjp: cotangent " + shape_str(shape_of(u)) + " does not match output " + shape_str(y.shape()));
  return grad<T>({y}, {xv}, {Var<T>(u)})[0].value();
}

template <class T>
ValueAndTangents<T> value_and_jvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V) {
  check_tangents(x, V, "jvp");
  NoGradGuard no_tape;  // forward mode needs no tape (gradient_of records its own)
  const Var<T> y = f(make_dual(Var<T>(x), Var<T>(V)));
  return {y.value(), tangent_or_zeros(y, V.shape()[0])};
}

template <class T>
Tensor<T> jvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V) {
  return value_and_jvp_batched(f, x, V).tangents;
}

template <class T>
Tensor<T> jvp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v) {
  return drop_leading(jvp_batched(f, x, with_leading(v)));
}

// Forward-over-reverse: the tangent of ∇f in direction v is H v. The reverse
// sweep inside gradient_of is made of ops, so the gradient comes out with a
// tangent when x carries one. (Below, std::cref(f) hands f to gradient_of
// without copying it: a Function may hold a whole model, and f outlives the call.)
template <class T>
Tensor<T> hvp_batched(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& V) {
  check_tangents(x, V, "hvp");
  return jvp_batched(gradient_of<T>(std::cref(f)), x, V);
}

template <class T>
Tensor<T> hvp(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v) {
  return jvp(gradient_of<T>(std::cref(f)), x, v);
}

// Reverse-over-reverse: H v = ∇_x ⟨∇f(x), v⟩, differentiating the gradient graph.
template <class T>
Tensor<T> hvp_reverse(const Function<T>& f, const Tensor<T>& x, const Tensor<T>& v) {
  NoForwardGuard reverse_only;
  const Function<T> gradient = gradient_of<T>(std::cref(f));
  const Var<T> direction(v);
  return grad(Function<T>([&](const Var<T>& z) { return sum(gradient(z) * direction); }), x);
}

template <class T>
Tensor<T> hessian(const Function<T>& f, const Tensor<T>& x, std::size_t chunk) {
  return jacobian(gradient_of<T>(std::cref(f)), x, chunk);
}

template <class T>
Tensor<T> jacobian(const Function<T>& f, const Tensor<T>& x, std::size_t chunk) {
  const std::size_t d = x.size();
  if (chunk == 0) chunk = d;
  Tensor<T> J = Tensor<T>::from_shape({0, d});  // [m, d]: column j = J e_j
  for (std::size_t start = 0; start < d; start += chunk) {
    const std::size_t count = std::min(chunk, d - start);
    // [count, ...f(x).shape]: row c = J e_{start+c}, written into column start + c
    const Tensor<T> columns = jvp_batched(f, x, identity_directions<T>(shape_of(x), start, count));
    const std::size_t m = columns.size() / count;
    if (start == 0) J = Tensor<T>::from_shape({m, d});
    // A transpose, in tiles of 32×32 so that both sides stay in cache (a
    // 784×784 Hessian is 4.9 MB; an untiled strided write misses on every entry).
    const T* from = columns.data();
    T* to = J.data();
    constexpr std::size_t tile = 32;
    for (std::size_t c0 = 0; c0 < count; c0 += tile)
      for (std::size_t i0 = 0; i0 < m; i0 += tile)
        for (std::size_t c = c0; c < std::min(c0 + tile, count); ++c)
          for (std::size_t i = i0; i < std::min(i0 + tile, m); ++i) to[i * d + start + c] = from[c * m + i];
  }
  return J;
}

Tensor<double> numerical_grad(const std::function<double(const Tensor<double>&)>& f, const Tensor<double>& x,
                              double h) {
  Tensor<double> g = filled<double>(shape_of(x), 0.0);
  Tensor<double> xp = x;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double xi = x.data()[i];
    xp.data()[i] = xi + h;
    double fp = f(xp);
    xp.data()[i] = xi - h;
    double fm = f(xp);
    xp.data()[i] = xi;
    g.data()[i] = (fp - fm) / (2 * h);
  }
  return g;
}

template <class T>
static double relative_error(const Tensor<T>& a, const Tensor<T>& b, double floor) {
  if (shape_of(a) != shape_of(b))
    throw ShapeError("max_relative_error: shapes " + shape_str(shape_of(a)) + " and " + shape_str(shape_of(b)) + " differ");
  double diff = 0, scale = floor;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double ai = double(a.data()[i]), bi = double(b.data()[i]);
    // A NaN or an infinity on either side never passes a tolerance: std::max
    // drops a NaN (every comparison with it is false), and an infinite scale
    // would turn every other entry's error into 0.
    if (!std::isfinite(ai) || !std::isfinite(bi)) return std::numeric_limits<double>::infinity();
    diff = std::max(diff, std::abs(ai - bi));
    scale = std::max(scale, std::abs(bi));
  }
  return diff / scale;
}

double max_relative_error(const Tensor<double>& a, const Tensor<double>& b, double floor) {
  return relative_error(a, b, floor);
}
double max_relative_error(const Tensor<float>& a, const Tensor<float>& b, double floor) {
  return relative_error(a, b, floor);
}

double gradcheck(const Function<double>& f, const Tensor<double>& x, double h) {
  Tensor<double> analytic = grad(f, x);
  Tensor<double> numeric = numerical_grad(
      [&](const Tensor<double>& z) {
        NoGradGuard no_graph;
        return sum(f(Var<double>(z))).item();
      },
      x, h);
  return max_relative_error(analytic, numeric);
}

#define FLUXION_INSTANTIATE(T)                                                             \
  template Function<T> gradient_of(Function<T>);                                           \
  template ValueAndTangents<T> value_and_jvp_batched(const Function<T>&, const Tensor<T>&,  \
                                                     const Tensor<T>&);                     \
  template ValueAndGrad<T> value_and_grad(const Function<T>&, const Tensor<T>&);           \
  template Tensor<T> grad(const Function<T>&, const Tensor<T>&);                           \
  template Tensor<T> vjp(const Function<T>&, const Tensor<T>&, const Tensor<T>&);          \
  template Tensor<T> jvp(const Function<T>&, const Tensor<T>&, const Tensor<T>&);          \
  template Tensor<T> jvp_batched(const Function<T>&, const Tensor<T>&, const Tensor<T>&);  \
  template Tensor<T> hvp(const Function<T>&, const Tensor<T>&, const Tensor<T>&);          \
  template Tensor<T> hvp_batched(const Function<T>&, const Tensor<T>&, const Tensor<T>&);  \
  template Tensor<T> hvp_reverse(const Function<T>&, const Tensor<T>&, const Tensor<T>&);  \
  template Tensor<T> hessian(const Function<T>&, const Tensor<T>&, std::size_t);           \
  template Tensor<T> jacobian(const Function<T>&, const Tensor<T>&, std::size_t);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
