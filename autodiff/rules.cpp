// THE RULE TABLE: every primitive's forward kernel, JVP terms and VJP terms.
//
// Notation in the comments: y = op(a, b); ȧ = tangent of a (forward mode,
// with a leading axis of k directions); ḡ = cotangent of y and ā, b̄ = the
// cotangents of the inputs (reverse mode). Each entry reads
//
//     op        y = formula          jvp: ẏ = ...        vjp: ā = ..., b̄ = ...
//
// and its code gives the same formulas, one term per input (make_op.hpp):
// `Jvp{…}` lists ∂y/∂a_i · ȧ_i, `Vjp{…}` lists ḡ · ∂y/∂a_i. A term names the
// output y only if it uses it. The engine does the rest: it calls a term
// only for an input that carries a tangent (JVP) or needs a gradient (VJP),
// lifts tangents to the output's rank, adds the JVP terms, and sums each VJP
// term back to its input's shape where broadcasting stretched it. The
// conv2d family, reshape, scatter and the indexing ops (concat, slice, pad,
// take) give one tangent rule for the whole op (WholeOpJvp): their tangents
// ride through the op itself. concat, with any number of inputs, gives its
// cotangents as one formula of the input's index (IndexedVjp).
//
// Rules are written with Var ops only, never raw buffers, so each rule is
// itself differentiable: grad-of-grad and tangent-of-grad (exact HVPs) come
// for free. The list of primitives, their declarations and instantiations
// come from one table, autodiff/primitives.def.
#include <algorithm>
#include <cmath>
#include <string>

#include "autodiff/errors.hpp"
#include "autodiff/index_kernels.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/make_op.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

namespace {

Shape prepend(std::size_t k, Shape s) {
  s.insert(s.begin(), k);
  return s;
}

// a + b where either may be undefined ("no contribution"), for the whole-op rules.
template <class T>
Var<T> plus(const Var<T>& a, const Var<T>& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}

std::vector<std::size_t> normalize_axes(const std::vector<int>& axes, std::size_t rank, const char* op) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int a : axes) {
    int r = static_cast<int>(rank);
    if (a < -r || a >= r)
      throw ShapeError(std::string(op) + ": axis " + std::to_string(a) + " out of range for rank " + std::to_string(r));
    out.push_back(static_cast<std::size_t>(a < 0 ? a + r : a));
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw ShapeError(std::string(op) + ": repeated axis");
  return out;
}

// The axes an ONNX-style axes list names, non-negative (0 … m − 1 if empty),
// each shifted by `shift` (1: the same axes of a tangent [k, ...x]).
std::vector<std::int64_t> named_axes(const std::vector<std::int64_t>& axes, std::size_t m, std::size_t rank,
                                     std::int64_t shift) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < m; ++i) {
    std::int64_t a = axes.empty() ? static_cast<std::int64_t>(i) : axes[i];
    if (a < 0) a += static_cast<std::int64_t>(rank);
    out.push_back(a + shift);
  }
  return out;
}

std::size_t normalize_axis(int axis, std::size_t rank, const char* op) {
  const int r = static_cast<int>(rank);
  if (axis < -r || axis >= r)
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(r));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

// Indices in [−n, n) made non-negative (ONNX Gather); anything else is a ShapeError.
std::vector<std::size_t> gather_indices(const std::vector<std::int64_t>& indices, const Shape& index_shape,
                                        std::size_t n, const char* op) {
  if (numel_of(index_shape) != indices.size())
    throw ShapeError(std::string(op) + ": " + std::to_string(indices.size()) + " indices do not fill index shape " +
                     shape_str(index_shape));
  std::vector<std::size_t> out;
  out.reserve(indices.size());
  const auto len = static_cast<std::int64_t>(n);
  for (std::int64_t i : indices) {
    if (i < -len || i >= len)
      throw ShapeError(std::string(op) + ": index " + std::to_string(i) + " out of range for an axis of length " +
                       std::to_string(n));
    out.push_back(static_cast<std::size_t>(i < 0 ? i + len : i));
  }
  return out;
}

// The constant tie mask of maximum/minimum: 1[a ≻ b] + ½·1[a = b] in the broadcast shape.
template <class T>
Var<T> tie_mask(const Var<T>& a, const Var<T>& b, kernels::BinaryOp mask, const char* op) {
  return Var<T>(kernels::binary(a.value(), b.value(), mask, op), false);
}

}  // namespace

// ===========================================================================
// add      y = a + b         jvp: ẏ = ȧ + ḃ            vjp: ā = ḡ, b̄ = ḡ
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(Op::add, {a, b}, kernels::binary(a.value(), b.value(), kernels::BinaryOp::add, "add"),
                    Jvp{[](const Vars<T>&, const Var<T>& ta) { return ta; },
                        [](const Vars<T>&, const Var<T>& tb) { return tb; }},
                    Vjp{[](const Vars<T>&, const Var<T>& g) { return g; },
                        [](const Vars<T>&, const Var<T>& g) { return g; }});
}

// sub      y = a − b         jvp: ẏ = ȧ − ḃ            vjp: ā = ḡ, b̄ = −ḡ
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(Op::sub, {a, b}, kernels::binary(a.value(), b.value(), kernels::BinaryOp::sub, "sub"),
                    Jvp{[](const Vars<T>&, const Var<T>& ta) { return ta; },
                        [](const Vars<T>&, const Var<T>& tb) { return -tb; }},
                    Vjp{[](const Vars<T>&, const Var<T>& g) { return g; },
                        [](const Vars<T>&, const Var<T>& g) { return -g; }});
}

// mul      y = a ⊙ b         jvp: ẏ = ȧ ⊙ b + a ⊙ ḃ    vjp: ā = ḡ ⊙ b, b̄ = ḡ ⊙ a
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(Op::mul, {a, b}, kernels::binary(a.value(), b.value(), kernels::BinaryOp::mul, "mul"),
                    Jvp{[](const Vars<T>& in, const Var<T>& ta) { return ta * in[1]; },
                        [](const Vars<T>& in, const Var<T>& tb) { return in[0] * tb; }},
                    Vjp{[](const Vars<T>& in, const Var<T>& g) { return g * in[1]; },
                        [](const Vars<T>& in, const Var<T>& g) { return g * in[0]; }});
}

// div      y = a ⊘ b         jvp: ẏ = ȧ ⊘ b − a ⊙ ḃ ⊘ b²   vjp: ā = ḡ ⊘ b, b̄ = −ḡ ⊙ a ⊘ b²
template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(Op::div, {a, b}, kernels::binary(a.value(), b.value(), kernels::BinaryOp::div, "div"),
                    Jvp{[](const Vars<T>& in, const Var<T>& ta) { return ta / in[1]; },
                        [](const Vars<T>& in, const Var<T>& tb) { return -(in[0] * tb / square(in[1])); }},
                    Vjp{[](const Vars<T>& in, const Var<T>& g) { return g / in[1]; },
                        [](const Vars<T>& in, const Var<T>& g) { return -(g * in[0] / square(in[1])); }});
}

// neg      y = −x            jvp: ẏ = −ẋ               vjp: x̄ = −ḡ
template <class T>
Var<T> neg(const Var<T>& x) {
  return make_op<T>(Op::neg, {x}, kernels::map(x.value(), [](T e) { return -e; }),
                    Jvp{[](const Vars<T>&, const Var<T>& tx) { return -tx; }},
                    Vjp{[](const Vars<T>&, const Var<T>& g) { return -g; }});
}

// scale    y = c·x           jvp: ẏ = c·ẋ              vjp: x̄ = c·ḡ
template <class T>
Var<T> scale(const Var<T>& x, T c) {
  return make_op<T>(Op::scale, {x}, kernels::map(x.value(), [c](T e) { return c * e; }),
                    Jvp{[c](const Vars<T>&, const Var<T>& tx) { return c * tx; }},
                    Vjp{[c](const Vars<T>&, const Var<T>& g) { return c * g; }});
}

// maximum  y = max(a, b)    jvp: ẏ = ȧ ⊙ mₐ + ḃ ⊙ m_b   vjp: ā = ḡ ⊙ mₐ, b̄ = ḡ ⊙ m_b
//          mₐ = 1[a > b] + ½·1[a = b], m_b = 1[b > a] + ½·1[a = b]: constants
//          (the derivative is piecewise constant), ties split ½/½ as PyTorch.
template <class T>
Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  using kernels::BinaryOp;
  return make_op<T>(
      Op::maximum, {a, b}, kernels::binary(a.value(), b.value(), BinaryOp::maximum, "maximum"),
      Jvp{[](const Vars<T>& in, const Var<T>& ta) { return ta * tie_mask(in[0], in[1], BinaryOp::max_mask, "maximum"); },
          [](const Vars<T>& in, const Var<T>& tb) { return tb * tie_mask(in[1], in[0], BinaryOp::max_mask, "maximum"); }},
      Vjp{[](const Vars<T>& in, const Var<T>& g) { return g * tie_mask(in[0], in[1], BinaryOp::max_mask, "maximum"); },
          [](const Vars<T>& in, const Var<T>& g) { return g * tie_mask(in[1], in[0], BinaryOp::max_mask, "maximum"); }});
}

// minimum  y = min(a, b)    the same with mₐ = 1[a < b] + ½·1[a = b], m_b = 1[b < a] + ½·1[a = b]
template <class T>
Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  using kernels::BinaryOp;
  return make_op<T>(
      Op::minimum, {a, b}, kernels::binary(a.value(), b.value(), BinaryOp::minimum, "minimum"),
      Jvp{[](const Vars<T>& in, const Var<T>& ta) { return ta * tie_mask(in[0], in[1], BinaryOp::min_mask, "minimum"); },
          [](const Vars<T>& in, const Var<T>& tb) { return tb * tie_mask(in[1], in[0], BinaryOp::min_mask, "minimum"); }},
      Vjp{[](const Vars<T>& in, const Var<T>& g) { return g * tie_mask(in[0], in[1], BinaryOp::min_mask, "minimum"); },
          [](const Vars<T>& in, const Var<T>& g) { return g * tie_mask(in[1], in[0], BinaryOp::min_mask, "minimum"); }});
}

// exp      y = eˣ            jvp: ẏ = ẋ ⊙ y            vjp: x̄ = ḡ ⊙ y
template <class T>
Var<T> exp(const Var<T>& x) {
  return make_op<T>(Op::exp, {x}, kernels::map(x.value(), [](T e) { return std::exp(e); }),
                    Jvp{[](const Vars<T>&, const Var<T>& y, const Var<T>& tx) { return tx * y; }},
                    Vjp{[](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return g * y; }});
}

// log      y = ln x          jvp: ẏ = ẋ ⊘ x            vjp: x̄ = ḡ ⊘ x
template <class T>
Var<T> log(const Var<T>& x) {
  return make_op<T>(Op::log, {x}, kernels::map(x.value(), [](T e) { return std::log(e); }),
                    Jvp{[](const Vars<T>& in, const Var<T>& tx) { return tx / in[0]; }},
                    Vjp{[](const Vars<T>& in, const Var<T>& g) { return g / in[0]; }});
}

// tanh     y = tanh x        jvp: ẏ = ẋ ⊙ (1 − y²)     vjp: x̄ = ḡ ⊙ (1 − y²)
template <class T>
Var<T> tanh(const Var<T>& x) {
  return make_op<T>(Op::tanh, {x}, kernels::map(x.value(), [](T e) { return std::tanh(e); }),
                    Jvp{[](const Vars<T>&, const Var<T>& y, const Var<T>& tx) { return tx * (T(1) - square(y)); }},
                    Vjp{[](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return g * (T(1) - square(y)); }});
}

// sigmoid  y = σ(x)          jvp: ẏ = ẋ ⊙ y(1 − y)     vjp: x̄ = ḡ ⊙ y(1 − y)
// Computed stably: σ(x) = 1/(1+e⁻ˣ) for x ≥ 0, eˣ/(1+eˣ) for x < 0.
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  auto sigma = [](T e) { return e >= 0 ? T(1) / (T(1) + std::exp(-e)) : std::exp(e) / (T(1) + std::exp(e)); };
  return make_op<T>(Op::sigmoid, {x}, kernels::map(x.value(), sigma),
                    Jvp{[](const Vars<T>&, const Var<T>& y, const Var<T>& tx) { return tx * (y * (T(1) - y)); }},
                    Vjp{[](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return g * (y * (T(1) - y)); }});
}

// relu     y = max(x, 0)     jvp: ẏ = ẋ ⊙ 1[x>0]       vjp: x̄ = ḡ ⊙ 1[x>0]   (relu'(0) = 0)
template <class T>
Var<T> relu(const Var<T>& x) {
  return make_op<T>(Op::relu, {x}, kernels::map(x.value(), [](T e) { return e > T(0) ? e : T(0); }),
                    Jvp{[](const Vars<T>& in, const Var<T>& tx) { return tx * step(in[0]); }},
                    Vjp{[](const Vars<T>& in, const Var<T>& g) { return g * step(in[0]); }});
}

// step     y = 1[x > 0]      a constant: its derivative is 0 almost everywhere.
template <class T>
Var<T> step(const Var<T>& x) {
  return Var<T>(kernels::map(x.value(), [](T e) { return e > T(0) ? T(1) : T(0); }), false);
}

// softplus y = max(x,0) + log1p(e^{−β|x|})/β     jvp: ẏ = ẋ ⊙ σ(βx)     vjp: x̄ = ḡ ⊙ σ(βx)
template <class T>
Var<T> softplus(const Var<T>& x, T beta) {
  if (!(beta > 0)) throw ArgumentError("softplus: beta must be > 0, got " + std::to_string(beta));
  auto value = [beta](T e) { return std::max(e, T(0)) + std::log1p(std::exp(-beta * std::abs(e))) / beta; };
  return make_op<T>(Op::softplus, {x}, kernels::map(x.value(), value),
                    Jvp{[beta](const Vars<T>& in, const Var<T>& tx) { return tx * sigmoid(beta * in[0]); }},
                    Vjp{[beta](const Vars<T>& in, const Var<T>& g) { return g * sigmoid(beta * in[0]); }});
}

// pow      y = xᵖ            jvp: ẏ = ẋ ⊙ p xᵖ⁻¹       vjp: x̄ = ḡ ⊙ p xᵖ⁻¹
// (x² is x·x, x¹ and x⁰ are exact; the derivative of x⁰ is 0, also at x = 0)
template <class T>
Var<T> pow(const Var<T>& x, T p) {
  auto value = [p](T e) { return p == T(2) ? e * e : p == T(1) ? e : p == T(0) ? T(1) : std::pow(e, p); };
  auto slope = [p](const Var<T>& at) {
    return p == T(1) ? Var<T>(filled<T>(at.shape(), T(1))) : p * pow(at, p - T(1));
  };
  auto times_slope = [p, slope](const Var<T>& at, const Var<T>& v) {
    return p == T(0) ? Var<T>(filled<T>(v.shape(), T(0))) : v * slope(at);
  };
  return make_op<T>(Op::pow, {x}, kernels::map(x.value(), value),
                    Jvp{[times_slope](const Vars<T>& in, const Var<T>& tx) { return times_slope(in[0], tx); }},
                    Vjp{[times_slope](const Vars<T>& in, const Var<T>& g) { return times_slope(in[0], g); }});
}

// erf      y = erf x         jvp: ẏ = ẋ ⊙ (2/√π) e^{−x²}   vjp: x̄ = ḡ ⊙ (2/√π) e^{−x²}
template <class T>
Var<T> erf(const Var<T>& x) {
  const T c = T(1.1283791670955125739);  // 2/√π
  auto slope = [c](const Var<T>& at) { return scale(exp(neg(square(at))), c); };
  return make_op<T>(Op::erf, {x}, kernels::map(x.value(), [](T e) { return std::erf(e); }),
                    Jvp{[slope](const Vars<T>& in, const Var<T>& tx) { return tx * slope(in[0]); }},
                    Vjp{[slope](const Vars<T>& in, const Var<T>& g) { return g * slope(in[0]); }});
}

// sqrt     y = √x            jvp: ẏ = ẋ ⊘ 2y               vjp: x̄ = ḡ ⊘ 2y
template <class T>
Var<T> sqrt(const Var<T>& x) {
  return make_op<T>(Op::sqrt, {x}, kernels::map(x.value(), [](T e) { return std::sqrt(e); }),
                    Jvp{[](const Vars<T>&, const Var<T>& y, const Var<T>& tx) { return tx / scale(y, T(2)); }},
                    Vjp{[](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return g / scale(y, T(2)); }});
}

// abs      y = |x|           jvp: ẏ = ẋ ⊙ sign x           vjp: x̄ = ḡ ⊙ sign x
//          sign x = step(x) − step(−x), a constant; sign 0 = 0 (as PyTorch).
template <class T>
Var<T> abs(const Var<T>& x) {
  auto sign = [](const Var<T>& at) { return step(at) - step(neg(at)); };
  return make_op<T>(Op::abs, {x}, kernels::map(x.value(), [](T e) { return std::abs(e); }),
                    Jvp{[sign](const Vars<T>& in, const Var<T>& tx) { return tx * sign(in[0]); }},
                    Vjp{[sign](const Vars<T>& in, const Var<T>& g) { return g * sign(in[0]); }});
}

// leaky_relu  y = x > 0 ? x : αx    jvp: ẏ = ẋ ⊙ s    vjp: x̄ = ḡ ⊙ s,  s = α + (1 − α)·step(x)
template <class T>
Var<T> leaky_relu(const Var<T>& x, T alpha) {
  auto slope = [alpha](const Var<T>& at) { return scale(step(at), T(1) - alpha) + alpha; };
  return make_op<T>(Op::leaky_relu, {x}, kernels::map(x.value(), [alpha](T e) { return e > T(0) ? e : alpha * e; }),
                    Jvp{[slope](const Vars<T>& in, const Var<T>& tx) { return tx * slope(in[0]); }},
                    Vjp{[slope](const Vars<T>& in, const Var<T>& g) { return g * slope(in[0]); }});
}

// elu      y = x > 0 ? x : α(eˣ − 1)
//          jvp: ẏ = ẋ ⊙ s    vjp: x̄ = ḡ ⊙ s,  s = step(x) + (1 − step(x)) ⊙ (y + α)
//          (y + α = αeˣ where x ≤ 0; written with y so no eˣ of a large x is formed)
template <class T>
Var<T> elu(const Var<T>& x, T alpha) {
  auto slope = [alpha](const Var<T>& at, const Var<T>& y) { return step(at) + (T(1) - step(at)) * (y + alpha); };
  return make_op<T>(
      Op::elu, {x}, kernels::map(x.value(), [alpha](T e) { return e > T(0) ? e : alpha * std::expm1(e); }),
      Jvp{[slope](const Vars<T>& in, const Var<T>& y, const Var<T>& tx) { return tx * slope(in[0], y); }},
      Vjp{[slope](const Vars<T>& in, const Var<T>& y, const Var<T>& g) { return g * slope(in[0], y); }});
}

// matmul   y = op(A) op(B)   jvp: ẏ = op(Ȧ) op(B) + op(A) op(Ḃ)
//          vjp (no transposes): Ā = ḡ Bᵀ, B̄ = Aᵀ ḡ; with transposes the same
//          identities, rearranged so no explicit transpose is materialised.
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool ta, bool tb) {
  return make_op<T>(
      Op::matmul, {a, b}, kernels::matmul(a.value(), b.value(), ta, tb),
      Jvp{[ta, tb](const Vars<T>& in, const Var<T>& a_dot) { return matmul(a_dot, in[1], ta, tb); },
          [ta, tb](const Vars<T>& in, const Var<T>& b_dot) { return matmul(in[0], b_dot, ta, tb); }},
      Vjp{[ta, tb](const Vars<T>& in, const Var<T>& g) {
            return ta ? matmul(in[1], g, tb, true) : matmul(g, in[1], false, !tb);
          },
          [ta, tb](const Vars<T>& in, const Var<T>& g) {
            return tb ? matmul(g, in[0], true, ta) : matmul(in[0], g, !ta, false);
          }});
}

// The tangent directions of the conv2d family ride through the kernels
// themselves. A tangent of an image-like operand [k, L.., Ch, H, W] becomes
// extra channels: with G channel groups the channel axis must read
// (group, direction, channel in group) so that every group stays contiguous:
//   fold    [k, L.., Ch, H, W]       → [L.., G·k·(Ch/G), H, W]
//   unfold  [L.., G·k·(Ch/G), H, W]  → [k, L.., Ch, H, W]          (its inverse)
// and a weight tangent [k, O, Cg, kh, kw] likewise becomes G·k·(O/G) output
// channels (fold_weight) or k·Cg input channels per group (widen_weight).
template <class T>
Var<T> fold_channels(const Var<T>& t, std::size_t groups) {
  const Shape& s = t.shape();  // [k, L.., Ch, H, W]
  const std::size_t r = s.size(), k = s[0], lead = r - 4, ch = s[r - 3];
  Shape split(s.begin() + 1, s.begin() + 1 + static_cast<std::ptrdiff_t>(lead));
  split.insert(split.begin(), k);
  split.insert(split.end(), {groups, ch / groups, s[r - 2], s[r - 1]});  // [k, L.., G, c, H, W]
  std::vector<std::size_t> perm;
  for (std::size_t i = 1; i <= lead; ++i) perm.push_back(i);
  perm.insert(perm.end(), {lead + 1, 0, lead + 2, lead + 3, lead + 4});  // [L.., G, k, c, H, W]
  Shape folded(s.begin() + 1, s.begin() + 1 + static_cast<std::ptrdiff_t>(lead));
  folded.insert(folded.end(), {k * ch, s[r - 2], s[r - 1]});
  return reshape(permute(reshape(t, split), perm), folded);
}

template <class T>
Var<T> unfold_channels(const Var<T>& y, std::size_t k, std::size_t groups) {
  const Shape& s = y.shape();  // [L.., G·k·c, H, W]
  const std::size_t r = s.size(), lead = r - 3, c = s[r - 3] / (groups * k);
  Shape split(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(lead));
  split.insert(split.end(), {groups, k, c, s[r - 2], s[r - 1]});  // [L.., G, k, c, H, W]
  std::vector<std::size_t> perm{lead + 1};
  for (std::size_t i = 0; i < lead; ++i) perm.push_back(i);
  perm.insert(perm.end(), {lead, lead + 2, lead + 3, lead + 4});  // [k, L.., G, c, H, W]
  Shape out{k};
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(lead));
  out.insert(out.end(), {groups * c, s[r - 2], s[r - 1]});
  return reshape(permute(reshape(y, split), perm), out);
}

// [k, O, Cg, kh, kw] → [G·k·(O/G), Cg, kh, kw]: k·O output channels, group-major.
template <class T>
Var<T> fold_weight(const Var<T>& t, std::size_t groups) {
  const Shape& s = t.shape();
  const std::size_t k = s[0], o = s[1] / groups;
  Var<T> split = reshape(t, {k, groups, o, s[2], s[3], s[4]});
  return reshape(permute(split, {1, 0, 2, 3, 4, 5}), {groups * k * o, s[2], s[3], s[4]});
}

// [k, O, Cg, kh, kw] → [O, k·Cg, kh, kw]: each group reads k·Cg input channels ordered (k, c).
template <class T>
Var<T> widen_weight(const Var<T>& t) {
  const Shape& s = t.shape();
  return reshape(permute(t, {1, 0, 2, 3, 4}), {s[1], s[0] * s[2], s[3], s[4]});
}

// conv2d   y = conv(x, w)    jvp: ẏ = conv(ẋ, w) + conv(x, ẇ)
//                            vjp: x̄ = convᵀ(ḡ, w), w̄ = weight_grad(x, ḡ)
// Tangent directions ride along as a leading image axis for ẋ; for ẇ they
// are folded into the output channels (k·O, group-major) and moved to the front.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& w, kernels::Conv2dParams p) {
  return make_op<T>(
      Op::conv2d, {x, w}, kernels::conv2d(x.value(), w.value(), p),
      WholeOpJvp{[p](const Vars<T>& in, const Vars<T>& t) {
        Var<T> dx = t[0].defined() ? conv2d(t[0], in[1], p) : Var<T>();
        Var<T> dw;
        if (t[1].defined()) {
          const std::size_t groups = p.resolved().groups, k = t[1].shape()[0];
          dw = unfold_channels(conv2d(in[0], fold_weight(t[1], groups), p), k, groups);  // [L.., G·k·Og, Ho, Wo] → [k, L.., O, Ho, Wo]
        }
        return plus(dx, dw);
      }},
      Vjp{[p](const Vars<T>& in, const Var<T>& g) {
            const Shape& sx = in[0].shape();
            return conv2d_input_grad(g, in[1], sx[sx.size() - 2], sx.back(), p);
          },
          [p](const Vars<T>& in, const Var<T>& g) {
            const Shape& sw = in[1].shape();
            return conv2d_weight_grad(in[0], g, sw[2], sw[3], p);
          }});
}

// conv2d_input_grad  z = convᵀ(g, w)   jvp: ż = convᵀ(ġ, w) + convᵀ(g, ẇ)
//                    vjp (z̄):  ḡ = conv(z̄, w),  w̄ = weight_grad(z̄, g)
template <class T>
Var<T> conv2d_input_grad(const Var<T>& g, const Var<T>& w, std::size_t height, std::size_t width,
                         kernels::Conv2dParams p) {
  return make_op<T>(
      Op::conv2d_input_grad, {g, w}, kernels::conv2d_input_grad(g.value(), w.value(), height, width, p),
      WholeOpJvp{[p, height, width](const Vars<T>& in, const Vars<T>& t) {
        Var<T> dg = t[0].defined() ? conv2d_input_grad(t[0], in[1], height, width, p) : Var<T>();
        Var<T> dw;
        if (t[1].defined()) {
          const std::size_t groups = p.resolved().groups, k = t[1].shape()[0];
          Var<T> z = conv2d_input_grad(in[0], widen_weight(t[1]), height, width, p);  // [L.., G·k·Cg, H, W]
          dw = unfold_channels(z, k, groups);
        }
        return plus(dg, dw);
      }},
      Vjp{[p](const Vars<T>& in, const Var<T>& zbar) { return conv2d(zbar, in[1], p); },
          [p](const Vars<T>& in, const Var<T>& zbar) {
            const Shape& sw = in[1].shape();
            return conv2d_weight_grad(zbar, in[0], sw[2], sw[3], p);
          }});
}

// conv2d_weight_grad u = Σ g ⋆ x      jvp: u̇ = wg(ẋ, g) + wg(x, ġ)
//                    vjp (ū):  x̄ = convᵀ(g, ū),  ḡ = conv(x, ū)
template <class T>
Var<T> conv2d_weight_grad(const Var<T>& x, const Var<T>& g, std::size_t kh, std::size_t kw,
                          kernels::Conv2dParams p) {
  return make_op<T>(
      Op::conv2d_weight_grad, {x, g}, kernels::conv2d_weight_grad(x.value(), g.value(), kh, kw, p),
      WholeOpJvp{[p, kh, kw](const Vars<T>& in, const Vars<T>& t) {
        const std::size_t groups = p.resolved().groups;
        Var<T> dx, dg;
        if (t[0].defined()) {  // each group's input channels read (k, c): u is [O, k·Cg, kh, kw]
          const std::size_t k = t[0].shape()[0];
          Var<T> u = conv2d_weight_grad(fold_channels(t[0], groups), in[1], kh, kw, p);
          const Shape& su = u.shape();
          dx = permute(reshape(u, {su[0], k, su[1] / k, kh, kw}), {1, 0, 2, 3, 4});
        }
        if (t[1].defined()) {  // output channels (G, k, Og): u is [G·k·Og, Cg, kh, kw]
          const std::size_t k = t[1].shape()[0];
          Var<T> u = conv2d_weight_grad(in[0], fold_channels(t[1], groups), kh, kw, p);
          const Shape& su = u.shape();
          const std::size_t o = su[0] / (groups * k);
          dg = reshape(permute(reshape(u, {groups, k, o, su[1], kh, kw}), {1, 0, 2, 3, 4, 5}),
                       {k, groups * o, su[1], kh, kw});
        }
        return plus(dx, dg);
      }},
      Vjp{[p](const Vars<T>& in, const Var<T>& ubar) {
            const Shape& sx = in[0].shape();
            return conv2d_input_grad(in[1], ubar, sx[sx.size() - 2], sx.back(), p);
          },
          [p](const Vars<T>& in, const Var<T>& ubar) { return conv2d(in[0], ubar, p); }});
}

// max_pool2d  y = max over each window    jvp: ẏ = gather(ẋ, argmax)    vjp: x̄ = scatter(ḡ, argmax)
template <class T>
Var<T> max_pool2d(const Var<T>& x, kernels::PoolParams p) {
  auto map = std::make_shared<kernels::ArgmaxMap>();
  Tensor<T> v = kernels::max_pool2d(x.value(), p, *map);
  std::shared_ptr<const kernels::ArgmaxMap> m = map;
  return make_op<T>(Op::max_pool2d, {x}, std::move(v),
                    Jvp{[m](const Vars<T>&, const Var<T>& tx) { return pool_gather(tx, m); }},
                    Vjp{[m](const Vars<T>&, const Var<T>& g) { return pool_scatter(g, m); }});
}

// pool_gather  y = x[argmax]       jvp: ẏ = gather(ẋ)       vjp: x̄ = scatter(ḡ)
template <class T>
Var<T> pool_gather(const Var<T>& x, std::shared_ptr<const kernels::ArgmaxMap> m) {
  return make_op<T>(Op::pool_gather, {x}, kernels::pool_gather(x.value(), *m),
                    Jvp{[m](const Vars<T>&, const Var<T>& tx) { return pool_gather(tx, m); }},
                    Vjp{[m](const Vars<T>&, const Var<T>& g) { return pool_scatter(g, m); }});
}

// pool_scatter y = scatter(g)      jvp: ẏ = scatter(ġ)      vjp: ḡ = gather(ȳ)
template <class T>
Var<T> pool_scatter(const Var<T>& g, std::shared_ptr<const kernels::ArgmaxMap> m) {
  return make_op<T>(Op::pool_scatter, {g}, kernels::pool_scatter(g.value(), *m),
                    Jvp{[m](const Vars<T>&, const Var<T>& tg) { return pool_scatter(tg, m); }},
                    Vjp{[m](const Vars<T>&, const Var<T>& ybar) { return pool_gather(ybar, m); }});
}

// avg_pool2d  y = window mean      jvp: ẏ = avg(ẋ)           vjp: x̄ = avgᵀ(ḡ)
template <class T>
Var<T> avg_pool2d(const Var<T>& x, kernels::PoolParams p) {
  std::size_t h = x.shape()[x.rank() - 2], w = x.shape().back();
  return make_op<T>(Op::avg_pool2d, {x}, kernels::avg_pool2d(x.value(), p),
                    Jvp{[p](const Vars<T>&, const Var<T>& tx) { return avg_pool2d(tx, p); }},
                    Vjp{[p, h, w](const Vars<T>&, const Var<T>& g) { return avg_pool2d_adjoint(g, h, w, p); }});
}

// avg_pool2d_adjoint  z = avgᵀ(g)  jvp: ż = avgᵀ(ġ)          vjp: ḡ = avg(z̄)
template <class T>
Var<T> avg_pool2d_adjoint(const Var<T>& g, std::size_t height, std::size_t width, kernels::PoolParams p) {
  return make_op<T>(
      Op::avg_pool2d_adjoint, {g}, kernels::avg_pool2d_adjoint(g.value(), height, width, p),
      Jvp{[p, height, width](const Vars<T>&, const Var<T>& tg) { return avg_pool2d_adjoint(tg, height, width, p); }},
      Vjp{[p](const Vars<T>&, const Var<T>& zbar) { return avg_pool2d(zbar, p); }});
}

// reshape  y = x viewed as `shape`   jvp: ẏ = reshape(ẋ, [k, ...shape])    vjp: x̄ = reshape(ḡ, x.shape)
template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  if (numel_of(shape) != x.numel())
    throw ShapeError("reshape: cannot view " + shape_str(x.shape()) + " as " + shape_str(shape));
  if (shape == x.shape()) return x;
  Tensor<T> v = x.value();
  v.reshape(shape);
  return make_op<T>(
      Op::reshape, {x}, std::move(v),
      WholeOpJvp{[shape](const Vars<T>&, const Vars<T>& t) { return reshape(t[0], prepend(t[0].shape()[0], shape)); }},
      Vjp{[old = x.shape()](const Vars<T>&, const Var<T>& g) { return reshape(g, old); }});
}

// permute  y = x with axes reordered  jvp: ẏ = permute(ẋ, [0, 1+perm])   vjp: x̄ = permute(ḡ, perm⁻¹)
template <class T>
Var<T> permute(const Var<T>& x, const std::vector<std::size_t>& perm) {
  if (perm.size() != x.rank()) throw ShapeError("permute: " + std::to_string(perm.size()) + " axes given for shape " + shape_str(x.shape()));
  std::vector<std::size_t> inverse(perm.size(), perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] >= perm.size() || inverse[perm[i]] != perm.size())
      throw ShapeError("permute: not a permutation of the axes of " + shape_str(x.shape()));
    inverse[perm[i]] = i;
  }
  std::vector<std::size_t> shifted{0};  // the direction axis stays in front
  for (auto a : perm) shifted.push_back(a + 1);
  return make_op<T>(Op::permute, {x}, kernels::permute(x.value(), perm),
                    Jvp{[shifted](const Vars<T>&, const Var<T>& tx) { return permute(tx, shifted); }},
                    Vjp{[inverse](const Vars<T>&, const Var<T>& g) { return permute(g, inverse); }});
}

// sum      y = Σ_axes x      jvp: ẏ = Σ_axes ẋ          vjp: x̄ = broadcast(ḡ, x.shape)
template <class T>
Var<T> sum(const Var<T>& x, std::vector<int> axes, bool keepdims) {
  std::vector<std::size_t> ax = normalize_axes(axes, x.rank(), "sum");
  Shape kept = x.shape();
  for (auto a : ax) kept[a] = 1;
  std::vector<int> shifted;  // the same axes of the tangent [k, ...x]
  for (auto a : ax) shifted.push_back(static_cast<int>(a) + 1);
  return make_op<T>(
      Op::sum, {x}, kernels::sum_axes(x.value(), ax, keepdims),
      Jvp{[shifted, keepdims](const Vars<T>&, const Var<T>& tx) { return sum(tx, shifted, keepdims); }},
      Vjp{[kept](const Vars<T>& in, const Var<T>& g) { return broadcast_to(reshape(g, kept), in[0].shape()); }});
}

// broadcast_to  y = x stretched      jvp: ẏ = broadcast(ẋ)     vjp: x̄ = sum_to(ḡ, x.shape)
template <class T>
Var<T> broadcast_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return make_op<T>(
      Op::broadcast_to, {x}, kernels::broadcast_to(x.value(), shape),
      Jvp{[shape](const Vars<T>&, const Var<T>& tx) { return broadcast_to(tx, prepend(tx.shape()[0], shape)); }},
      Vjp{[](const Vars<T>& in, const Var<T>& g) { return sum_to(g, in[0].shape()); }});
}

// sum_to   y = x summed over broadcast axes   jvp: ẏ = sum_to(ẋ)    vjp: x̄ = broadcast(ḡ, x.shape)
template <class T>
Var<T> sum_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const std::size_t stretched_rank = x.rank() - shape.size();  // leading axes broadcasting added
  return make_op<T>(Op::sum_to, {x}, kernels::sum_to(x.value(), shape),
                    Jvp{[shape, stretched_rank](const Vars<T>&, const Var<T>& tx) {
                      std::size_t k = tx.shape()[0];
                      Shape padded{k};
                      padded.insert(padded.end(), stretched_rank, 1);
                      padded.insert(padded.end(), shape.begin(), shape.end());
                      return reshape(sum_to(tx, padded), prepend(k, shape));
                    }},
                    Vjp{[](const Vars<T>& in, const Var<T>& g) { return broadcast_to(g, in[0].shape()); }});
}

// select   y[n] = x[n, c_n]  jvp: ẏ = select(ẋ)          vjp: x̄ = scatter(ḡ)
template <class T>
Var<T> select(const Var<T>& x, const std::vector<std::size_t>& index) {
  std::size_t classes = x.shape().empty() ? 0 : x.shape().back();
  return make_op<T>(Op::select, {x}, kernels::select_rows(x.value(), index),
                    Jvp{[index](const Vars<T>&, const Var<T>& tx) { return select(tx, index); }},
                    Vjp{[index, classes](const Vars<T>&, const Var<T>& g) { return scatter(g, index, classes); }});
}

// scatter  y[n, c] = g[n]·1[c = c_n]   jvp: ẏ = scatter(ġ)   vjp: ḡ = select(ȳ)
template <class T>
Var<T> scatter(const Var<T>& g, const std::vector<std::size_t>& index, std::size_t classes) {
  return make_op<T>(
      Op::scatter, {g}, kernels::scatter_rows(g.value(), index, classes),
      WholeOpJvp{[index, classes](const Vars<T>&, const Vars<T>& t) { return scatter(t[0], index, classes); }},
      Vjp{[index](const Vars<T>&, const Var<T>& ybar) { return select(ybar, index); }});
}

// logsumexp  y = log Σ_j e^{x_j} (last axis, kept)
//            jvp: ẏ = Σ_j e^{x_j − y} ẋ_j = Σ_j softmax(x)_j ẋ_j    vjp: x̄ = ḡ ⊙ e^{x − y} = ḡ ⊙ softmax(x)
template <class T>
Var<T> logsumexp(const Var<T>& x) {
  return make_op<T>(
      Op::logsumexp, {x}, kernels::logsumexp_last(x.value()),
      Jvp{[](const Vars<T>& in, const Var<T>& y, const Var<T>& tx) { return sum(tx * exp(in[0] - y), {-1}, true); }},
      Vjp{[](const Vars<T>& in, const Var<T>& y, const Var<T>& g) { return g * exp(in[0] - y); }});
}

// concat   y = [a₀, a₁, …] along `axis`   jvp: ẏ = concat(ȧ₀, ȧ₁, …) (0 for an input without tangent)
//          vjp: āᵢ = ḡ[offᵢ : offᵢ + nᵢ] along the axis (a slice)
template <class T>
Var<T> concat(const std::vector<Var<T>>& parts, int axis) {
  if (parts.empty()) throw ShapeError("concat: no parts");
  const Shape& first = parts[0].shape();
  const std::size_t ax = normalize_axis(axis, first.size(), "concat");
  std::vector<std::int64_t> offsets;
  std::vector<const Tensor<T>*> values;
  std::int64_t at = 0;
  for (const Var<T>& part : parts) {
    const Shape& s = part.shape();
    bool fits = s.size() == first.size();
    for (std::size_t a = 0; fits && a < s.size(); ++a) fits = a == ax || s[a] == first[a];
    if (!fits)
      throw ShapeError("concat: part " + shape_str(s) + " does not fit " + shape_str(first) + " along axis " +
                       std::to_string(axis));
    offsets.push_back(at);
    at += static_cast<std::int64_t>(s[ax]);
    values.push_back(&part.value());
  }
  if (parts.size() == 1) return parts[0];
  return make_op<T>(
      Op::concat, Vars<T>(parts), kernels::concat(values, ax),
      WholeOpJvp{[ax](const Vars<T>& in, const Vars<T>& t) {
        std::size_t k = 0;
        for (const auto& ti : t)
          if (ti.defined()) k = ti.shape()[0];
        Vars<T> tangents;
        for (std::size_t i = 0; i < in.size(); ++i)
          tangents.push_back(t[i].defined() ? t[i] : Var<T>(filled<T>(prepend(k, in[i].shape()), T(0)), false));
        return concat(tangents, static_cast<int>(ax) + 1);
      }},
      IndexedVjp{[ax, offsets](std::size_t i, const Vars<T>& in, const Var<T>& g) {
        const auto n = static_cast<std::int64_t>(in[i].shape()[ax]);
        return slice(g, {offsets[i]}, {offsets[i] + n}, {static_cast<std::int64_t>(ax)}, {});
      }});
}

// slice    y = x[starts : ends : steps] along `axes` (ONNX Slice)
//          jvp: ẏ = slice(ẋ) (the same axes + 1)    vjp: x̄ = slice_adjoint(ḡ)
template <class T>
Var<T> slice(const Var<T>& x, std::vector<std::int64_t> starts, std::vector<std::int64_t> ends,
             std::vector<std::int64_t> axes, std::vector<std::int64_t> steps) {
  const kernels::SliceSpec box = kernels::onnx_slice_spec(x.shape(), starts, ends, axes, steps, "slice");
  const std::vector<std::int64_t> own = named_axes(axes, starts.size(), x.rank(), 0);
  const std::vector<std::int64_t> shifted = named_axes(axes, starts.size(), x.rank(), 1);
  return make_op<T>(
      Op::slice, {x}, kernels::gather_box(x.value(), box),
      WholeOpJvp{[starts, ends, shifted, steps](const Vars<T>&, const Vars<T>& t) {
        return slice(t[0], starts, ends, shifted, steps);
      }},
      Vjp{[starts, ends, own, steps](const Vars<T>& in, const Var<T>& g) {
        return slice_adjoint(g, in[0].shape(), starts, ends, own, steps);
      }});
}

// slice_adjoint  z = 0 of `shape` with z[slice] = g
//          jvp: ż = slice_adjoint(ġ) (axes + 1)    vjp: ḡ = slice(z̄)
template <class T>
Var<T> slice_adjoint(const Var<T>& g, const Shape& shape, std::vector<std::int64_t> starts,
                     std::vector<std::int64_t> ends, std::vector<std::int64_t> axes, std::vector<std::int64_t> steps) {
  const kernels::SliceSpec box = kernels::onnx_slice_spec(shape, starts, ends, axes, steps, "slice_adjoint");
  const std::vector<std::int64_t> own = named_axes(axes, starts.size(), shape.size(), 0);
  const std::vector<std::int64_t> shifted = named_axes(axes, starts.size(), shape.size(), 1);
  return make_op<T>(
      Op::slice_adjoint, {g}, kernels::scatter_box(g.value(), box, T(0)),
      WholeOpJvp{[shape, starts, ends, shifted, steps](const Vars<T>&, const Vars<T>& t) {
        return slice_adjoint(t[0], prepend(t[0].shape()[0], shape), starts, ends, shifted, steps);
      }},
      Vjp{[starts, ends, own, steps](const Vars<T>&, const Var<T>& zbar) {
        return slice(zbar, starts, ends, own, steps);
      }});
}

// pad      y = value outside, x inside [begin, begin + x.shape)   (ONNX Pad, constant mode)
//          jvp: ẏ = pad(ẋ, 0 before the k axis, value 0)    vjp: x̄ = ḡ[begin : begin + x.shape]
template <class T>
Var<T> pad(const Var<T>& x, std::vector<std::size_t> begin, std::vector<std::size_t> end, T value) {
  if (begin.size() != x.rank() || end.size() != x.rank())
    throw ShapeError("pad: " + std::to_string(begin.size()) + " begin and " + std::to_string(end.size()) +
                     " end pads for shape " + shape_str(x.shape()) + " (one of each per axis)");
  Shape out = x.shape();
  std::vector<std::int64_t> starts, stops;
  for (std::size_t a = 0; a < out.size(); ++a) {
    out[a] += begin[a] + end[a];
    starts.push_back(static_cast<std::int64_t>(begin[a]));
    stops.push_back(static_cast<std::int64_t>(begin[a] + x.shape()[a]));
  }
  const kernels::SliceSpec box = kernels::box_spec(out, begin, x.shape());
  return make_op<T>(
      Op::pad, {x}, kernels::scatter_box(x.value(), box, value),
      WholeOpJvp{[begin, end](const Vars<T>&, const Vars<T>& t) {
        std::vector<std::size_t> b{0}, e{0};
        b.insert(b.end(), begin.begin(), begin.end());
        e.insert(e.end(), end.begin(), end.end());
        return pad(t[0], b, e, T(0));
      }},
      Vjp{[starts, stops](const Vars<T>&, const Var<T>& g) { return slice(g, starts, stops, {}, {}); }});
}

// take     y = x.take(indices, axis) (ONNX Gather)   jvp: ẏ = take(ẋ, axis + 1)
//          vjp: x̄ = take_adjoint(ḡ): scatter-add into x's shape
template <class T>
Var<T> take(const Var<T>& x, std::vector<std::int64_t> indices, Shape index_shape, int axis) {
  const std::size_t ax = normalize_axis(axis, x.rank(), "take");
  const std::size_t n = x.shape()[ax];
  const std::vector<std::size_t> at = gather_indices(indices, index_shape, n, "take");
  return make_op<T>(
      Op::take, {x}, kernels::take(x.value(), at, index_shape, ax),
      WholeOpJvp{[indices, index_shape, ax](const Vars<T>&, const Vars<T>& t) {
        return take(t[0], indices, index_shape, static_cast<int>(ax) + 1);
      }},
      Vjp{[indices, index_shape, ax, n](const Vars<T>&, const Var<T>& g) {
        return take_adjoint(g, indices, index_shape, static_cast<int>(ax), n);
      }});
}

// take_adjoint  z = 0 with z[..., indices[j], ...] += g[..., j, ...]
//          jvp: ż = take_adjoint(ġ, axis + 1)    vjp: ḡ = take(z̄)
// `axis` is the axis of z (rank g.rank − rank(index_shape) + 1).
template <class T>
Var<T> take_adjoint(const Var<T>& g, std::vector<std::int64_t> indices, Shape index_shape, int axis,
                    std::size_t size) {
  if (g.rank() < index_shape.size())
    throw ShapeError("take_adjoint: cotangent " + shape_str(g.shape()) + " has no room for index shape " +
                     shape_str(index_shape));
  const std::size_t rank = g.rank() - index_shape.size() + 1;
  const std::size_t ax = normalize_axis(axis, rank, "take_adjoint");
  for (std::size_t a = 0; a < index_shape.size(); ++a)
    if (g.shape()[ax + a] != index_shape[a])
      throw ShapeError("take_adjoint: cotangent " + shape_str(g.shape()) + " does not hold index shape " +
                       shape_str(index_shape) + " at axis " + std::to_string(ax));
  const std::vector<std::size_t> at = gather_indices(indices, index_shape, size, "take_adjoint");
  return make_op<T>(
      Op::take_adjoint, {g}, kernels::take_adjoint(g.value(), at, index_shape, ax, size),
      WholeOpJvp{[indices, index_shape, ax, size](const Vars<T>&, const Vars<T>& t) {
        return take_adjoint(t[0], indices, index_shape, static_cast<int>(ax) + 1, size);
      }},
      Vjp{[indices, index_shape, ax](const Vars<T>&, const Var<T>& zbar) {
        return take(zbar, indices, index_shape, static_cast<int>(ax));
      }});
}

// ---- float and double, for every entry of the table ------------------------
#define FLUXION_PRIMITIVE(name, parameters) \
  template decltype(name<float>) name<float>; \
  template decltype(name<double>) name<double>;
#include "autodiff/primitives.def"
#undef FLUXION_PRIMITIVE

}  // namespace fluxion
