#include "nn/graph/graph_ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/graph/integer_ops.hpp"
#include "nn/modules/size_limits.hpp"

namespace fluxion {

// ---------------------------------------------------------------------------
// OpCall helpers: reading inputs and attributes, one sentence per problem.

template <class T>
void OpCall<T>::fail(const std::string& problem) const {
  throw InputError(where + ": " + problem);
}

template <class T>
const Var<T>& OpCall<T>::real(std::size_t i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is missing");
  if (inputs[i]->is_integer) fail("input " + std::to_string(i) + " ('" + node.inputs[i] + "') is an integer tensor, a real one is needed");
  return inputs[i]->real;
}

template <class T>
IntTensor OpCall<T>::integer(std::size_t i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is missing");
  const GraphValue<T>& v = *inputs[i];
  if (v.is_integer) return v.integer;
  // A real constant of whole numbers (some exporters store shapes as floats).
  if (v.real.requires_grad() || v.real.has_tangent()) fail("input " + std::to_string(i) + " ('" + node.inputs[i] + "') must be a constant integer tensor");
  IntTensor t{v.real.shape(), {}};
  for (std::size_t k = 0; k < v.real.value().size(); ++k) {
    const T e = v.real.value().data()[k];
    if (!(std::isfinite(e) && e == std::trunc(e) && std::abs(double(e)) < 9.2e18)) fail("input " + std::to_string(i) + " must hold integers");
    t.data.push_back(static_cast<std::int64_t>(e));
  }
  return t;
}

template <class T>
const GraphAttribute* OpCall<T>::attribute(const std::string& name) const {
  auto it = node.attributes.find(name);
  return it == node.attributes.end() ? nullptr : &it->second;
}

template <class T>
std::int64_t OpCall<T>::attr_int(const std::string& name, std::int64_t fallback) const {
  const GraphAttribute* a = attribute(name);
  if (!a) return fallback;
  if (a->kind != GraphAttribute::Kind::integer) fail("attribute '" + name + "' must be an integer");
  return a->i;
}

template <class T>
double OpCall<T>::attr_float(const std::string& name, double fallback) const {
  const GraphAttribute* a = attribute(name);
  if (!a) return fallback;
  if (a->kind == GraphAttribute::Kind::integer) return double(a->i);
  if (a->kind != GraphAttribute::Kind::real) fail("attribute '" + name + "' must be a number");
  return a->f;
}

template <class T>
std::string OpCall<T>::attr_string(const std::string& name, const std::string& fallback) const {
  const GraphAttribute* a = attribute(name);
  if (!a) return fallback;
  if (a->kind != GraphAttribute::Kind::text) fail("attribute '" + name + "' must be a string");
  return a->s;
}

template <class T>
std::vector<std::int64_t> OpCall<T>::attr_ints(const std::string& name, std::vector<std::int64_t> fallback) const {
  const GraphAttribute* a = attribute(name);
  if (!a) return fallback;
  if (a->kind == GraphAttribute::Kind::integer) return {a->i};
  if (a->kind != GraphAttribute::Kind::integers) fail("attribute '" + name + "' must be a list of integers");
  return a->ints;
}

template struct OpCall<float>;
template struct OpCall<double>;

namespace {

template <class T>
using Values = std::vector<GraphValue<T>>;

/// Does v depend on a differentiated variable (reverse mode) or carry a tangent (forward mode)?
template <class T>
bool varies(const Var<T>& v) {
  return v.requires_grad() || v.has_tangent();
}

template <class T>
Values<T> one(Var<T> v) {
  return {GraphValue<T>::of(std::move(v))};
}
template <class T>
Values<T> one(IntTensor t) {
  return {GraphValue<T>::of(std::move(t))};
}

/// Refuses a result of more than evaluation.max_value_elements elements
/// before it is allocated (small inputs can ask for a huge one: a broadcast,
/// ConstantOfShape, Pad).
template <class T>
void check_size(const OpCall<T>& c, const Shape& shape) {
  std::uint64_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > c.evaluation.max_value_elements / d)
      c.fail("the result " + shape_str(shape) + " has more than " + std::to_string(c.evaluation.max_value_elements) + " elements");
    n *= d;
  }
  if (n > c.evaluation.max_value_elements)
    c.fail("the result " + shape_str(shape) + " has more than " + std::to_string(c.evaluation.max_value_elements) + " elements");
}

/// An axis in [−rank, rank) as an index in [0, rank).
template <class T>
std::size_t axis_index(const OpCall<T>& c, std::int64_t axis, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r)
    c.fail("axis " + std::to_string(axis) + " is out of range for a tensor of rank " + std::to_string(rank));
  return static_cast<std::size_t>(axis < 0 ? axis + r : axis);
}

template <class T>
Shape shape_from(const OpCall<T>& c, const std::vector<std::int64_t>& dims) {
  Shape s;
  for (std::int64_t d : dims) {
    if (d < 0) c.fail("a shape holds the negative extent " + std::to_string(d));
    s.push_back(static_cast<std::size_t>(d));
  }
  check_size(c, s);
  return s;
}

// ---- element-wise ----------------------------------------------------------

/// Element-wise binary with NumPy broadcasting; integers stay integers (shape arithmetic).
template <class T>
Values<T> binary(const OpCall<T>& c, Var<T> (*real_op)(const Var<T>&, const Var<T>&), IntegerBinary int_op) {
  if (c.has_input(0) && c.has_input(1) && c.inputs[0]->is_integer && c.inputs[1]->is_integer)
    return one<T>(integer_binary(c.integer(0), c.integer(1), int_op, c.where));
  const Var<T>& a = c.real(0);
  Var<T> b = c.real(1);
  // Opsets 1–6 broadcast B only with broadcast = 1, its axes matched to A's from `axis`
  // (default: the trailing axes) — not NumPy's rule, which opset 7 adopted.
  if (c.evaluation.opset < 7 && c.attr_int("broadcast", 0) != 0 && b.rank() < a.rank()) {
    const std::size_t start = c.attribute("axis") ? axis_index(c, c.attr_int("axis", 0), a.rank()) : a.rank() - b.rank();
    if (start + b.rank() > a.rank()) c.fail("B does not fit A from the broadcast axis");
    Shape s(a.rank(), 1);
    for (std::size_t i = 0; i < b.rank(); ++i) s[start + i] = b.shape()[i];
    b = reshape(b, s);
  }
  // the broadcast result is checked before it is allocated (two small inputs can make a huge one)
  check_size(c, broadcast_shape(a.shape(), b.shape(), c.where));
  return one<T>(real_op(a, b));
}

template <class T> Var<T> add_v(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T> Var<T> sub_v(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T> Var<T> mul_v(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T> Var<T> div_v(const Var<T>& a, const Var<T>& b) { return div(a, b); }
template <class T> Var<T> max_v(const Var<T>& a, const Var<T>& b) { return maximum(a, b); }
template <class T> Var<T> min_v(const Var<T>& a, const Var<T>& b) { return minimum(a, b); }

template <class T> Values<T> op_add(const OpCall<T>& c) { return binary(c, add_v<T>, IntegerBinary::add); }
template <class T> Values<T> op_sub(const OpCall<T>& c) { return binary(c, sub_v<T>, IntegerBinary::sub); }
template <class T> Values<T> op_mul(const OpCall<T>& c) { return binary(c, mul_v<T>, IntegerBinary::mul); }
template <class T> Values<T> op_div(const OpCall<T>& c) { return binary(c, div_v<T>, IntegerBinary::div); }

/// Max / Min / Sum / Mean over any number of inputs, broadcasting (ONNX variadic ops).
template <class T>
Var<T> fold_inputs(const OpCall<T>& c, Var<T> (*op)(const Var<T>&, const Var<T>&)) {
  if (c.inputs.empty()) c.fail("needs at least one input");
  Var<T> acc = c.real(0);
  for (std::size_t i = 1; i < c.inputs.size(); ++i) {
    check_size(c, broadcast_shape(acc.shape(), c.real(i).shape(), c.where));
    acc = op(acc, c.real(i));
  }
  return acc;
}
template <class T> Values<T> op_max(const OpCall<T>& c) { return one(fold_inputs(c, max_v<T>)); }
template <class T> Values<T> op_min(const OpCall<T>& c) { return one(fold_inputs(c, min_v<T>)); }
template <class T> Values<T> op_sum(const OpCall<T>& c) { return one(fold_inputs(c, add_v<T>)); }
template <class T> Values<T> op_mean(const OpCall<T>& c) {
  return one(scale(fold_inputs(c, add_v<T>), T(1) / T(c.inputs.size())));
}

// Relu: max(x, 0); a smoothed graph evaluates it as SoftPlus(β) (nn/models/smoothing.hpp).
template <class T> Values<T> op_relu(const OpCall<T>& c) {
  const double beta = c.evaluation.relu_softplus_beta;
  return one(beta > 0 ? softplus(c.real(0), T(beta)) : relu(c.real(0)));
}
template <class T> Values<T> op_sigmoid(const OpCall<T>& c) { return one(sigmoid(c.real(0))); }
template <class T> Values<T> op_tanh(const OpCall<T>& c) { return one(tanh(c.real(0))); }
template <class T> Values<T> op_exp(const OpCall<T>& c) { return one(exp(c.real(0))); }
template <class T> Values<T> op_log(const OpCall<T>& c) { return one(log(c.real(0))); }
template <class T> Values<T> op_neg(const OpCall<T>& c) {
  if (c.has_input(0) && c.inputs[0]->is_integer) return one<T>(integer_negate(c.integer(0), c.where));
  return one(neg(c.real(0)));
}
template <class T> Values<T> op_abs(const OpCall<T>& c) { return one(abs(c.real(0))); }
template <class T> Values<T> op_sqrt(const OpCall<T>& c) { return one(sqrt(c.real(0))); }
template <class T> Values<T> op_reciprocal(const OpCall<T>& c) { return one(pow(c.real(0), T(-1))); }
template <class T> Values<T> op_erf(const OpCall<T>& c) { return one(erf(c.real(0))); }
// Softplus: ln(1 + eˣ). Fluxion's own graphs may carry a "beta" (SoftPlus(β) = ln(1 + e^{βx})/β).
template <class T> Values<T> op_softplus(const OpCall<T>& c) { return one(softplus(c.real(0), T(c.attr_float("beta", 1.0)))); }
// LeakyRelu: x > 0 ? x : αx, α = 0.01 by default.
template <class T> Values<T> op_leaky_relu(const OpCall<T>& c) { return one(leaky_relu(c.real(0), T(c.attr_float("alpha", 0.01)))); }
// Elu: x > 0 ? x : α(eˣ − 1), α = 1 by default.
template <class T> Values<T> op_elu(const OpCall<T>& c) { return one(elu(c.real(0), T(c.attr_float("alpha", 1.0)))); }
// Gelu (opset 20, also what newer exporters write): x·Φ(x), or its tanh approximation.
template <class T> Values<T> op_gelu(const OpCall<T>& c) {
  const std::string approximate = c.attr_string("approximate", "none");
  const Var<T>& x = c.real(0);
  if (approximate == "none") return one(gelu(x));
  if (approximate != "tanh") c.fail("attribute approximate must be 'none' or 'tanh', got '" + approximate + "'");
  // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
  const T k = T(std::sqrt(2.0 / M_PI));
  Var<T> inner = scale(add(x, scale(pow(x, T(3)), T(0.044715))), k);
  return one(mul(scale(x, T(0.5)), add(tanh(inner), scalar<T>(T(1)))));
}
// Pow: x^p for a constant scalar exponent p (the case exported models use: x², x^0.5).
template <class T> Values<T> op_pow(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  if (!c.has_input(1)) c.fail("input 1 (the exponent) is missing");
  const GraphValue<T>& e = *c.inputs[1];
  if (numel_of(e.shape()) != 1 || (!e.is_integer && varies(e.real)))
    c.fail("only a constant scalar exponent is supported");
  const double p = e.is_integer ? double(e.integer.data[0]) : double(e.real.value().data()[0]);
  return one(pow(x, T(p)));
}
// Clip: min(max(x, lo), hi); opset < 11 reads lo/hi from attributes, later opsets from inputs 1 and 2.
template <class T> Values<T> op_clip(const OpCall<T>& c) {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  auto scalar_input = [&](std::size_t i) {
    const GraphValue<T>& v = *c.inputs[i];
    if (numel_of(v.shape()) != 1 || (!v.is_integer && varies(v.real)))
      c.fail("input " + std::to_string(i) + " must be a constant scalar");
    return v.is_integer ? double(v.integer.data[0]) : double(v.real.value().data()[0]);
  };
  if (c.evaluation.opset < 11) {
    lo = c.attr_float("min", lo);
    hi = c.attr_float("max", hi);
  } else {
    if (c.has_input(1)) lo = scalar_input(1);
    if (c.has_input(2)) hi = scalar_input(2);
  }
  Var<T> y = c.real(0);
  if (std::isfinite(lo)) y = maximum(y, scalar<T>(T(lo)));
  if (std::isfinite(hi)) y = minimum(y, scalar<T>(T(hi)));
  return one(y);
}

// Softmax / LogSoftmax. Opset ≥ 13: along `axis` (default −1). Opset < 13:
// the input is coerced to 2-D [Π dims[:axis], Π dims[axis:]] (axis default 1)
// and normalised along its second axis.
template <class T>
Var<T> softmax_along(const OpCall<T>& c, bool log_form) {
  const Var<T>& x = c.real(0);
  const Shape s = x.shape();
  if (c.evaluation.opset >= 13) {
    const std::size_t axis = axis_index(c, c.attr_int("axis", -1), s.size());
    return log_form ? log_softmax(x, int(axis)) : softmax(x, int(axis));
  }
  const std::size_t axis = axis_index(c, c.attr_int("axis", 1), s.size());
  const std::size_t rows = std::accumulate(s.begin(), s.begin() + axis, std::size_t{1}, std::multiplies<>());
  Var<T> flat = reshape(x, {rows, numel_of(s) / std::max<std::size_t>(rows, 1)});
  return reshape(log_form ? log_softmax(flat) : softmax(flat), s);
}
template <class T> Values<T> op_softmax(const OpCall<T>& c) { return one(softmax_along(c, false)); }
template <class T> Values<T> op_log_softmax(const OpCall<T>& c) { return one(softmax_along(c, true)); }

// ---- linear algebra ----------------------------------------------------------

// Gemm: Y = α·op(A)·op(B) + β·C, op(M) = Mᵀ if transM; C broadcasts to [M, N].
template <class T> Values<T> op_gemm(const OpCall<T>& c) {
  const Var<T>& a = c.real(0);
  const Var<T>& b = c.real(1);
  if (a.rank() != 2 || b.rank() != 2) c.fail("A and B must be matrices, got " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
  check_size(c, {a.shape()[c.attr_int("transA", 0) != 0 ? 1 : 0], b.shape()[c.attr_int("transB", 0) != 0 ? 0 : 1]});
  Var<T> y = matmul(a, b, c.attr_int("transA", 0) != 0, c.attr_int("transB", 0) != 0);
  const double alpha = c.attr_float("alpha", 1.0), beta = c.attr_float("beta", 1.0);
  if (alpha != 1.0) y = scale(y, T(alpha));
  if (c.has_input(2)) {
    Var<T> bias = c.real(2);
    if (beta != 1.0) bias = scale(bias, T(beta));
    check_size(c, broadcast_shape(y.shape(), bias.shape(), c.where));
    y = add(y, bias);
  }
  return one(y);
}

// MatMul: NumPy matmul — batch axes broadcast; a 1-D operand is a row
// (left) or column (right) vector whose axis is removed from the result.
template <class T> Values<T> op_matmul(const OpCall<T>& c) {
  Var<T> a = c.real(0), b = c.real(1);
  const bool vector_a = a.rank() == 1, vector_b = b.rank() == 1;
  if (vector_a) a = reshape(a, {1, a.shape()[0]});
  if (vector_b) b = reshape(b, {b.shape()[0], 1});
  if (a.rank() < 2 || b.rank() < 2) c.fail("operands must have rank >= 1");
  const Shape sa = a.shape(), sb = b.shape();
  Shape out = broadcast_shape(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2), c.where);
  out.push_back(sa[sa.size() - 2]);
  out.push_back(sb.back());
  check_size(c, out);
  Var<T> y = matmul(a, b);
  Shape s = y.shape();
  if (vector_b) s.erase(s.end() - 1);
  if (vector_a) s.erase(s.end() - (vector_b ? 1 : 2));
  return one(s == y.shape() ? y : reshape(y, s));
}

// ---- convolution and pooling ----------------------------------------------------

/// The spatial geometry of a Conv/Pool node, for 1-D or 2-D windows:
/// explicit pads [x1_begin, x2_begin, x1_end, x2_end], or auto_pad
/// SAME_UPPER/SAME_LOWER (output = ⌈in/stride⌉; the odd pad goes at the end
/// or the beginning) or VALID (no padding).
struct Window {
  std::size_t dims = 2;
  std::array<std::size_t, 2> kernel{1, 1}, strides{1, 1}, dilations{1, 1};
  std::array<std::size_t, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
};

template <class T>
Window read_window(const OpCall<T>& c, const Shape& x_shape, std::vector<std::int64_t> kernel) {
  const std::size_t dims = x_shape.size() - 2;
  if (dims != 1 && dims != 2) c.fail("only 1-D and 2-D windows are supported, the input has shape " + shape_str(x_shape));
  Window w;
  w.dims = dims;
  if (kernel.size() != dims) c.fail("kernel_shape must have " + std::to_string(dims) + " entries");
  // Window sizes come from attributes: bounded (2^20) so that no product of them can overflow.
  constexpr std::int64_t kMaxWindow = std::int64_t{1} << 20;
  auto positive = [&](const char* name, std::int64_t v) {
    if (v < 1 || v > kMaxWindow)
      c.fail(std::string("attribute ") + name + " must be in 1.." + std::to_string(kMaxWindow) + ", got " + std::to_string(v));
    return std::size_t(v);
  };
  std::vector<std::int64_t> strides = c.attr_ints("strides", std::vector<std::int64_t>(dims, 1));
  std::vector<std::int64_t> dilations = c.attr_ints("dilations", std::vector<std::int64_t>(dims, 1));
  std::vector<std::int64_t> pads = c.attr_ints("pads", std::vector<std::int64_t>(2 * dims, 0));
  if (strides.size() != dims || dilations.size() != dims || pads.size() != 2 * dims)
    c.fail("strides, dilations and pads must have " + std::to_string(dims) + ", " + std::to_string(dims) + " and " +
           std::to_string(2 * dims) + " entries");
  // A 1-D window is a 2-D one of height 1: index 1 of the arrays is the real axis.
  const std::size_t first = 2 - dims;
  for (std::size_t i = 0; i < dims; ++i) {
    w.kernel[first + i] = positive("kernel_shape", kernel[i]);
    w.strides[first + i] = positive("strides", strides[i]);
    w.dilations[first + i] = positive("dilations", dilations[i]);
    if (pads[i] < 0 || pads[dims + i] < 0) c.fail("negative pads are not supported");
    if (pads[i] > kMaxWindow || pads[dims + i] > kMaxWindow) c.fail("pads above " + std::to_string(kMaxWindow) + " are not supported");
    w.pads[first + i] = std::size_t(pads[i]);
    w.pads[2 + first + i] = std::size_t(pads[dims + i]);
  }
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (std::size_t i = 0; i < dims; ++i) {
      const std::size_t a = first + i, in = x_shape[2 + i];
      const std::size_t out = (in + w.strides[a] - 1) / w.strides[a];
      const std::size_t span = (w.kernel[a] - 1) * w.dilations[a] + 1;
      const std::size_t need = (out - 1) * w.strides[a] + span;
      const std::size_t total = need > in ? need - in : 0;
      const std::size_t small = total / 2, large = total - small;
      w.pads[a] = auto_pad == "SAME_UPPER" ? small : large;
      w.pads[2 + a] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else if (auto_pad == "VALID") {
    w.pads = {0, 0, 0, 0};
  } else if (auto_pad != "NOTSET") {
    c.fail("attribute auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + auto_pad + "'");
  }
  // the padded planes bound every result of the window (pads are attributes: unbounded in a file)
  Shape padded(x_shape.begin(), x_shape.end() - std::ptrdiff_t(dims));
  padded.push_back(x_shape[2] + w.pads[first] + w.pads[2 + first]);
  if (dims == 2) padded.push_back(x_shape[3] + w.pads[1] + w.pads[3]);
  check_size(c, padded);
  return w;
}

/// [N, C, L] → [N, C, 1, L] for a 1-D window (identity for 2-D).
template <class T>
Var<T> as_planes(const Var<T>& x, const Window& w) {
  if (w.dims == 2) return x;
  Shape s = x.shape();
  s.insert(s.end() - 1, 1);
  return reshape(x, s);
}
template <class T>
Var<T> from_planes(const Var<T>& y, const Window& w) {
  if (w.dims == 2) return y;
  Shape s = y.shape();
  s.erase(s.end() - 2);
  return reshape(y, s);
}

/// The bias B [O] added to Y [N, O, spatial...] as [1, O, 1, ...].
template <class T>
Var<T> add_channel_bias(const Var<T>& y, const Var<T>& bias) {
  Shape s(y.rank(), 1);
  s[1] = numel_of(bias.shape());
  return add(y, reshape(bias, s));
}

// Conv: Y[n, o] = Σ_{c in o's group} W[o, c] ⋆ X[n, c] + B[o], with strides, pads, dilations, group.
template <class T> Values<T> op_conv(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  const Var<T>& w = c.real(1);
  if (x.rank() != w.rank() || x.rank() < 3) c.fail("X " + shape_str(x.shape()) + " and W " + shape_str(w.shape()) + " must have the same rank >= 3");
  const Shape ws = w.shape();
  std::vector<std::int64_t> kernel = c.attr_ints("kernel_shape", std::vector<std::int64_t>(ws.begin() + 2, ws.end()));
  const Window win = read_window(c, x.shape(), kernel);
  Shape bound = x.shape();  // the result is at most [N, O, padded planes]
  bound[1] = ws[0];
  for (std::size_t i = 2; i < bound.size(); ++i) bound[i] += win.pads[(2 - win.dims) + (i - 2)] + win.pads[2 + (2 - win.dims) + (i - 2)];
  check_size(c, bound);
  const std::int64_t group = c.attr_int("group", 1);
  if (group < 1) c.fail("attribute group must be positive");
  const auto p = kernels::Conv2dParams::make(win.strides, win.pads, win.dilations, std::size_t(group));
  Var<T> y = from_planes(conv2d(as_planes(x, win), as_planes(w, win), p), win);
  if (c.has_input(2)) y = add_channel_bias(y, c.real(2));
  return one(y);
}

// ConvTranspose: the adjoint of Conv (W [C, O/group, kh, kw]):
// Ho = sh·(H − 1) + output_padding + dh·(kh − 1) + 1 − pt − pb, likewise Wo.
template <class T> Values<T> op_conv_transpose(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  const Var<T>& w = c.real(1);
  if (x.rank() != 4 || w.rank() != 4) c.fail("only 2-D ConvTranspose [N, C, H, W] is supported, got " + shape_str(x.shape()));
  if (c.attribute("output_shape")) c.fail("attribute output_shape is not supported (give pads and output_padding)");
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") c.fail("auto_pad " + auto_pad + " is not supported for ConvTranspose");
  const Shape ws = w.shape();
  Window win = read_window(c, x.shape(), c.attr_ints("kernel_shape", {std::int64_t(ws[2]), std::int64_t(ws[3])}));
  const std::vector<std::int64_t> op = c.attr_ints("output_padding", {0, 0});
  if (op.size() != 2 || op[0] < 0 || op[1] < 0 || std::size_t(op[0]) >= std::max(win.strides[0], win.dilations[0]) ||
      std::size_t(op[1]) >= std::max(win.strides[1], win.dilations[1]))
    c.fail("output_padding must be two values below the strides");
  const std::int64_t group = c.attr_int("group", 1);
  if (group < 1) c.fail("attribute group must be positive");
  Shape bound = {x.shape()[0], ws[1] * std::size_t(group)};
  for (std::size_t a = 0; a < 2; ++a)
    bound.push_back(win.strides[a] * x.shape()[2 + a] + win.dilations[a] * win.kernel[a] + std::size_t(op[a]));
  check_size(c, bound);
  const auto p = kernels::Conv2dParams::make(win.strides, win.pads, win.dilations, std::size_t(group));
  Var<T> y = conv_transpose2d(x, w, p, {std::size_t(op[0]), std::size_t(op[1])});
  if (c.has_input(2)) y = add_channel_bias(y, c.real(2));
  return one(y);
}

// MaxPool: Y = max over each window (padding never wins); strides default 1.
template <class T> Values<T> op_max_pool(const OpCall<T>& c) {
  if (c.node.outputs.size() > 1 && !c.node.outputs[1].empty()) c.fail("the Indices output is not supported");
  if (c.attr_int("storage_order", 0) != 0) c.fail("storage_order = 1 is not supported");
  const Var<T>& x = c.real(0);
  const Window win = read_window(c, x.shape(), c.attr_ints("kernel_shape"));
  const auto p = kernels::PoolParams::make(win.kernel, win.strides, win.pads, win.dilations,
                                          c.attr_int("ceil_mode", 0) != 0, false);
  return one(from_planes(max_pool2d(as_planes(x, win), p), win));
}

// AveragePool: Y = mean over each window; the padding counts only with count_include_pad.
template <class T> Values<T> op_average_pool(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  const Window win = read_window(c, x.shape(), c.attr_ints("kernel_shape"));
  if (win.dilations != std::array<std::size_t, 2>{1, 1}) c.fail("dilations are not supported for AveragePool");
  const auto p = kernels::PoolParams::make(win.kernel, win.strides, win.pads, win.dilations,
                                          c.attr_int("ceil_mode", 0) != 0, c.attr_int("count_include_pad", 0) != 0);
  return one(from_planes(avg_pool2d(as_planes(x, win), p), win));
}

// GlobalAveragePool: Y[n, c, 1, …] = mean of X[n, c, …].
template <class T> Values<T> op_global_average_pool(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  if (x.rank() < 3) c.fail("X must have rank >= 3, got " + shape_str(x.shape()));
  std::vector<int> axes;
  for (std::size_t a = 2; a < x.rank(); ++a) axes.push_back(int(a));
  return one(mean(x, axes, true));
}

// GlobalMaxPool: Y[n, c, 1, 1] = max of X[n, c, :, :] (one window the size of the plane).
template <class T> Values<T> op_global_max_pool(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  if (x.rank() != 4) c.fail("only 2-D inputs [N, C, H, W] are supported, got " + shape_str(x.shape()));
  const std::size_t h = x.shape()[2], w = x.shape()[3];
  const auto p = kernels::PoolParams::make({h, w}, {1, 1}, {0, 0, 0, 0}, {1, 1}, false, false);
  return one(max_pool2d(x, p));
}

// BatchNormalization (inference): Y = γ·(X − μ)/√(σ² + ε) + β per channel (axis 1).
// With constant statistics (always, in exported models) it folds to Y = a·X + b,
// a = γ/√(σ² + ε) and b = β − μ·a, computed once in double.
template <class T> Values<T> op_batch_norm(const OpCall<T>& c) {
  if (c.attr_int("training_mode", 0) != 0) c.fail("training_mode = 1 is not supported when explaining (inference only)");
  if (c.attr_int("spatial", 1) != 1) c.fail("spatial = 0 (opsets 6–8: statistics per element) is not supported");
  for (std::size_t i = 1; i < c.node.outputs.size(); ++i)
    if (!c.node.outputs[i].empty()) c.fail("the running-statistics outputs (training mode) are not supported");
  const Var<T>& x = c.real(0);
  if (x.rank() < 2) c.fail("X must have rank >= 2");
  const std::size_t channels = x.shape()[1];
  const double eps = c.attr_float("epsilon", 1e-5);
  Shape s(x.rank(), 1);
  s[1] = channels;
  bool constant = true;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (numel_of(c.real(i).shape()) != channels)
      c.fail("input " + std::to_string(i) + " must hold one value per channel (" + std::to_string(channels) + ")");
    constant = constant && !varies(c.real(i));
  }
  if (constant) {
    Tensor<T> a(Shape{channels}), b(Shape{channels});
    for (std::size_t k = 0; k < channels; ++k) {
      const double gamma = c.real(1).value().data()[k], beta = c.real(2).value().data()[k];
      const double mu = c.real(3).value().data()[k], var = c.real(4).value().data()[k];
      const double scale_k = gamma / std::sqrt(var + eps);
      a.data()[k] = T(scale_k);
      b.data()[k] = T(beta - mu * scale_k);
    }
    return one(add(mul(x, reshape(Var<T>(a), s)), reshape(Var<T>(b), s)));
  }
  Var<T> inv_std = pow(add(reshape(c.real(4), s), scalar<T>(T(eps))), T(-0.5));
  return one(add(mul(mul(sub(x, reshape(c.real(3), s)), inv_std), reshape(c.real(1), s)), reshape(c.real(2), s)));
}

// ---- shapes ---------------------------------------------------------------------

template <class T>
Values<T> with_shape(const OpCall<T>& c, const Shape& s) {
  check_size(c, s);
  if (c.inputs[0]->is_integer) return one<T>(IntTensor{s, c.inputs[0]->integer.data});
  return one(reshape(c.real(0), s));
}

// Flatten: [d0, …, dn] → [Π d[:axis], Π d[axis:]], axis default 1.
template <class T> Values<T> op_flatten(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape s = c.inputs[0]->shape();
  const std::int64_t raw = c.attr_int("axis", 1);
  const std::size_t axis = raw == std::int64_t(s.size()) ? s.size() : axis_index(c, raw, s.size());
  const std::size_t rows = std::accumulate(s.begin(), s.begin() + axis, std::size_t{1}, std::multiplies<>());
  const std::size_t cols = std::accumulate(s.begin() + axis, s.end(), std::size_t{1}, std::multiplies<>());
  return with_shape(c, {rows, cols});
}

// Reshape: to the shape in input 1, where 0 copies the input's extent (unless allowzero) and −1 is inferred.
template <class T> Values<T> op_reshape(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape in = c.inputs[0]->shape();
  const IntTensor target = c.integer(1);
  const bool allow_zero = c.attr_int("allowzero", 0) != 0;
  Shape out(target.data.size());
  std::size_t known = 1;
  int inferred = -1;
  for (std::size_t i = 0; i < target.data.size(); ++i) {
    const std::int64_t d = target.data[i];
    if (d == -1) {
      if (inferred >= 0) c.fail("the target shape has more than one −1");
      inferred = int(i);
      continue;
    }
    if (d < -1) c.fail("the target shape holds " + std::to_string(d));
    if (d == 0 && !allow_zero) {
      if (i >= in.size()) c.fail("a 0 in the target shape has no input axis to copy");
      out[i] = in[i];
    } else {
      out[i] = std::size_t(d);
    }
    known *= out[i];
  }
  const std::size_t total = numel_of(in);
  if (inferred >= 0) {
    if (known == 0 || total % known != 0) c.fail("cannot infer the −1 of the target shape for " + shape_str(in));
    out[std::size_t(inferred)] = total / known;
  }
  if (numel_of(out) != total) c.fail("cannot reshape " + shape_str(in) + " to " + shape_str(out));
  return with_shape(c, out);
}

template <class T>
std::vector<std::int64_t> axes_of(const OpCall<T>& c, std::size_t input, int opset_of_inputs) {
  if (c.evaluation.opset >= opset_of_inputs) return c.has_input(input) ? c.integer(input).data : std::vector<std::int64_t>{};
  return c.attr_ints("axes");
}

// Squeeze: removes the listed axes of extent 1 (all of them if none are listed).
template <class T> Values<T> op_squeeze(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape in = c.inputs[0]->shape();
  std::vector<bool> drop(in.size(), false);
  const std::vector<std::int64_t> axes = axes_of(c, 1, 13);
  if (axes.empty()) {
    for (std::size_t i = 0; i < in.size(); ++i) drop[i] = in[i] == 1;
  }
  for (std::int64_t a : axes) {
    const std::size_t i = axis_index(c, a, in.size());
    if (in[i] != 1) c.fail("cannot squeeze axis " + std::to_string(a) + " of extent " + std::to_string(in[i]));
    drop[i] = true;
  }
  Shape out;
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!drop[i]) out.push_back(in[i]);
  return with_shape(c, out);
}

// Unsqueeze: inserts axes of extent 1 at the listed positions of the output.
template <class T> Values<T> op_unsqueeze(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape in = c.inputs[0]->shape();
  const std::vector<std::int64_t> axes = axes_of(c, 1, 13);
  const std::size_t rank = in.size() + axes.size();
  std::vector<bool> inserted(rank, false);
  for (std::int64_t a : axes) {
    const std::size_t i = axis_index(c, a, rank);
    if (inserted[i]) c.fail("axis " + std::to_string(a) + " is listed twice");
    inserted[i] = true;
  }
  Shape out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < rank; ++i) out.push_back(inserted[i] ? 1 : in[next++]);
  return with_shape(c, out);
}

// Transpose: Y = X with axes permuted by perm (default: reversed).
template <class T> Values<T> op_transpose(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const std::size_t rank = c.inputs[0]->shape().size();
  std::vector<std::int64_t> raw = c.attr_ints("perm");
  std::vector<std::size_t> perm;
  if (raw.empty()) {
    for (std::size_t i = rank; i-- > 0;) perm.push_back(i);
  } else {
    if (raw.size() != rank) c.fail("perm must have one entry per axis (" + std::to_string(rank) + ")");
    std::vector<bool> seen(rank, false);
    for (std::int64_t p : raw) {
      const std::size_t i = axis_index(c, p, rank);
      if (seen[i]) c.fail("perm repeats axis " + std::to_string(p));
      seen[i] = true;
      perm.push_back(i);
    }
  }
  if (c.inputs[0]->is_integer) return one<T>(integer_permute(c.integer(0), perm));
  return one(permute(c.real(0), perm));
}

// Concat: joins the inputs along `axis`.
template <class T> Values<T> op_concat(const OpCall<T>& c) {
  if (c.inputs.empty()) c.fail("needs at least one input");
  const std::size_t rank = c.inputs[0]->shape().size();
  const std::size_t axis = axis_index(c, c.attr_int("axis", 0), rank);
  bool all_integer = true;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.has_input(i)) c.fail("input " + std::to_string(i) + " is missing");
    all_integer = all_integer && c.inputs[i]->is_integer;
  }
  if (all_integer) {
    std::vector<IntTensor> parts;
    for (std::size_t i = 0; i < c.inputs.size(); ++i) parts.push_back(c.integer(i));
    return one<T>(integer_concat(parts, axis, c.where));
  }
  std::vector<Var<T>> parts;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) parts.push_back(c.real(i));
  return one(concat(parts, int(axis)));
}

// Slice: per listed axis, elements start, start + step, … before end
// (negative indices count from the end; out-of-range ones are clamped).
template <class T> Values<T> op_slice(const OpCall<T>& c) {
  std::vector<std::int64_t> starts, ends, axes, steps;
  if (c.evaluation.opset < 10) {
    starts = c.attr_ints("starts");
    ends = c.attr_ints("ends");
    axes = c.attr_ints("axes");
  } else {
    starts = c.integer(1).data;
    ends = c.integer(2).data;
    if (c.has_input(3)) axes = c.integer(3).data;
    if (c.has_input(4)) steps = c.integer(4).data;
  }
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape in = c.inputs[0]->shape();
  if (axes.empty())
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(std::int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.fail("starts, ends, axes and steps must have the same length");
  for (std::int64_t& a : axes) a = std::int64_t(axis_index(c, a, in.size()));
  for (std::int64_t s : steps)
    if (s == 0) c.fail("a step is 0");
  // indices beyond ±2^62 mean "to the end" like any other out-of-range one; clamped so no arithmetic overflows
  const std::int64_t limit = std::int64_t{1} << 62;
  for (auto* list : {&starts, &ends, &steps})
    for (std::int64_t& v : *list) v = std::clamp(v, -limit, limit);
  if (c.inputs[0]->is_integer) return one<T>(integer_slice(c.integer(0), starts, ends, axes, steps));
  return one(slice(c.real(0), starts, ends, axes, steps));
}

// Gather: Y = X indexed by the constant `indices` along `axis` (negative indices count from the end).
template <class T> Values<T> op_gather(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape in = c.inputs[0]->shape();
  const std::size_t axis = axis_index(c, c.attr_int("axis", 0), in.size());
  IntTensor idx = c.integer(1);
  const auto extent = std::int64_t(in[axis]);
  for (std::int64_t& i : idx.data) {
    if (i < -extent || i >= extent) c.fail("index " + std::to_string(i) + " is out of range for an axis of extent " + std::to_string(extent));
    if (i < 0) i += extent;
  }
  Shape out(in.begin(), in.begin() + axis);
  out.insert(out.end(), idx.shape.begin(), idx.shape.end());
  out.insert(out.end(), in.begin() + axis + 1, in.end());
  check_size(c, out);
  if (c.inputs[0]->is_integer) return one<T>(integer_take(c.integer(0), idx, axis));
  return one(take(c.real(0), idx.data, idx.shape, int(axis)));
}

// Pad (mode "constant"): pads [x1_begin, x2_begin, …, x1_end, x2_end, …] with
// constant_value; opset < 11 reads pads/value from attributes.
template <class T> Values<T> op_pad(const OpCall<T>& c) {
  const std::string mode = c.attr_string("mode", "constant");
  if (mode != "constant") c.fail("only mode 'constant' is supported, the node asks for '" + mode + "'");
  const Var<T>& x = c.real(0);
  std::vector<std::int64_t> pads;
  double value = 0;
  if (c.evaluation.opset < 11) {
    pads = c.attr_ints("pads");
    value = c.attr_float("value", 0.0);
  } else {
    pads = c.integer(1).data;
    if (c.has_input(2)) {
      const GraphValue<T>& v = *c.inputs[2];
      if (numel_of(v.shape()) != 1 || (!v.is_integer && varies(v.real))) c.fail("constant_value must be a constant scalar");
      value = v.is_integer ? double(v.integer.data[0]) : double(v.real.value().data()[0]);
    }
    if (c.has_input(3)) c.fail("the axes input (opset 18) is not supported");
  }
  const std::size_t rank = x.rank();
  if (pads.size() != 2 * rank) c.fail("pads must have 2 × rank = " + std::to_string(2 * rank) + " entries");
  std::vector<std::size_t> begin(rank), end(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    if (pads[i] < 0 || pads[rank + i] < 0) c.fail("negative pads are not supported");
    if (pads[i] > (std::int64_t{1} << 31) || pads[rank + i] > (std::int64_t{1} << 31)) c.fail("pads above 2^31 are not supported");
    begin[i] = std::size_t(pads[i]);
    end[i] = std::size_t(pads[rank + i]);
  }
  Shape out = x.shape();
  for (std::size_t i = 0; i < rank; ++i) out[i] += begin[i] + end[i];
  check_size(c, out);
  return one(pad(x, begin, end, T(value)));
}

// ReduceMean / ReduceSum over `axes` (all if none), keepdims default 1;
// ReduceSum reads axes from input 1 from opset 13, ReduceMean from opset 18.
template <class T>
Var<T> reduce(const OpCall<T>& c, bool mean_form) {
  const Var<T>& x = c.real(0);
  const std::vector<std::int64_t> raw = axes_of(c, 1, mean_form ? 18 : 13);
  if (raw.empty() && c.attr_int("noop_with_empty_axes", 0) != 0) return x;
  std::vector<int> axes;
  for (std::int64_t a : raw) axes.push_back(int(axis_index(c, a, x.rank())));
  const bool keep = c.attr_int("keepdims", 1) != 0;
  return mean_form ? mean(x, axes, keep) : sum(x, axes, keep);
}
template <class T> Values<T> op_reduce_mean(const OpCall<T>& c) { return one(reduce(c, true)); }
template <class T> Values<T> op_reduce_sum(const OpCall<T>& c) { return one(reduce(c, false)); }

// ---- constants, identity, types ------------------------------------------------

template <class T> Values<T> op_identity(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  return {*c.inputs[0]};
}

// Dropout at inference: Y = X (and a mask of ones if asked); training_mode = true is refused.
template <class T> Values<T> op_dropout(const OpCall<T>& c) {
  if (c.evaluation.opset >= 12 && c.has_input(2)) {
    const IntTensor mode = c.integer(2);
    if (!mode.data.empty() && mode.data[0] != 0) c.fail("training_mode = true is not supported when explaining");
  }
  if (!c.has_input(0)) c.fail("input 0 is missing");
  Values<T> out{*c.inputs[0]};
  if (c.node.outputs.size() > 1) {
    const Shape s = c.inputs[0]->shape();
    out.push_back(GraphValue<T>::of(IntTensor{s, std::vector<std::int64_t>(numel_of(s), 1)}));
  }
  return out;
}

// Constant: the tensor of attribute value (or value_float(s) / value_int(s)).
template <class T> Values<T> op_constant(const OpCall<T>& c) {
  if (const GraphAttribute* a = c.attribute("value")) {
    if (a->kind != GraphAttribute::Kind::tensor || !a->t) c.fail("attribute value must be a tensor");
    return {GraphValue<T>::of(*a->t)};
  }
  if (const GraphAttribute* a = c.attribute("value_float")) return {GraphValue<T>::of(ConstantTensor{{}, false, {}, {a->f}})};
  if (const GraphAttribute* a = c.attribute("value_floats"))
    return {GraphValue<T>::of(ConstantTensor{{a->floats.size()}, false, {}, a->floats})};
  if (const GraphAttribute* a = c.attribute("value_int")) return one<T>(IntTensor{{}, {a->i}});
  if (const GraphAttribute* a = c.attribute("value_ints")) return one<T>(IntTensor{{a->ints.size()}, a->ints});
  c.fail("has none of the attributes value, value_float(s), value_int(s) (sparse_value and strings are not supported)");
}

// Shape: the input's shape as an int64 vector (opset 15: the axes [start, end)).
template <class T> Values<T> op_shape(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const Shape s = c.inputs[0]->shape();
  const auto rank = std::int64_t(s.size());
  std::int64_t start = c.attr_int("start", 0), end = c.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<std::int64_t>(start, 0, rank);
  end = std::clamp<std::int64_t>(end, start, rank);
  IntTensor t{{std::size_t(end - start)}, {}};
  for (std::int64_t i = start; i < end; ++i) t.data.push_back(std::int64_t(s[std::size_t(i)]));
  return one<T>(t);
}

/// ONNX TensorProto.DataType codes that hold integers (bool included).
bool integer_type(std::int64_t code) {
  switch (code) {
    case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 12: case 13: return true;
    default: return false;
  }
}
bool real_type(std::int64_t code) { return code == 1 || code == 10 || code == 11 || code == 16; }

/// The nearest IEEE binary16 value (ties to even): 11 significant bits,
/// subnormals spaced 2^−24, overflow to ±∞ from 65520 on.
double round_to_half(double x) {
  if (!std::isfinite(x) || x == 0) return x;
  const double a = std::abs(x);
  if (a >= 65520.0) return std::copysign(INFINITY, x);
  int e = 0;
  std::frexp(a, &e);  // a = m·2^e, m in [0.5, 1)
  const double spacing = std::ldexp(1.0, std::max(e, -13) - 11);
  return std::copysign(std::nearbyint(a / spacing) * spacing, x);
}

/// The nearest bfloat16 value (the top 16 bits of a float32, ties to even).
double round_to_bfloat16(double x) {
  const float f = float(x);
  if (!std::isfinite(f)) return f;
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  bits &= 0xFFFF0000u;
  float r;
  std::memcpy(&r, &bits, 4);
  return r;
}

// Cast: real ↔ integer (towards zero; bool: x ≠ 0). Real → real keeps the
// graph's precision T: Fluxion computes in one precision throughout.
template <class T> Values<T> op_cast(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  const std::int64_t to = c.attr_int("to", 0);
  const GraphValue<T>& x = *c.inputs[0];
  if (real_type(to)) {
    Var<T> y;
    if (x.is_integer) {
      Tensor<T> t(x.integer.shape);
      for (std::size_t i = 0; i < x.integer.data.size(); ++i) t.data()[i] = T(x.integer.data[i]);
      y = Var<T>(std::move(t));
    } else {
      y = x.real;
    }
    if (to != 10 && to != 16) return one(y);
    // float16 / bfloat16: round each value, y + (round(y) − y) with the
    // correction a constant, so the derivative passes straight through (as in PyTorch's .half()).
    Tensor<T> correction = y.value();
    for (std::size_t i = 0; i < correction.size(); ++i) {
      const double v = double(correction.data()[i]);
      correction.data()[i] = T((to == 10 ? round_to_half(v) : round_to_bfloat16(v)) - v);
    }
    return one(add(y, Var<T>(std::move(correction))));
  }
  if (!integer_type(to)) c.fail("cast to data type " + std::to_string(to) + " is not supported");
  IntTensor t = x.is_integer ? x.integer : IntTensor{x.real.shape(), {}};
  if (!x.is_integer)
    for (std::size_t i = 0; i < x.real.value().size(); ++i) {
      const T e = x.real.value().data()[i];
      if (!(std::abs(double(e)) < 9.2e18)) c.fail("cannot cast " + std::to_string(double(e)) + " to a 64-bit integer");
      t.data.push_back(static_cast<std::int64_t>(e));
    }
  if (to == 9)
    for (std::int64_t& e : t.data) e = e != 0;
  return one<T>(t);
}

// ConstantOfShape: a tensor of the shape in input 0 filled with `value` (default float 0).
template <class T> Values<T> op_constant_of_shape(const OpCall<T>& c) {
  const Shape s = shape_from(c, c.integer(0).data);
  ConstantTensor fill{{}, false, {}, {0.0}};
  if (const GraphAttribute* a = c.attribute("value")) {
    if (a->kind != GraphAttribute::Kind::tensor || !a->t || (a->t->integer ? a->t->ints.size() : a->t->reals.size()) != 1)
      c.fail("attribute value must be a one-element tensor");
    fill = *a->t;
  }
  if (fill.integer) return one<T>(IntTensor{s, std::vector<std::int64_t>(numel_of(s), fill.ints[0])});
  return one(Var<T>(filled<T>(s, T(fill.reals[0]))));
}

// PRelu: x < 0 ? slope·x : x = max(x, 0) + slope·min(x, 0), slope broadcast to x.
template <class T> Values<T> op_prelu(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  Var<T> slope = c.real(1);
  // opsets < 9 also allow a slope [C] for x [N, C, ...] ("unidirectional" from axis 1)
  if (slope.rank() == 1 && x.rank() > 2 && slope.shape()[0] == x.shape()[1] && slope.shape()[0] != x.shape().back()) {
    Shape s(x.rank() - 1, 1);
    s[0] = slope.shape()[0];
    slope = reshape(slope, s);
  }
  check_size(c, broadcast_shape(x.shape(), slope.shape(), c.where));
  return one(add(maximum(x, scalar<T>(T(0))), mul(slope, minimum(x, scalar<T>(T(0))))));
}
// Selu: γ·(x > 0 ? x : α(eˣ − 1)) = γ·elu(x, α) (Klambauer et al. 2017; ONNX's default α, γ).
template <class T> Values<T> op_selu(const OpCall<T>& c) {
  const double alpha = c.attr_float("alpha", 1.67326319217681884765625);
  const double gamma = c.attr_float("gamma", 1.05070102214813232421875);
  return one(scale(elu(c.real(0), T(alpha)), T(gamma)));
}
// HardSigmoid: max(0, min(1, αx + β)), α = 0.2, β = 0.5.
template <class T> Values<T> op_hard_sigmoid(const OpCall<T>& c) {
  const double alpha = c.attr_float("alpha", 0.2), beta = c.attr_float("beta", 0.5);
  return one(clip(add(scale(c.real(0), T(alpha)), scalar<T>(T(beta))), T(0), T(1)));
}
// Expand: x broadcast (NumPy's rule, both ways) against the shape in input 1.
template <class T> Values<T> op_expand(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  const Shape target = shape_from(c, c.integer(1).data);
  const Shape out = broadcast_shape(x.shape(), target, c.where);
  check_size(c, out);
  return one(out == x.shape() ? x : broadcast_to(x, out));
}
// Size: the number of elements, as an int64 scalar.
template <class T> Values<T> op_size(const OpCall<T>& c) {
  if (!c.has_input(0)) c.fail("input 0 is missing");
  return one<T>(IntTensor{{}, {std::int64_t(numel_of(c.inputs[0]->shape()))}});
}
// Split: consecutive pieces along `axis`, of the sizes in `split` (attribute
// before opset 13, input 1 from 13), or equal pieces, one per output.
template <class T> Values<T> op_split(const OpCall<T>& c) {
  const Var<T>& x = c.real(0);
  const std::size_t axis = axis_index(c, c.attr_int("axis", 0), x.rank());
  std::vector<std::int64_t> sizes = c.evaluation.opset >= 13 ? (c.has_input(1) ? c.integer(1).data : std::vector<std::int64_t>{})
                                                             : c.attr_ints("split");
  const std::size_t parts = c.node.outputs.size(), extent = x.shape()[axis];
  if (sizes.empty()) {
    if (parts == 0 || extent % parts != 0)
      c.fail("cannot split an axis of " + std::to_string(extent) + " into " + std::to_string(parts) + " equal parts");
    sizes.assign(parts, std::int64_t(extent / parts));
  }
  std::int64_t total = 0;
  for (std::int64_t n : sizes) {
    if (n < 0 || n > std::int64_t(extent)) c.fail("a split size is negative or larger than the axis");
    total += n;
  }
  if (sizes.size() != parts || total != std::int64_t(extent)) c.fail("the split sizes do not add up to the axis or the outputs");
  Values<T> out;
  std::int64_t start = 0;
  for (std::int64_t n : sizes) {
    out.push_back(GraphValue<T>::of(slice(x, {start}, {start + n}, {std::int64_t(axis)}, {1})));
    start += n;
  }
  return out;
}

// ---- integer data through real ops -------------------------------------------------

/// ONNX lets Max, Min, Clip, Pow, Abs, Sum, Mean and MaxPool take integer
/// tensors too: those are computed as real constants (exact up to 2^24 in
/// float, 2^53 in double) and the result rounded back to integers.
template <class T>
Values<T> on_integers(const OpCall<T>& c, Values<T> (*op)(const OpCall<T>&)) {
  if (!(c.has_input(0) && c.inputs[0]->is_integer)) return op(c);
  std::vector<GraphValue<T>> converted(c.inputs.size());
  OpCall<T> real_call{c.node, {}, c.evaluation, c.where};
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.has_input(i)) {
      real_call.inputs.push_back(nullptr);
      continue;
    }
    if (c.inputs[i]->is_integer) {
      const IntTensor& t = c.inputs[i]->integer;
      Tensor<T> r(t.shape);
      for (std::size_t k = 0; k < t.data.size(); ++k) r.data()[k] = T(t.data[k]);
      converted[i] = GraphValue<T>::of(Var<T>(std::move(r)));
    } else {
      converted[i] = *c.inputs[i];
    }
    real_call.inputs.push_back(&converted[i]);
  }
  Values<T> out = op(real_call);
  for (GraphValue<T>& v : out) {
    if (v.is_integer) continue;
    IntTensor t{v.real.shape(), {}};
    for (std::size_t k = 0; k < v.real.value().size(); ++k) {
      const double e = double(v.real.value().data()[k]);
      if (!(std::abs(e) < 9.2e18)) c.fail("the integer result " + std::to_string(e) + " does not fit in 64 bits");
      t.data.push_back(std::llround(e));
    }
    v = GraphValue<T>::of(std::move(t));
  }
  return out;
}

template <class T> Values<T> op_max_any(const OpCall<T>& c) { return on_integers(c, &op_max<T>); }
template <class T> Values<T> op_min_any(const OpCall<T>& c) { return on_integers(c, &op_min<T>); }
template <class T> Values<T> op_sum_any(const OpCall<T>& c) { return on_integers(c, &op_sum<T>); }
template <class T> Values<T> op_mean_any(const OpCall<T>& c) { return on_integers(c, &op_mean<T>); }
template <class T> Values<T> op_clip_any(const OpCall<T>& c) { return on_integers(c, &op_clip<T>); }
template <class T> Values<T> op_pow_any(const OpCall<T>& c) { return on_integers(c, &op_pow<T>); }
template <class T> Values<T> op_abs_any(const OpCall<T>& c) { return on_integers(c, &op_abs<T>); }
template <class T> Values<T> op_max_pool_any(const OpCall<T>& c) { return on_integers(c, &op_max_pool<T>); }

// ---- the table -----------------------------------------------------------------

struct OpRow {
  const char* name;
  int since;  // the first default-domain opset that has the op (rows follow every later opset's meaning)
  Values<float> (*run_float)(const OpCall<float>&);
  Values<double> (*run_double)(const OpCall<double>&);
};

#define FLUXION_GRAPH_OP(name, since, function) {name, since, &function<float>, &function<double>}

// Every op a graph may use, with the opsets it is read for: 6 through 17.
const OpRow kOps[] = {
    FLUXION_GRAPH_OP("Add", 6, op_add),
    FLUXION_GRAPH_OP("Sub", 6, op_sub),
    FLUXION_GRAPH_OP("Mul", 6, op_mul),
    FLUXION_GRAPH_OP("Div", 6, op_div),
    FLUXION_GRAPH_OP("Neg", 6, op_neg),
    FLUXION_GRAPH_OP("Abs", 6, op_abs_any),
    FLUXION_GRAPH_OP("Sqrt", 6, op_sqrt),
    FLUXION_GRAPH_OP("Reciprocal", 6, op_reciprocal),
    FLUXION_GRAPH_OP("Pow", 1, op_pow_any),
    FLUXION_GRAPH_OP("Exp", 6, op_exp),
    FLUXION_GRAPH_OP("Log", 6, op_log),
    FLUXION_GRAPH_OP("Max", 6, op_max_any),
    FLUXION_GRAPH_OP("Min", 6, op_min_any),
    FLUXION_GRAPH_OP("Sum", 6, op_sum_any),
    FLUXION_GRAPH_OP("Mean", 6, op_mean_any),
    FLUXION_GRAPH_OP("Relu", 6, op_relu),
    FLUXION_GRAPH_OP("LeakyRelu", 6, op_leaky_relu),
    FLUXION_GRAPH_OP("Elu", 6, op_elu),
    FLUXION_GRAPH_OP("Sigmoid", 6, op_sigmoid),
    FLUXION_GRAPH_OP("Tanh", 6, op_tanh),
    FLUXION_GRAPH_OP("Softplus", 1, op_softplus),
    FLUXION_GRAPH_OP("Erf", 9, op_erf),
    FLUXION_GRAPH_OP("Gelu", 1, op_gelu),
    FLUXION_GRAPH_OP("PRelu", 6, op_prelu),
    FLUXION_GRAPH_OP("Selu", 6, op_selu),
    FLUXION_GRAPH_OP("HardSigmoid", 6, op_hard_sigmoid),
    FLUXION_GRAPH_OP("Clip", 6, op_clip_any),
    FLUXION_GRAPH_OP("Softmax", 1, op_softmax),
    FLUXION_GRAPH_OP("LogSoftmax", 1, op_log_softmax),
    FLUXION_GRAPH_OP("Gemm", 6, op_gemm),
    FLUXION_GRAPH_OP("MatMul", 1, op_matmul),
    FLUXION_GRAPH_OP("Conv", 1, op_conv),
    FLUXION_GRAPH_OP("ConvTranspose", 1, op_conv_transpose),
    FLUXION_GRAPH_OP("MaxPool", 1, op_max_pool_any),
    FLUXION_GRAPH_OP("AveragePool", 1, op_average_pool),
    FLUXION_GRAPH_OP("GlobalAveragePool", 1, op_global_average_pool),
    FLUXION_GRAPH_OP("GlobalMaxPool", 1, op_global_max_pool),
    FLUXION_GRAPH_OP("BatchNormalization", 6, op_batch_norm),
    FLUXION_GRAPH_OP("Flatten", 1, op_flatten),
    FLUXION_GRAPH_OP("Reshape", 5, op_reshape),
    FLUXION_GRAPH_OP("Squeeze", 1, op_squeeze),
    FLUXION_GRAPH_OP("Unsqueeze", 1, op_unsqueeze),
    FLUXION_GRAPH_OP("Transpose", 1, op_transpose),
    FLUXION_GRAPH_OP("Concat", 4, op_concat),
    FLUXION_GRAPH_OP("Split", 2, op_split),
    FLUXION_GRAPH_OP("Expand", 8, op_expand),
    FLUXION_GRAPH_OP("Size", 1, op_size),
    FLUXION_GRAPH_OP("Slice", 1, op_slice),
    FLUXION_GRAPH_OP("Gather", 1, op_gather),
    FLUXION_GRAPH_OP("Pad", 2, op_pad),
    FLUXION_GRAPH_OP("ReduceMean", 1, op_reduce_mean),
    FLUXION_GRAPH_OP("ReduceSum", 1, op_reduce_sum),
    FLUXION_GRAPH_OP("Identity", 1, op_identity),
    FLUXION_GRAPH_OP("Dropout", 6, op_dropout),
    FLUXION_GRAPH_OP("Constant", 1, op_constant),
    FLUXION_GRAPH_OP("Shape", 1, op_shape),
    FLUXION_GRAPH_OP("Cast", 6, op_cast),
    FLUXION_GRAPH_OP("ConstantOfShape", 9, op_constant_of_shape),
};

#undef FLUXION_GRAPH_OP

const OpRow* find_op(const std::string& name) {
  for (const OpRow& row : kOps)
    if (name == row.name) return &row;
  return nullptr;
}

}  // namespace

constexpr int kFirstOpset = 6, kLastOpset = 17;

bool graph_op_supported(const std::string& op, int opset, std::string& why) {
  if (opset < kFirstOpset || opset > kLastOpset) {
    why = "opset " + std::to_string(opset) + " is outside the opsets Fluxion reads (" + std::to_string(kFirstOpset) +
          "–" + std::to_string(kLastOpset) + ")";
    return false;
  }
  const OpRow* row = find_op(op);
  if (!row) {
    why = "op '" + op + "' is not supported (opset " + std::to_string(opset) + ")";
    return false;
  }
  if (opset < row->since) {
    why = "op '" + op + "' does not exist before opset " + std::to_string(row->since) + " (the model uses opset " +
          std::to_string(opset) + ")";
    return false;
  }
  return true;
}

std::vector<std::string> graph_op_names() {
  std::vector<std::string> names;
  for (const OpRow& row : kOps) names.emplace_back(row.name);
  return names;
}

template <class T>
std::vector<GraphValue<T>> run_graph_op(const OpCall<T>& call) {
  const OpRow* row = find_op(call.node.op);
  if (!row) call.fail("op '" + call.node.op + "' is not supported");
  if constexpr (std::is_same_v<T, float>)
    return row->run_float(call);
  else
    return row->run_double(call);
}

template std::vector<GraphValue<float>> run_graph_op(const OpCall<float>&);
template std::vector<GraphValue<double>> run_graph_op(const OpCall<double>&);

}  // namespace fluxion
