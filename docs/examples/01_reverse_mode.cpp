// Tutorial 1 (docs/01-reverse-mode.md): reverse mode from scratch, then the
// same function with Fluxion's engine.
//
//     f(x, y) = tanh(x·y) + x        at (x, y) = (0.7, −1.3)
//     ∂f/∂x = y (1 − tanh²(xy)) + 1,   ∂f/∂y = x (1 − tanh²(xy))
//
// Usage: tutorial_01_reverse_mode [output dir]   (default: the current dir)
// Writes <dir>/01_tape_graph.png and <dir>/01_finite_difference_error.png.
// Prints one `name = value` line per number; exits 1 if a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>
#include <vector>

#include "docs/examples/tutorial_support.hpp"
#include "autodiff/autodiff.hpp"
#include "experiments/lib/diagram.hpp"
#include "experiments/lib/plot.hpp"

// ============================================================================
// Part 1: a complete reverse-mode tape for scalars.
//
// Every operation appends a node holding its value and, for each input, the
// local partial derivative ∂node/∂input. Nodes are appended in creation
// order, which is a topological order: an input always exists before the
// operation that uses it. So the backward pass is a single loop from the
// last node to the first, applying each node's VJP rule
//     input.adjoint += node.adjoint · ∂node/∂input
// (for a scalar, "vector-Jacobian product" is just this multiplication).
namespace tiny {

struct Node {
  double value;
  std::vector<std::pair<int, double>> inputs;  // (input index, ∂node/∂input)
};

struct Tape {
  std::vector<Node> nodes;
  int push(double value, std::vector<std::pair<int, double>> inputs = {}) {
    nodes.push_back({value, std::move(inputs)});
    return static_cast<int>(nodes.size()) - 1;
  }
  /// Adjoints ∂out/∂node for every node, by one reverse sweep.
  std::vector<double> backward(int out) const {
    std::vector<double> adjoint(nodes.size(), 0.0);
    adjoint[out] = 1.0;
    for (int i = out; i >= 0; --i)
      for (auto [input, partial] : nodes[i].inputs) adjoint[input] += adjoint[i] * partial;
    return adjoint;
  }
};

/// A handle to a node, so that expressions read like the math.
struct Scalar {
  Tape* tape;
  int id;
  double value() const { return tape->nodes[id].value; }
};

Scalar leaf(Tape& t, double v) { return {&t, t.push(v)}; }
// The rule table of this tiny engine: forward value and local partials.
Scalar operator+(Scalar a, Scalar b) {  // ∂/∂a = 1, ∂/∂b = 1
  return {a.tape, a.tape->push(a.value() + b.value(), {{a.id, 1.0}, {b.id, 1.0}})};
}
Scalar operator*(Scalar a, Scalar b) {  // ∂/∂a = b, ∂/∂b = a
  return {a.tape, a.tape->push(a.value() * b.value(), {{a.id, b.value()}, {b.id, a.value()}})};
}
Scalar tanh(Scalar a) {  // ∂/∂a = 1 − tanh²(a)
  const double y = std::tanh(a.value());
  return {a.tape, a.tape->push(y, {{a.id, 1.0 - y * y}})};
}

}  // namespace tiny

// ============================================================================

namespace {

void report(const char* name, double value) { std::printf("%s = %.17g\n", name, value); }

// Lists the nodes reachable from `out` by increasing id (creation order),
// numbered from the first one: "# node 2: mul(0, 1)".
void print_graph(const fluxion::Var<double>& out) {
  std::vector<fluxion::Var<double>> nodes, stack{out};
  while (!stack.empty()) {
    fluxion::Var<double> v = stack.back();
    stack.pop_back();
    bool seen = false;
    for (const auto& n : nodes) seen = seen || n.id() == v.id();
    if (seen) continue;
    nodes.push_back(v);
    for (const auto& in : v.node()->inputs) stack.push_back(in);
  }
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.id() < b.id(); });
  auto index = [&](const fluxion::Var<double>& v) {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].id() == v.id()) return i;
    return nodes.size();
  };
  for (const auto& v : nodes) {
    std::printf("# node %zu: %s(", index(v), v.op_name().c_str());
    const auto& inputs = v.node()->inputs;
    for (std::size_t i = 0; i < inputs.size(); ++i) std::printf(i ? ", %zu" : "%zu", index(inputs[i]));
    std::printf(")\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fluxion;
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
using tutorial::check;
using tutorial::failures;
  const double x0 = 0.7, y0 = -1.3;

  // ---- the hand-derived gradient -------------------------------------------
  const double th = std::tanh(x0 * y0);
  const double hand_dx = y0 * (1 - th * th) + 1, hand_dy = x0 * (1 - th * th);
  report("f", th + x0);
  report("hand dfdx", hand_dx);
  report("hand dfdy", hand_dy);

  // ---- part 1: the tiny tape -----------------------------------------------
  tiny::Tape tape;
  tiny::Scalar x = tiny::leaf(tape, x0), y = tiny::leaf(tape, y0);
  tiny::Scalar f = tiny::tanh(x * y) + x;  // nodes: 0 x, 1 y, 2 x·y, 3 tanh, 4 +
  std::vector<double> adjoint = tape.backward(f.id);
  report("tiny_tape nodes", double(tape.nodes.size()));
  report("tiny_tape f", f.value());
  report("tiny_tape dfdx", adjoint[x.id]);
  report("tiny_tape dfdy", adjoint[y.id]);
  const double tiny_error = std::max(std::fabs(adjoint[x.id] - hand_dx), std::fabs(adjoint[y.id] - hand_dy));
  report("tiny_tape error_vs_hand", tiny_error);
  check(tape.nodes.size() == 5, "the tiny tape records 5 nodes");
  check(tiny_error <= 1e-14, "tiny tape gradient matches the hand formula");

  // The figure: the tape as a graph, each node with its value (forward pass)
  // and its adjoint ∂f/∂node (reverse pass), each edge with the local partial
  // ∂node/∂input that the reverse sweep multiplies by.
  {
    const char* names[] = {"x (leaf)", "y (leaf)", "a = x·y", "b = tanh(a)", "f = b + x"};
    const double positions[][2] = {{0.1, 0.75}, {0.1, 0.2}, {0.37, 0.4}, {0.64, 0.4}, {0.89, 0.72}};
    std::vector<DiagramNode> nodes;
    std::vector<DiagramEdge> edges;
    char text[96];
    for (std::size_t k = 0; k < tape.nodes.size(); ++k) {
      DiagramNode n{positions[k][0], positions[k][1], {"node " + std::to_string(k) + ": " + names[k]}};
      std::snprintf(text, sizeof text, "value = %.6f", tape.nodes[k].value);
      n.lines.push_back(text);
      std::snprintf(text, sizeof text, "adjoint df/d%s = %.6f", k == 0 ? "x" : k == 1 ? "y" : k == 2 ? "a" : k == 3 ? "b" : "f",
                    adjoint[k]);
      n.lines.push_back(text);
      nodes.push_back(n);
      for (const auto& [input, partial] : tape.nodes[k].inputs) {
        std::snprintf(text, sizeof text, "∂ = %.4f", partial);
        edges.push_back({std::size_t(input), k, text});
      }
    }
    try {
      plot_diagram(out_dir / "01_tape_graph.png",
                   "f(x, y) = tanh(x·y) + x at (0.7, -1.3): values (forward pass), adjoints (reverse pass); "
                   "arrows carry the local partial ∂node/∂input",
                   nodes, edges, 1100, 460);
      std::printf("figure_bytes 01_tape_graph.png = %ju\n",
                  std::uintmax_t(std::filesystem::file_size(out_dir / "01_tape_graph.png")));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "figure: %s\n", e.what());
      check(false, "the tape figure is written");
    }
  }

  // ---- part 2: the same function with Fluxion ------------------------------
  // Leaves that require a gradient; every op below appends a node to the graph.
  Var<double> xv(Tensor<double>{x0}, true), yv(Tensor<double>{y0}, true);
  Var<double> fv = tanh(xv * yv) + xv;
  std::vector<Var<double>> g = grad<double>({fv}, {xv, yv});  // one reverse sweep
  report("fluxion f", fv.item());
  report("fluxion dfdx", g[0].item());
  report("fluxion dfdy", g[1].item());
  const double fluxion_error = std::max(std::fabs(g[0].item() - hand_dx), std::fabs(g[1].item() - hand_dy));
  report("fluxion error_vs_hand", fluxion_error);
  check(fluxion_error <= 1e-14, "Fluxion gradient matches the hand formula");

  // The graph Fluxion recorded, in creation (= topological) order.
  print_graph(fv);

  // The functional form: grad(f, x) for f of one tensor. Here x = (x, y).
  Function<double> f2 = [](const Var<double>& v) {
    Var<double> a = reshape(sum(v * Var<double>(Tensor<double>{1.0, 0.0})), {1});
    Var<double> b = reshape(sum(v * Var<double>(Tensor<double>{0.0, 1.0})), {1});
    return tanh(a * b) + a;
  };
  Tensor<double> point{x0, y0};
  Tensor<double> g2 = grad(f2, point);
  const double functional_error = std::max(std::fabs(g2(0) - hand_dx), std::fabs(g2(1) - hand_dy));
  report("fluxion_grad_transform error_vs_hand", functional_error);
  check(functional_error <= 1e-14, "grad(f, x) matches the hand formula");

  // ---- part 3: finite differences ------------------------------------------
  // Central differences have error ≈ h²|f‴|/6 from truncation plus ≈ ε|f|/h
  // from rounding. At h = 1e-6 rounding dominates (1e-10 against 1e-13); the
  // two balance near h ≈ (3ε)^(1/3) ≈ 7e-6, where the error is about 1e-11.
  auto f_plain = [](const Tensor<double>& v) { return std::tanh(v(0) * v(1)) + v(0); };
  Tensor<double> numeric = numerical_grad(f_plain, point, 1e-6);
  const double fd_error = max_relative_error(g2, numeric);
  report("finite_difference rel_error", fd_error);
  check(fd_error <= 1e-8, "finite differences agree to O(h²) + O(eps/h)");
  for (double h : {1e-7, 1e-6, 6e-6, 1e-5, 1e-4}) {
    char name[64];
    std::snprintf(name, sizeof name, "finite_difference h=%.0e rel_error", h);
    report(name, max_relative_error(g2, numerical_grad(f_plain, point, h)));
  }
  // The figure: the error for h = 1e-10 … 1e-1 (4 steps per decade) with the
  // two error terms' slopes: ∝ h² (truncation, through the error at h = 1e-2)
  // and ∝ 1/h (rounding, through the error at h = 1e-10).
  {
    Series measured{"measured max relative error", {}, {}}, truncation{"~ h^2 (truncation)", {}, {}},
        rounding{"~ 1/h (rounding)", {}, {}};
    auto error_at = [&](double h) { return max_relative_error(g2, numerical_grad(f_plain, point, h)); };
    const double at_large = error_at(1e-2), at_small = error_at(1e-10);
    for (int k = 0; k <= 36; ++k) {
      const double h = std::pow(10.0, -10.0 + k / 4.0);
      measured.x.push_back(h);
      measured.y.push_back(std::max(error_at(h), 1e-17));
      truncation.x.push_back(h), truncation.y.push_back(at_large * (h / 1e-2) * (h / 1e-2));
      rounding.x.push_back(h), rounding.y.push_back(at_small * 1e-10 / h);
    }
    // Keep the guides inside the measured range.
    for (Series* guide : {&truncation, &rounding}) {
      Series kept{guide->label, {}, {}};
      for (std::size_t i = 0; i < guide->x.size(); ++i)
        if (guide->y[i] >= 1e-14 && guide->y[i] <= 1) kept.x.push_back(guide->x[i]), kept.y.push_back(guide->y[i]);
      *guide = kept;
    }
    try {
      plot_lines(out_dir / "01_finite_difference_error.png",
                 {"Central differences: error against the step h", "step h", "max relative error vs reverse mode", true,
                  true, 900, 500},
                 {measured, truncation, rounding});
      std::printf("figure_bytes 01_finite_difference_error.png = %ju\n",
                  std::uintmax_t(std::filesystem::file_size(out_dir / "01_finite_difference_error.png")));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "figure: %s\n", e.what());
      check(false, "the finite-difference figure is written");
    }
  }

  // gradcheck does the same for any Function: here a small tanh network.
  Function<double> net = [](const Var<double>& v) {
    Tensor<double> w{{0.5, -1.0}, {0.3, 0.8}, {-0.7, 0.2}};
    Var<double> h = tanh(matmul(Var<double>(w), reshape(v, {2, 1})));
    return sum(square(h));
  };
  const double net_check = gradcheck(net, point);
  report("gradcheck tanh_net rel_error", net_check);
  check(net_check <= 1e-8, "gradcheck of a small network");

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
