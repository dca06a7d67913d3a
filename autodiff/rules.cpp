// THE RULE TABLE: every primitive's forward kernel, JVP rule and VJP rule.
//
// Notation in the comments: y = op(a, b); ȧ = tangent of a (forward mode,
// with a leading axis of k directions); ḡ = cotangent of y and ā, b̄ = the
// cotangents of the inputs (reverse mode). Each entry reads
//
//     op        y = formula          jvp: ẏ = ...        vjp: ā = ..., b̄ = ...
//
// Rules are written with Var ops only, never raw buffers, so each rule is
// itself differentiable: grad-of-grad and tangent-of-grad (exact HVPs) come
// for free. Where broadcasting stretched an input, its cotangent is summed
// back with sum_to; where a tangent has lower rank than the output, `lift`
// inserts unit axes after the direction axis so that it broadcasts correctly.
#include <algorithm>
#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "autodiff/errors.hpp"
#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace fluxion {

namespace {

template <class T>
using Vars = std::vector<Var<T>>;

// ---- helpers for tangents -------------------------------------------------

// Tangent t of shape [k, ...s] → [k, 1, ..., 1, ...s] with rank out_rank + 1.
template <class T>
Var<T> lift(const Var<T>& t, std::size_t out_rank) {
  Shape s = t.shape();
  if (s.size() >= out_rank + 1) return t;
  Shape lifted{s[0]};
  lifted.insert(lifted.end(), out_rank + 1 - s.size(), 1);
  lifted.insert(lifted.end(), s.begin() + 1, s.end());
  return reshape(t, lifted);
}

// Bring a tangent term to exactly [k, ...out].
template <class T>
Var<T> fit(const Var<T>& t, const Shape& out) {
  Var<T> l = lift(t, out.size());
  Shape target = out;
  target.insert(target.begin(), l.shape()[0]);
  return l.shape() == target ? l : broadcast_to(l, target);
}

// a + b where either may be undefined ("no contribution").
template <class T>
Var<T> plus(const Var<T>& a, const Var<T>& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return add(a, b);
}

// Cotangent for an input of shape `s` from a cotangent of the output shape.
template <class T>
Var<T> unbroadcast(const Var<T>& g, const Shape& s) {
  return g.shape() == s ? g : sum_to(g, s);
}

template <class T>
Shape prepend(std::size_t k, Shape s) {
  s.insert(s.begin(), k);
  return s;
}

// Move axis `from` of v to position 0 (keeping the order of the others).
template <class T>
Var<T> axis_to_front(const Var<T>& v, std::size_t from) {
  if (from == 0) return v;
  std::vector<std::size_t> perm{from};
  for (std::size_t i = 0; i < v.rank(); ++i)
    if (i != from) perm.push_back(i);
  return permute(v, perm);
}

// Move axis 0 of v to position `to`.
template <class T>
Var<T> front_to_axis(const Var<T>& v, std::size_t to) {
  if (to == 0) return v;
  std::vector<std::size_t> perm;
  for (std::size_t i = 1; i <= to; ++i) perm.push_back(i);
  perm.push_back(0);
  for (std::size_t i = to + 1; i < v.rank(); ++i) perm.push_back(i);
  return permute(v, perm);
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

// Element-wise binary forward with broadcasting: contiguous loops over merged
// axes (kernels::binary), the ShapeError naming both shapes.
template <class T>
Tensor<T> broadcast_binary(const Var<T>& a, const Var<T>& b, kernels::BinaryOp op, const char* name) {
  return kernels::binary(a.value(), b.value(), op, name);
}

}  // namespace

// ===========================================================================
// add      y = a + b         jvp: ẏ = ȧ + ḃ            vjp: ā = ḡ, b̄ = ḡ (summed to shape)
template <class T>
Var<T> add(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(
      "add", {a, b}, broadcast_binary(a, b, kernels::BinaryOp::add, "add"),
      [](const Vars<T>& in, const Vars<T>& t) {
        // the output shape, recomputed here so that ops without tangents pay nothing
        const Shape out = kernels::broadcast_shapes(in[0].shape(), in[1].shape(), "add");
        return plus(t[0].defined() ? fit(t[0], out) : Var<T>(), t[1].defined() ? fit(t[1], out) : Var<T>());
      },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{in[0].requires_grad() ? unbroadcast(g, in[0].shape()) : Var<T>(),
                       in[1].requires_grad() ? unbroadcast(g, in[1].shape()) : Var<T>()};
      });
}

// sub      y = a − b         jvp: ẏ = ȧ − ḃ            vjp: ā = ḡ, b̄ = −ḡ
template <class T>
Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(
      "sub", {a, b}, broadcast_binary(a, b, kernels::BinaryOp::sub, "sub"),
      [](const Vars<T>& in, const Vars<T>& t) {
        // the output shape, recomputed here so that ops without tangents pay nothing
        const Shape out = kernels::broadcast_shapes(in[0].shape(), in[1].shape(), "sub");
        return plus(t[0].defined() ? fit(t[0], out) : Var<T>(), t[1].defined() ? fit(neg(t[1]), out) : Var<T>());
      },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{in[0].requires_grad() ? unbroadcast(g, in[0].shape()) : Var<T>(),
                       in[1].requires_grad() ? unbroadcast(neg(g), in[1].shape()) : Var<T>()};
      });
}

// mul      y = a ⊙ b         jvp: ẏ = ȧ ⊙ b + a ⊙ ḃ    vjp: ā = ḡ ⊙ b, b̄ = ḡ ⊙ a
template <class T>
Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(
      "mul", {a, b}, broadcast_binary(a, b, kernels::BinaryOp::mul, "mul"),
      [](const Vars<T>& in, const Vars<T>& t) {
        // the output shape, recomputed here so that ops without tangents pay nothing
        const Shape out = kernels::broadcast_shapes(in[0].shape(), in[1].shape(), "mul");
        return plus(t[0].defined() ? fit(mul(lift(t[0], out.size()), in[1]), out) : Var<T>(),
                    t[1].defined() ? fit(mul(in[0], lift(t[1], out.size())), out) : Var<T>());
      },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{in[0].requires_grad() ? unbroadcast(mul(g, in[1]), in[0].shape()) : Var<T>(),
                       in[1].requires_grad() ? unbroadcast(mul(g, in[0]), in[1].shape()) : Var<T>()};
      });
}

// div      y = a ⊘ b         jvp: ẏ = ȧ ⊘ b − a ⊙ ḃ ⊘ b²   vjp: ā = ḡ ⊘ b, b̄ = −ḡ ⊙ a ⊘ b²
template <class T>
Var<T> div(const Var<T>& a, const Var<T>& b) {
  return make_op<T>(
      "div", {a, b}, broadcast_binary(a, b, kernels::BinaryOp::div, "div"),
      [](const Vars<T>& in, const Vars<T>& t) {
        // the output shape, recomputed here so that ops without tangents pay nothing
        const Shape out = kernels::broadcast_shapes(in[0].shape(), in[1].shape(), "div");
        Var<T> ta = t[0].defined() ? fit(div(lift(t[0], out.size()), in[1]), out) : Var<T>();
        Var<T> tb;
        if (t[1].defined()) tb = fit(neg(div(mul(in[0], lift(t[1], out.size())), square(in[1]))), out);
        return plus(ta, tb);
      },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{in[0].requires_grad() ? unbroadcast(div(g, in[1]), in[0].shape()) : Var<T>(),
                       in[1].requires_grad() ? unbroadcast(neg(div(mul(g, in[0]), square(in[1]))), in[1].shape())
                                             : Var<T>()};
      });
}

// neg      y = −x            jvp: ẏ = −ẋ               vjp: x̄ = −ḡ
template <class T>
Var<T> neg(const Var<T>& x) {
  return make_op<T>(
      "neg", {x}, Tensor<T>(-x.value()), [](const Vars<T>&, const Vars<T>& t) { return neg(t[0]); },
      [](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{neg(g)}; });
}

// scale    y = c·x           jvp: ẏ = c·ẋ              vjp: x̄ = c·ḡ
template <class T>
Var<T> scale(const Var<T>& x, T c) {
  return make_op<T>(
      "scale", {x}, Tensor<T>(c * x.value()), [c](const Vars<T>&, const Vars<T>& t) { return scale(t[0], c); },
      [c](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{scale(g, c)}; });
}

// exp      y = eˣ            jvp: ẏ = eˣ ⊙ ẋ           vjp: x̄ = ḡ ⊙ y
template <class T>
Var<T> exp(const Var<T>& x) {
  return make_op<T>(
      "exp", {x}, kernels::map(x.value(), [](T e) { return std::exp(e); }),
      [](const Vars<T>& in, const Vars<T>& t) { return mul(t[0], exp(in[0])); },
      [](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return Vars<T>{mul(g, y)}; });
}

// log      y = ln x          jvp: ẏ = ẋ ⊘ x            vjp: x̄ = ḡ ⊘ x
template <class T>
Var<T> log(const Var<T>& x) {
  return make_op<T>(
      "log", {x}, kernels::map(x.value(), [](T e) { return std::log(e); }),
      [](const Vars<T>& in, const Vars<T>& t) { return div(t[0], in[0]); },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) { return Vars<T>{div(g, in[0])}; });
}

// tanh     y = tanh x        jvp: ẏ = (1 − tanh²x) ⊙ ẋ vjp: x̄ = ḡ ⊙ (1 − y²)
template <class T>
Var<T> tanh(const Var<T>& x) {
  return make_op<T>(
      "tanh", {x}, kernels::map(x.value(), [](T e) { return std::tanh(e); }),
      [](const Vars<T>& in, const Vars<T>& t) { return mul(t[0], T(1) - square(tanh(in[0]))); },
      [](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return Vars<T>{mul(g, T(1) - square(y))}; });
}

// sigmoid  y = σ(x)          jvp: ẏ = σ(1 − σ) ⊙ ẋ     vjp: x̄ = ḡ ⊙ y ⊙ (1 − y)
template <class T>
Var<T> sigmoid(const Var<T>& x) {
  // Stable: σ(x) = 1/(1+e⁻ˣ) for x ≥ 0, eˣ/(1+eˣ) for x < 0.
  Tensor<T> v = kernels::map(x.value(), [](T e) {
    return e >= 0 ? T(1) / (T(1) + std::exp(-e)) : std::exp(e) / (T(1) + std::exp(e));
  });
  return make_op<T>(
      "sigmoid", {x}, std::move(v),
      [](const Vars<T>& in, const Vars<T>& t) {
        Var<T> s = sigmoid(in[0]);
        return mul(t[0], mul(s, T(1) - s));
      },
      [](const Vars<T>&, const Var<T>& y, const Var<T>& g) { return Vars<T>{mul(g, mul(y, T(1) - y))}; });
}

// relu     y = max(x, 0)     jvp: ẏ = 1[x>0] ⊙ ẋ       vjp: x̄ = ḡ ⊙ 1[x>0]   (relu'(0) = 0)
template <class T>
Var<T> relu(const Var<T>& x) {
  return make_op<T>(
      "relu", {x}, kernels::map(x.value(), [](T e) { return e > T(0) ? e : T(0); }),
      [](const Vars<T>& in, const Vars<T>& t) { return mul(t[0], step(in[0])); },
      [](const Vars<T>& in, const Var<T>&, const Var<T>& g) { return Vars<T>{mul(g, step(in[0]))}; });
}

// step     y = 1[x > 0]      a constant: its derivative is 0 almost everywhere.
template <class T>
Var<T> step(const Var<T>& x) {
  return Var<T>(kernels::map(x.value(), [](T e) { return e > T(0) ? T(1) : T(0); }), false);
}

// softplus y = max(x,0) + log1p(e^{−β|x|})/β     jvp: ẏ = σ(βx) ⊙ ẋ     vjp: x̄ = ḡ ⊙ σ(βx)
template <class T>
Var<T> softplus(const Var<T>& x, T beta) {
  if (!(beta > 0)) throw std::invalid_argument("softplus: beta must be > 0");
  Tensor<T> v = kernels::map(
      x.value(), [beta](T e) { return std::max(e, T(0)) + std::log1p(std::exp(-beta * std::abs(e))) / beta; });
  return make_op<T>(
      "softplus", {x}, std::move(v),
      [beta](const Vars<T>& in, const Vars<T>& t) { return mul(t[0], sigmoid(scale(in[0], beta))); },
      [beta](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{mul(g, sigmoid(scale(in[0], beta)))};
      });
}

// pow      y = xᵖ            jvp: ẏ = p xᵖ⁻¹ ⊙ ẋ       vjp: x̄ = ḡ ⊙ p xᵖ⁻¹
template <class T>
Var<T> pow(const Var<T>& x, T p) {
  Tensor<T> v = x.value();
  if (p == T(2)) v = v * v;
  else if (p == T(1)) {
  } else if (p == T(0)) v.fill(T(1));
  else v = xt::pow(v, p);
  auto slope = [p](const Var<T>& x_) {
    return p == T(1) ? Var<T>(filled<T>(x_.shape(), T(1))) : scale(pow(x_, p - T(1)), p);
  };
  return make_op<T>(
      "pow", {x}, std::move(v),
      [p, slope](const Vars<T>& in, const Vars<T>& t) {
        return p == T(0) ? Var<T>(filled<T>(t[0].shape(), T(0))) : mul(t[0], slope(in[0]));
      },
      [p, slope](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return Vars<T>{p == T(0) ? Var<T>(filled<T>(g.shape(), T(0))) : mul(g, slope(in[0]))};
      });
}

// matmul   y = op(A) op(B)   jvp: ẏ = op(Ȧ) op(B) + op(A) op(Ḃ)
//          vjp (no transposes): Ā = ḡ Bᵀ, B̄ = Aᵀ ḡ; with transposes the same
//          identities, rearranged so no explicit transpose is materialised.
template <class T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool ta, bool tb) {
  Tensor<T> v = kernels::matmul(a.value(), b.value(), ta, tb);
  std::size_t out_rank = v.dimension();
  return make_op<T>(
      "matmul", {a, b}, std::move(v),
      [ta, tb, out_rank](const Vars<T>& in, const Vars<T>& t) {
        Var<T> da = t[0].defined() ? matmul(lift(t[0], out_rank), in[1], ta, tb) : Var<T>();
        Var<T> db = t[1].defined() ? matmul(in[0], lift(t[1], out_rank), ta, tb) : Var<T>();
        return plus(da, db);
      },
      [ta, tb](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        Var<T> ga, gb;
        if (in[0].requires_grad())
          ga = unbroadcast(ta ? matmul(in[1], g, tb, true) : matmul(g, in[1], false, !tb), in[0].shape());
        if (in[1].requires_grad())
          gb = unbroadcast(tb ? matmul(g, in[0], true, ta) : matmul(in[0], g, !ta, false), in[1].shape());
        return Vars<T>{ga, gb};
      });
}

// conv2d   y = conv(x, w)    jvp: ẏ = conv(ẋ, w) + conv(x, ẇ)
//                            vjp: x̄ = convᵀ(ḡ, w), w̄ = weight_grad(x, ḡ)
// Tangent directions ride along as a leading image axis for ẋ; for ẇ they
// are folded into the output channels (k·O) and moved to the front.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& w, kernels::Conv2dParams p) {
  return make_op<T>(
      "conv2d", {x, w}, kernels::conv2d(x.value(), w.value(), p),
      [p](const Vars<T>& in, const Vars<T>& t) {
        Var<T> dx = t[0].defined() ? conv2d(t[0], in[1], p) : Var<T>();
        Var<T> dw;
        if (t[1].defined()) {
          const Shape& sw = in[1].shape();
          std::size_t k = t[1].shape()[0], lead = in[0].rank() - 3;
          Var<T> y = conv2d(in[0], reshape(t[1], {k * sw[0], sw[1], sw[2], sw[3]}), p);  // [L.., k·O, Ho, Wo]
          Shape s = y.shape();
          Shape split(s.begin(), s.begin() + lead);
          split.insert(split.end(), {k, sw[0], s[lead + 1], s[lead + 2]});
          dw = axis_to_front(reshape(y, split), lead);
        }
        return plus(dx, dw);
      },
      [p](const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        const Shape& sx = in[0].shape();
        const Shape& sw = in[1].shape();
        Var<T> gx, gw;
        if (in[0].requires_grad()) gx = conv2d_input_grad(g, in[1], sx[sx.size() - 2], sx.back(), p);
        if (in[1].requires_grad()) gw = conv2d_weight_grad(in[0], g, sw[2], sw[3], p);
        return Vars<T>{gx, gw};
      });
}

// conv2d_input_grad  z = convᵀ(g, w)   jvp: ż = convᵀ(ġ, w) + convᵀ(g, ẇ)
//                    vjp (z̄):  ḡ = conv(z̄, w),  w̄ = weight_grad(z̄, g)
template <class T>
Var<T> conv2d_input_grad(const Var<T>& g, const Var<T>& w, std::size_t height, std::size_t width,
                         kernels::Conv2dParams p) {
  return make_op<T>(
      "conv2d_input_grad", {g, w}, kernels::conv2d_input_grad(g.value(), w.value(), height, width, p),
      [p, height, width](const Vars<T>& in, const Vars<T>& t) {
        Var<T> dg = t[0].defined() ? conv2d_input_grad(t[0], in[1], height, width, p) : Var<T>();
        Var<T> dw;
        if (t[1].defined()) {
          const Shape& sw = in[1].shape();  // [O, C, kh, kw]
          std::size_t k = t[1].shape()[0], lead = in[0].rank() - 3;
          Var<T> wk = reshape(permute(t[1], {1, 0, 2, 3, 4}), {sw[0], k * sw[1], sw[2], sw[3]});
          Var<T> z = conv2d_input_grad(in[0], wk, height, width, p);  // [L.., k·C, H, W]
          Shape s = z.shape();
          Shape split(s.begin(), s.begin() + lead);
          split.insert(split.end(), {k, sw[1], height, width});
          dw = axis_to_front(reshape(z, split), lead);
        }
        return plus(dg, dw);
      },
      [p](const Vars<T>& in, const Var<T>&, const Var<T>& zbar) {
        const Shape& sw = in[1].shape();
        Var<T> gg, gw;
        if (in[0].requires_grad()) gg = conv2d(zbar, in[1], p);
        if (in[1].requires_grad()) gw = conv2d_weight_grad(zbar, in[0], sw[2], sw[3], p);
        return Vars<T>{gg, gw};
      });
}

// conv2d_weight_grad u = Σ g ⋆ x      jvp: u̇ = wg(ẋ, g) + wg(x, ġ)
//                    vjp (ū):  x̄ = convᵀ(g, ū),  ḡ = conv(x, ū)
template <class T>
Var<T> conv2d_weight_grad(const Var<T>& x, const Var<T>& g, std::size_t kh, std::size_t kw,
                          kernels::Conv2dParams p) {
  return make_op<T>(
      "conv2d_weight_grad", {x, g}, kernels::conv2d_weight_grad(x.value(), g.value(), kh, kw, p),
      [p, kh, kw](const Vars<T>& in, const Vars<T>& t) {
        std::size_t lead = in[0].rank() - 3;
        // Fold the direction axis k into the channel axis of one operand:
        // [k, L.., C, H, W] → [L.., k·C, H, W].
        auto fold = [lead](const Var<T>& tangent) {
          Var<T> moved = front_to_axis(tangent, lead);
          Shape s = moved.shape();
          Shape folded(s.begin(), s.begin() + lead);
          folded.insert(folded.end(), {s[lead] * s[lead + 1], s[lead + 2], s[lead + 3]});
          return reshape(moved, folded);
        };
        Var<T> dx, dg;
        if (t[0].defined()) {
          std::size_t k = t[0].shape()[0];
          Var<T> u = conv2d_weight_grad(fold(t[0]), in[1], kh, kw, p);  // [O, k·C, kh, kw]
          const Shape& su = u.shape();
          dx = permute(reshape(u, {su[0], k, su[1] / k, kh, kw}), {1, 0, 2, 3, 4});
        }
        if (t[1].defined()) {
          std::size_t k = t[1].shape()[0];
          Var<T> u = conv2d_weight_grad(in[0], fold(t[1]), kh, kw, p);  // [k·O, C, kh, kw]
          const Shape& su = u.shape();
          dg = reshape(u, {k, su[0] / k, su[1], kh, kw});
        }
        return plus(dx, dg);
      },
      [p](const Vars<T>& in, const Var<T>&, const Var<T>& ubar) {
        const Shape& sx = in[0].shape();
        Var<T> gx, gg;
        if (in[0].requires_grad()) gx = conv2d_input_grad(in[1], ubar, sx[sx.size() - 2], sx.back(), p);
        if (in[1].requires_grad()) gg = conv2d(in[0], ubar, p);
        return Vars<T>{gx, gg};
      });
}

// max_pool2d  y = max over each window    jvp: ẏ = gather(ẋ, argmax)    vjp: x̄ = scatter(ḡ, argmax)
template <class T>
Var<T> max_pool2d(const Var<T>& x, kernels::PoolParams p) {
  auto map = std::make_shared<kernels::ArgmaxMap>();
  Tensor<T> v = kernels::max_pool2d(x.value(), p, *map);
  std::shared_ptr<const kernels::ArgmaxMap> m = map;
  return make_op<T>(
      "max_pool2d", {x}, std::move(v), [m](const Vars<T>&, const Vars<T>& t) { return pool_gather(t[0], m); },
      [m](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{pool_scatter(g, m)}; });
}

// pool_gather  y = x[argmax]       jvp: ẏ = gather(ẋ)       vjp: x̄ = scatter(ḡ)
template <class T>
Var<T> pool_gather(const Var<T>& x, std::shared_ptr<const kernels::ArgmaxMap> m) {
  return make_op<T>(
      "pool_gather", {x}, kernels::pool_gather(x.value(), *m),
      [m](const Vars<T>&, const Vars<T>& t) { return pool_gather(t[0], m); },
      [m](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{pool_scatter(g, m)}; });
}

// pool_scatter y = scatter(g)      jvp: ẏ = scatter(ġ)      vjp: ḡ = gather(ȳ)
template <class T>
Var<T> pool_scatter(const Var<T>& g, std::shared_ptr<const kernels::ArgmaxMap> m) {
  return make_op<T>(
      "pool_scatter", {g}, kernels::pool_scatter(g.value(), *m),
      [m](const Vars<T>&, const Vars<T>& t) { return pool_scatter(t[0], m); },
      [m](const Vars<T>&, const Var<T>&, const Var<T>& gy) { return Vars<T>{pool_gather(gy, m)}; });
}

// avg_pool2d  y = window mean      jvp: ẏ = avg(ẋ)           vjp: x̄ = avgᵀ(ḡ)
template <class T>
Var<T> avg_pool2d(const Var<T>& x, kernels::PoolParams p) {
  std::size_t h = x.shape()[x.rank() - 2], w = x.shape().back();
  return make_op<T>(
      "avg_pool2d", {x}, kernels::avg_pool2d(x.value(), p),
      [p](const Vars<T>&, const Vars<T>& t) { return avg_pool2d(t[0], p); },
      [p, h, w](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{avg_pool2d_adjoint(g, h, w, p)}; });
}

// avg_pool2d_adjoint  z = avgᵀ(g)  jvp: ż = avgᵀ(ġ)          vjp: ḡ = avg(z̄)
template <class T>
Var<T> avg_pool2d_adjoint(const Var<T>& g, std::size_t height, std::size_t width, kernels::PoolParams p) {
  return make_op<T>(
      "avg_pool2d_adjoint", {g}, kernels::avg_pool2d_adjoint(g.value(), height, width, p),
      [p, height, width](const Vars<T>&, const Vars<T>& t) { return avg_pool2d_adjoint(t[0], height, width, p); },
      [p](const Vars<T>&, const Var<T>&, const Var<T>& z) { return Vars<T>{avg_pool2d(z, p)}; });
}

// reshape  y = x viewed as `shape`   jvp: ẏ = reshape(ẋ)    vjp: x̄ = reshape(ḡ, x.shape)
template <class T>
Var<T> reshape(const Var<T>& x, const Shape& shape) {
  if (numel_of(shape) != x.numel())
    throw ShapeError("reshape: cannot view " + shape_str(x.shape()) + " as " + shape_str(shape));
  if (shape == x.shape()) return x;
  Tensor<T> v = x.value();
  v.reshape(shape);
  Shape old = x.shape();
  return make_op<T>(
      "reshape", {x}, std::move(v),
      [shape](const Vars<T>&, const Vars<T>& t) { return reshape(t[0], prepend<T>(t[0].shape()[0], shape)); },
      [old](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{reshape(g, old)}; });
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
  return make_op<T>(
      "permute", {x}, kernels::permute(x.value(), perm),
      [perm](const Vars<T>&, const Vars<T>& t) {
        std::vector<std::size_t> shifted{0};
        for (auto a : perm) shifted.push_back(a + 1);
        return permute(t[0], shifted);
      },
      [inverse](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{permute(g, inverse)}; });
}

// sum      y = Σ_axes x      jvp: ẏ = Σ_axes ẋ          vjp: x̄ = broadcast(ḡ, x.shape)
template <class T>
Var<T> sum(const Var<T>& x, std::vector<int> axes, bool keepdims) {
  std::vector<std::size_t> ax = normalize_axes(axes, x.rank(), "sum");
  Shape kept = x.shape();
  for (auto a : ax) kept[a] = 1;
  Shape in_shape = x.shape();
  return make_op<T>(
      "sum", {x}, kernels::sum_axes(x.value(), ax, keepdims),
      [ax, keepdims](const Vars<T>&, const Vars<T>& t) {
        std::vector<int> shifted;
        for (auto a : ax) shifted.push_back(static_cast<int>(a) + 1);
        return sum(t[0], shifted, keepdims);
      },
      [kept, in_shape](const Vars<T>&, const Var<T>&, const Var<T>& g) {
        return Vars<T>{broadcast_to(reshape(g, kept), in_shape)};
      });
}

// broadcast_to  y = x stretched      jvp: ẏ = broadcast(ẋ)     vjp: x̄ = sum_to(ḡ, x.shape)
template <class T>
Var<T> broadcast_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Shape in_shape = x.shape();
  return make_op<T>(
      "broadcast_to", {x}, kernels::broadcast_to(x.value(), shape),
      [shape](const Vars<T>&, const Vars<T>& t) {
        return broadcast_to(lift(t[0], shape.size()), prepend<T>(t[0].shape()[0], shape));
      },
      [in_shape](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{sum_to(g, in_shape)}; });
}

// sum_to   y = x summed over broadcast axes   jvp: ẏ = sum_to(ẋ)    vjp: x̄ = broadcast(ḡ, x.shape)
template <class T>
Var<T> sum_to(const Var<T>& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  Shape in_shape = x.shape();
  return make_op<T>(
      "sum_to", {x}, kernels::sum_to(x.value(), shape),
      [shape, in_shape](const Vars<T>&, const Vars<T>& t) {
        std::size_t k = t[0].shape()[0];
        Shape padded{k};
        padded.insert(padded.end(), in_shape.size() - shape.size(), 1);
        padded.insert(padded.end(), shape.begin(), shape.end());
        return reshape(sum_to(t[0], padded), prepend<T>(k, shape));
      },
      [in_shape](const Vars<T>&, const Var<T>&, const Var<T>& g) { return Vars<T>{broadcast_to(g, in_shape)}; });
}

// select   y[n] = x[n, c_n]  jvp: ẏ = select(ẋ)          vjp: x̄ = scatter(ḡ)
template <class T>
Var<T> select(const Var<T>& x, const std::vector<std::size_t>& index) {
  std::size_t classes = x.shape().empty() ? 0 : x.shape().back();
  return make_op<T>(
      "select", {x}, kernels::select_rows(x.value(), index),
      [index](const Vars<T>&, const Vars<T>& t) { return select(t[0], index); },
      [index, classes](const Vars<T>&, const Var<T>&, const Var<T>& g) {
        return Vars<T>{scatter(g, index, classes)};
      });
}

// scatter  y[n, c] = g[n]·1[c = c_n]   jvp: ẏ = scatter(ġ)   vjp: ḡ = select(ȳ)
template <class T>
Var<T> scatter(const Var<T>& g, const std::vector<std::size_t>& index, std::size_t classes) {
  return make_op<T>(
      "scatter", {g}, kernels::scatter_rows(g.value(), index, classes),
      [index, classes](const Vars<T>&, const Vars<T>& t) { return scatter(t[0], index, classes); },
      [index](const Vars<T>&, const Var<T>&, const Var<T>& y) { return Vars<T>{select(y, index)}; });
}

// logsumexp  y = log Σ_j e^{x_j} (last axis, kept)
//            jvp: ẏ = Σ_j softmax(x)_j ẋ_j        vjp: x̄ = ḡ ⊙ e^{x − y} = ḡ ⊙ softmax(x)
template <class T>
Var<T> logsumexp(const Var<T>& x) {
  return make_op<T>(
      "logsumexp", {x}, kernels::logsumexp_last(x.value()),
      [](const Vars<T>& in, const Vars<T>& t) {
        Var<T> p = exp(sub(in[0], logsumexp(in[0])));
        return sum(mul(t[0], p), {-1}, true);
      },
      [](const Vars<T>& in, const Var<T>& y, const Var<T>& g) { return Vars<T>{mul(g, exp(sub(in[0], y)))}; });
}

// ---- explicit instantiation ------------------------------------------------
#define FLUXION_INSTANTIATE(T)                                                                              \
  template Var<T> add(const Var<T>&, const Var<T>&);                                                        \
  template Var<T> sub(const Var<T>&, const Var<T>&);                                                        \
  template Var<T> mul(const Var<T>&, const Var<T>&);                                                        \
  template Var<T> div(const Var<T>&, const Var<T>&);                                                        \
  template Var<T> neg(const Var<T>&);                                                                       \
  template Var<T> scale(const Var<T>&, T);                                                                  \
  template Var<T> exp(const Var<T>&);                                                                       \
  template Var<T> log(const Var<T>&);                                                                       \
  template Var<T> tanh(const Var<T>&);                                                                      \
  template Var<T> sigmoid(const Var<T>&);                                                                   \
  template Var<T> relu(const Var<T>&);                                                                      \
  template Var<T> step(const Var<T>&);                                                                      \
  template Var<T> softplus(const Var<T>&, T);                                                               \
  template Var<T> pow(const Var<T>&, T);                                                                    \
  template Var<T> matmul(const Var<T>&, const Var<T>&, bool, bool);                                         \
  template Var<T> conv2d(const Var<T>&, const Var<T>&, kernels::Conv2dParams);                              \
  template Var<T> conv2d_input_grad(const Var<T>&, const Var<T>&, std::size_t, std::size_t,                 \
                                    kernels::Conv2dParams);                                                 \
  template Var<T> conv2d_weight_grad(const Var<T>&, const Var<T>&, std::size_t, std::size_t,                \
                                     kernels::Conv2dParams);                                                \
  template Var<T> max_pool2d(const Var<T>&, kernels::PoolParams);                                           \
  template Var<T> pool_gather(const Var<T>&, std::shared_ptr<const kernels::ArgmaxMap>);                    \
  template Var<T> pool_scatter(const Var<T>&, std::shared_ptr<const kernels::ArgmaxMap>);                   \
  template Var<T> avg_pool2d(const Var<T>&, kernels::PoolParams);                                           \
  template Var<T> avg_pool2d_adjoint(const Var<T>&, std::size_t, std::size_t, kernels::PoolParams);         \
  template Var<T> reshape(const Var<T>&, const Shape&);                                                     \
  template Var<T> permute(const Var<T>&, const std::vector<std::size_t>&);                                  \
  template Var<T> sum(const Var<T>&, std::vector<int>, bool);                                               \
  template Var<T> broadcast_to(const Var<T>&, const Shape&);                                                \
  template Var<T> sum_to(const Var<T>&, const Shape&);                                                      \
  template Var<T> select(const Var<T>&, const std::vector<std::size_t>&);                                   \
  template Var<T> scatter(const Var<T>&, const std::vector<std::size_t>&, std::size_t);                     \
  template Var<T> logsumexp(const Var<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
