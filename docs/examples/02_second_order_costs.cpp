// Tutorial 2, "Forward-over-reverse or reverse-over-reverse?"
// (docs/02-forward-mode.md): the two ways the engine computes a
// Hessian-vector product, measured side by side.
//
//   forward-over-reverse (hvp):          H v = d/dε ∇f(x + εv)|₀ = jvp(∇f, x, v)
//   reverse-over-reverse (hvp_reverse):  H v = ∇ₓ ⟨∇f(x), v⟩
//
// Both are exact and cost a small multiple of one gradient. They differ in
// what they keep: reverse-over-reverse must record the first reverse sweep as
// a graph (create_graph) and keep it, on top of the forward graph, until the
// second sweep; forward-over-reverse carries the tangent along with every
// value and keeps no graph of the sweep. And k directions ride along in one
// forward-over-reverse sweep (tangents [k, …], GEMMs), while reverse-over-
// reverse needs one double sweep per direction (Pearlmutter 1994; Griewank &
// Walther, "Evaluating Derivatives", 2008, ch. 5).
//
// The function: a chain of L layers h ↦ softplus_β(W h), width 64, β = 4,
// then f = ⟨c, h_L⟩. Counts are exact (node ids and bytes); times are
// measurements of this run (best of 5), printed, never checked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"
#include "docs/examples/tutorial_support.hpp"

namespace {

using namespace fluxion;
using tutorial::check;
using tutorial::failures;

constexpr std::size_t kWidth = 64;

void report(const std::string& name, double value) { std::printf("%s = %.6g\n", name.c_str(), value); }

Tensor<double> gaussian(const Shape& shape, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = normal(rng);
  return t;
}

/// The id the next node will get: node ids count every node ever created.
std::uint64_t next_id() { return Var<double>(Tensor<double>{0.0}).id() + 1; }

/// Bytes of values (and tangents) of the non-leaf nodes the graph behind
/// `out` keeps alive.
std::size_t kept_bytes(const Var<double>& out) {
  std::vector<Var<double>> seen, stack{out};
  std::size_t bytes = 0;
  while (!stack.empty()) {
    Var<double> v = stack.back();
    stack.pop_back();
    if (std::any_of(seen.begin(), seen.end(), [&](const Var<double>& n) { return n.id() == v.id(); })) continue;
    seen.push_back(v);
    if (!v.is_leaf()) {
      bytes += v.numel() * sizeof(double);
      if (v.has_tangent()) bytes += v.tangent().numel() * sizeof(double);
    }
    for (const auto& in : v.node()->inputs) stack.push_back(in);
  }
  return bytes;
}

double seconds_of(const std::function<void()>& work) {
  work();  // warm-up
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    const auto start = std::chrono::steady_clock::now();
    work();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

/// Row k of M [k, d] as a tensor [d].
Tensor<double> row(const Tensor<double>& m, std::size_t k) {
  const std::size_t d = m.shape()[1];
  Tensor<double> r = Tensor<double>::from_shape({d});
  for (std::size_t i = 0; i < d; ++i) r.data()[i] = m(k, i);
  return r;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::fabs(a.data()[k] - b.data()[k]));
  return d;
}

}  // namespace

int main() {
  std::mt19937_64 rng(2);
  const Tensor<double> c = gaussian({1, kWidth}, 1.0, rng);
  std::vector<Tensor<double>> weights;
  for (int l = 0; l < 8; ++l) weights.push_back(gaussian({kWidth, kWidth}, 1.5 / std::sqrt(double(kWidth)), rng));
  const Tensor<double> x = gaussian({kWidth}, 1.0, rng), v = gaussian({kWidth}, 1.0, rng);
  Tensor<double> v_lead = Tensor<double>::from_shape({1, kWidth});  // v as one tangent direction [1, d]
  std::copy(v.data(), v.data() + kWidth, v_lead.data());

  for (int depth : {2, 8}) {
    const std::string tag = "depth=" + std::to_string(depth);
    const Function<double> f = [&, depth](const Var<double>& in) {
      Var<double> h = reshape(in, {kWidth, 1});
      for (int l = 0; l < depth; ++l) h = softplus(matmul(Var<double>(weights[l]), h), 4.0);
      return reshape(matmul(Var<double>(c), h), {1});
    };

    // The two HVPs agree to rounding.
    const Tensor<double> for_hv = hvp(f, x, v), ror_hv = hvp_reverse(f, x, v);
    report(tag + " max_diff_forward_over_reverse_vs_reverse_over_reverse", max_abs_diff(for_hv, ror_hv));
    check(max_abs_diff(for_hv, ror_hv) <= 1e-12, "the two HVPs agree");

    // Nodes each one creates (values, tangents, graph nodes of the sweeps).
    std::uint64_t start = next_id();
    (void)hvp(f, x, v);
    const double for_nodes = double(next_id() - start - 1);
    start = next_id();
    (void)hvp_reverse(f, x, v);
    const double ror_nodes = double(next_id() - start - 1);
    report(tag + " nodes forward_over_reverse", for_nodes);
    report(tag + " nodes reverse_over_reverse", ror_nodes);

    // What each keeps alive at its peak, built by hand the way the transforms
    // do it. Forward-over-reverse: the forward graph, whose nodes carry
    // tangents; the sweep that follows keeps nothing of its own.
    const Var<double> dual_out = f(make_dual(Var<double>(x, true), Var<double>(v_lead)));
    const std::size_t for_bytes = kept_bytes(dual_out);
    // Reverse-over-reverse: the forward graph plus the recorded first sweep,
    // all behind s = ⟨∇f(x), v⟩, until the second sweep runs.
    const Var<double> xr(x, true);
    const Var<double> g = grad<double>({f(xr)}, {xr}, {}, /*create_graph=*/true)[0];
    const Var<double> s = sum(g * Var<double>(v));
    const std::size_t ror_bytes = kept_bytes(s);
    report(tag + " kept_bytes forward_over_reverse", double(for_bytes));
    report(tag + " kept_bytes reverse_over_reverse", double(ror_bytes));
    report(tag + " kept_bytes ratio_ror_over_for", double(ror_bytes) / double(for_bytes));
    check(ror_bytes > for_bytes, "reverse-over-reverse keeps more than forward-over-reverse");

    // Time: one direction, then k = 64 directions (the whole Hessian).
    const Tensor<double> V = gaussian({kWidth, kWidth}, 1.0, rng);  // [k, d]
    const double t_for = seconds_of([&] { (void)hvp(f, x, v); });
    const double t_ror = seconds_of([&] { (void)hvp_reverse(f, x, v); });
    const double t_for_k = seconds_of([&] { (void)hvp_batched(f, x, V); });
    const double t_for_loop = seconds_of([&] {
      for (std::size_t k = 0; k < kWidth; ++k) (void)hvp(f, x, row(V, k));
    });
    const double t_ror_k = seconds_of([&] {
      for (std::size_t k = 0; k < kWidth; ++k) (void)hvp_reverse(f, x, row(V, k));
    });
    std::printf("time %s hvp_ms forward_over_reverse = %.3f\n", tag.c_str(), 1e3 * t_for);
    std::printf("time %s hvp_ms reverse_over_reverse = %.3f\n", tag.c_str(), 1e3 * t_ror);
    std::printf("time %s k64_ms forward_over_reverse_batched = %.3f\n", tag.c_str(), 1e3 * t_for_k);
    std::printf("time %s k64_ms forward_over_reverse_loop = %.3f\n", tag.c_str(), 1e3 * t_for_loop);
    std::printf("time %s k64_ms reverse_over_reverse_loop = %.3f\n", tag.c_str(), 1e3 * t_ror_k);
    std::printf("time %s k64 ratio_loop_over_batched = %.1f\n", tag.c_str(), t_ror_k / t_for_k);
    // The batched columns are the looped ones.
    const Tensor<double> HV = hvp_batched(f, x, V);
    double batched_gap = 0;
    for (std::size_t k = 0; k < kWidth; ++k) {
      const Tensor<double> col = hvp_reverse(f, x, row(V, k));
      for (std::size_t i = 0; i < kWidth; ++i) batched_gap = std::max(batched_gap, std::fabs(HV(k, i) - col(i)));
    }
    report(tag + " k64 max_diff_batched_vs_loop", batched_gap);
    check(batched_gap <= 1e-12, "batched forward-over-reverse equals the reverse-over-reverse loop");
  }

  std::printf("checks_failed = %d\n", failures);
  return failures == 0 ? 0 : 1;
}
