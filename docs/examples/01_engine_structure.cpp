// Tutorial 1, "How the engine is built" (docs/01-reverse-mode.md): three
// facts about reverse mode, each measured on Fluxion's engine.
//
//  1. The adjoints of the worked trace f(x, y) = tanh(x·y) + x at (0.7, −1.3),
//     node by node: f̄ = 1, v̄ = 1, ū = v̄ (1 − v²), x̄ = f̄ + ū y, ȳ = ū x
//     (asked of the engine with grad(outputs, intermediate nodes)).
//  2. A VJP rule is the transpose of its JVP rule. Both are linear maps of the
//     same Jacobian J = ∂y/∂a at the trace point: jvp: ȧ ↦ J ȧ, vjp: ḡ ↦ Jᵀ ḡ
//     (autodidax: "vjp = transpose(linearize)"). The program builds J column by
//     column from the JVP rules (jvp with unit tangents) and row by row from the
//     VJP rules (vjp with unit cotangents) and compares.
//  3. Reverse mode's memory: the graph keeps, until the sweep, every value a
//     VJP rule needs, so it grows linearly with depth; forward mode keeps none.
//
// Prints one `name = value` line per number; exits 1 if a check fails.
#include <algorithm>
#include <random>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "docs/examples/tutorial_support.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

void report(const std::string& name, double value) { std::printf("%s = %.17g\n", name.c_str(), value); }

Tensor<double> zeros(const Shape& shape) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  t.fill(0.0);
  return t;
}

/// Every node reachable from `out` through the inputs the graph keeps.
std::vector<Var<double>> reachable(const Var<double>& out) {
  std::vector<Var<double>> nodes, stack{out};
  while (!stack.empty()) {
    Var<double> v = stack.back();
    stack.pop_back();
    if (std::any_of(nodes.begin(), nodes.end(), [&](const Var<double>& n) { return n.id() == v.id(); })) continue;
    nodes.push_back(v);
    for (const auto& in : v.node()->inputs) stack.push_back(in);
  }
  return nodes;
}

/// Bytes of the values the graph behind `out` keeps alive for the reverse
/// sweep, not counting leaves (the inputs and weights exist anyway).
std::size_t activation_bytes(const Var<double>& out) {
  std::size_t bytes = 0;
  for (const auto& v : reachable(out))
    if (!v.is_leaf()) bytes += v.numel() * sizeof(double);
  return bytes;
}

/// J (m × n) of `f` at x (n entries, output m entries) from n JVPs, and the
/// matrix of the VJP map (n × m) from m VJPs; returns max |VJP − Jᵀ|.
double transpose_gap(const std::string& name, const Function<double>& f, const Tensor<double>& x, std::size_t m) {
  const std::size_t n = x.size();
  std::vector<std::vector<double>> jvp_cols(n), vjp_rows(m);
  for (std::size_t j = 0; j < n; ++j) {
    Tensor<double> e = zeros(Shape(x.shape().begin(), x.shape().end()));
    e.data()[j] = 1.0;
    const Tensor<double> col = jvp(f, x, e);  // J e_j: column j of J
    jvp_cols[j].assign(col.data(), col.data() + m);
  }
  double gap = 0;
  for (std::size_t i = 0; i < m; ++i) {
    Tensor<double> u = Tensor<double>::from_shape(f(Var<double>(x)).shape());
    u.fill(0.0);
    u.data()[i] = 1.0;
    const Tensor<double> row = vjp(f, x, u);  // Jᵀ e_i: row i of J, as a column
    for (std::size_t j = 0; j < n; ++j) gap = std::max(gap, std::fabs(row.data()[j] - jvp_cols[j][i]));
  }
  std::printf("# %s: J from %zu JVPs (columns) equals the transpose of the VJP map from %zu VJPs (rows)\n",
              name.c_str(), n, m);
  report("transpose " + name + " max_abs_diff", gap);
  return gap;
}

}  // namespace

int main() {
  const double x0 = 0.7, y0 = -1.3;

  // ---- 1. the adjoints of the worked trace --------------------------------
  Var<double> x(Tensor<double>{x0}, true), y(Tensor<double>{y0}, true);
  Var<double> u = x * y;
  Var<double> v = tanh(u);
  Var<double> f = v + x;
  // grad accepts intermediate nodes: ∂f/∂u and ∂f/∂v are the adjoints ū and v̄.
  const std::vector<Var<double>> bar = grad<double>({f}, {x, y, u, v});
  const double vv = v.item();
  const double v_hand = 1.0, u_hand = v_hand * (1 - vv * vv), x_hand = 1.0 + u_hand * y0, y_hand = u_hand * x0;
  std::printf("# node  op    value                  adjoint (engine)       adjoint (hand trace)\n");
  const char* names[] = {"x", "y", "u", "v"};
  const double hands[] = {x_hand, y_hand, u_hand, v_hand};
  const Var<double>* nodes[] = {&x, &y, &u, &v};
  double trace_gap = 0;
  for (int i = 0; i < 4; ++i) {
    std::printf("# %-4s  %-5s %-22.17g %-22.17g %.17g\n", names[i], nodes[i]->op_name().c_str(), nodes[i]->item(),
                bar[i].item(), hands[i]);
    trace_gap = std::max(trace_gap, std::fabs(bar[i].item() - hands[i]));
  }
  for (int i = 0; i < 4; ++i) {
    report(std::string("trace value ") + names[i], nodes[i]->item());
    report(std::string("trace adjoint ") + names[i], bar[i].item());
  }
  report("trace value f", f.item());
  report("trace max_diff_vs_hand", trace_gap);
  check(trace_gap <= 1e-15, "the engine's adjoints are the hand trace's");

  // ---- 2. a VJP rule is the transpose of its JVP rule ---------------------
  // One primitive at a time, at the trace's values: mul (a, b) ↦ a·b has
  // J = [b  a], tanh has J = 1 − tanh², add has J = [1  1].
  auto pick = [](const Var<double>& p, std::size_t j) {
    Tensor<double> e = zeros({2});
    e(j) = 1.0;
    return sum(p * Var<double>(e));
  };
  double worst = 0;
  worst = std::max(worst, transpose_gap("mul", [&](const Var<double>& p) { return reshape(pick(p, 0) * pick(p, 1), {1}); },
                                        Tensor<double>{x0, y0}, 1));
  worst = std::max(worst, transpose_gap("tanh", [](const Var<double>& p) { return tanh(p); }, Tensor<double>{x0 * y0}, 1));
  worst = std::max(worst, transpose_gap("add", [&](const Var<double>& p) { return reshape(pick(p, 0) + pick(p, 1), {1}); },
                                        Tensor<double>{vv, x0}, 1));
  // A tensor op with a non-square Jacobian: y = tanh(W a), W 2×3, J = diag(1 − y²) W (2×3).
  const Tensor<double> w{{0.5, -1.0, 0.25}, {0.3, 0.8, -0.6}};
  const Tensor<double> a0{0.4, -0.2, 0.9};
  worst = std::max(worst, transpose_gap("tanh_matvec",
                                        [&](const Var<double>& p) { return tanh(matmul(Var<double>(w), reshape(p, {3, 1}))); },
                                        a0, 2));
  // The closed form of that Jacobian, entry (0, 2): (1 − y₀²) W₀₂.
  const double y00 = std::tanh(0.5 * 0.4 + -1.0 * -0.2 + 0.25 * 0.9);
  const Tensor<double> col2 = jvp(Function<double>([&](const Var<double>& p) {
                                    return tanh(matmul(Var<double>(w), reshape(p, {3, 1})));
                                  }),
                                  a0, Tensor<double>{0.0, 0.0, 1.0});
  report("transpose tanh_matvec J02", col2.data()[0]);
  report("transpose tanh_matvec J02_closed_form", (1 - y00 * y00) * 0.25);
  check(worst <= 1e-15, "every VJP map is the transpose of its JVP map");
  check(std::fabs(col2.data()[0] - (1 - y00 * y00) * 0.25) <= 1e-15, "J02 matches the closed form");

  // ---- 3. what reverse mode keeps in memory -------------------------------
  // A chain of L layers a ↦ tanh(W a), width 64, then a sum. Each layer adds
  // two nodes whose values the sweep needs (the matmul's output and tanh's
  // y, which tanh's VJP rule ḡ(1 − y²) reads): 2 · 64 · 8 bytes per layer.
  const std::size_t width = 64;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(double(width)));
  std::vector<Tensor<double>> weights;
  for (int l = 0; l < 16; ++l) {
    Tensor<double> wl = Tensor<double>::from_shape({width, width});
    for (std::size_t k = 0; k < wl.size(); ++k) wl.data()[k] = normal(rng);
    weights.push_back(wl);
  }
  Tensor<double> input = Tensor<double>::from_shape({width, 1});
  for (std::size_t k = 0; k < width; ++k) input.data()[k] = normal(rng);
  Tensor<double> direction = Tensor<double>::from_shape({1, width, 1});
  for (std::size_t k = 0; k < width; ++k) direction.data()[k] = normal(rng);
  auto chain = [&](Var<double> h, int depth) {
    for (int l = 0; l < depth; ++l) h = tanh(matmul(Var<double>(weights[l]), h));
    return sum(h);
  };
  for (int depth : {1, 2, 4, 8, 16}) {
    const Var<double> reverse_out = chain(Var<double>(input, true), depth);  // records the graph
    const std::size_t reverse_bytes = activation_bytes(reverse_out);
    // Forward mode: the input carries a tangent and nothing requires a
    // gradient, so no op keeps its inputs; each intermediate value is freed as
    // soon as the next layer has used it.
    const Var<double> forward_out = chain(make_dual(Var<double>(input), Var<double>(direction)), depth);
    const std::size_t forward_nodes = reachable(forward_out).size();
    report("memory depth=" + std::to_string(depth) + " reverse_activation_bytes", double(reverse_bytes));
    report("memory depth=" + std::to_string(depth) + " reverse_graph_nodes", double(reachable(reverse_out).size()));
    report("memory depth=" + std::to_string(depth) + " forward_graph_nodes", double(forward_nodes));
    check(reverse_bytes == std::size_t(depth) * 2 * width * sizeof(double) + sizeof(double),
          "reverse mode keeps 2·64 values per layer plus the sum");
    check(reachable(reverse_out).size() == std::size_t(3 * depth + 2), "x, then W, matmul, tanh per layer, then sum");
    check(forward_nodes == 1, "forward mode keeps only the output (with its tangent)");
    check(forward_out.has_tangent(), "the forward-mode output carries the directional derivative");
  }

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
