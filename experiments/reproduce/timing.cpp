// Experiment 2 — the cost of all-pairs interactions vs the number of features
// (Janizek et al. 2021, the timing figure; shared/papers/integrated-hessians.md).
//
// A 128-128 SoftPlus MLP with d inputs (random seeded weights: the cost does
// not depend on training), d ∈ {5, 50, 500}, 200 path samples per explained
// point. We time, per explained point:
//   * Integrated Hessians, full d×d, 200-node log-weighted rule, batched
//     tangents (64 identity directions per forward-over-reverse sweep);
//   * the same with ONE direction per sweep — the per-feature loop that
//     path_explain's PyTorch explainer runs (d double-backward passes);
//   * Expected Hessians, 200 samples;
//   * the exact Shapley interaction index by enumeration (2^d coalitions,
//     only where feasible).
#include <sstream>

#include <xtensor/xview.hpp>

#include "attribution/expected_hessians.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution/shapley_interaction.hpp"
#include "experiments/lib/plot.hpp"
#include "experiments/reproduce/common.hpp"
#include "experiments/reproduce/experiment_kinds.hpp"
#include "nn/data/synthetic.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"

namespace fluxion::experiments {

namespace {

std::string softplus_mlp(int d) {
  std::ostringstream s;
  s << R"({"input_shape":[)" << d << R"(],"layers":[{"type":"linear","in":)" << d
    << R"(,"out":128},{"type":"softplus","beta":1},{"type":"linear","in":128,"out":128},)"
    << R"({"type":"softplus","beta":1},{"type":"linear","in":128,"out":1}]})";
  return s.str();
}

}  // namespace

Outcome run_timing(const Context& ctx, const std::filesystem::path& dir) {
  const std::vector<int> dims = by_scale(ctx, std::vector<int>{5, 50}, std::vector<int>{5, 50, 500},
                                         std::vector<int>{5, 50, 500});
  const std::size_t points = by_scale<std::size_t>(ctx, 2, 4, 20);
  const int samples = by_scale(ctx, 20, 200, 200);
  Table table;
  table.columns = {"d", "IH batched tangents (s/point)", "IH one direction per sweep (s/point)",
                   "Expected Hessians (s/point)", "Shapley enumeration (s/point)", "speed-up of batching"};
  nlohmann::json numbers = nlohmann::json::object();
  Series ih{"Integrated Hessians (batched tangents)", {}, {}}, loop{"one direction per sweep", {}, {}},
      eh{"Expected Hessians", {}, {}}, shapley{"Shapley interaction (enumeration)", {}, {}};
  for (int d : dims) {
    ctx.progress("d = " + std::to_string(d) + ": timing " + std::to_string(points) + " explained points");
    Sequential<double> model = build_model<double>(softplus_mlp(d), ctx.seed + std::uint64_t(d), "timing MLP");
    ExplainedOutput<double> out;
    out.model = as_function(model);
    out.batch_size = 64;
    const Tensor<double> x = gaussian({points, std::size_t(d)}, ctx.seed + 17);
    const Tensor<double> refs = gaussian({256, std::size_t(d)}, ctx.seed + 18);
    const std::vector<std::size_t> target(points, 0);

    IntegratedHessiansOptions<double> o;
    o.points = samples;
    Stopwatch w1;
    auto r = integrated_hessians(out, x, target, o);
    const double t_batched = w1.seconds() / double(points);

    // The per-feature loop is d times slower per point; time one point only.
    o.directions_per_sweep = 1;
    const Tensor<double> x1 = xt::view(x, xt::range(0, 1), xt::all());
    Stopwatch w2;
    integrated_hessians(out, x1, {0}, o);
    const double t_loop = w2.seconds();

    ExpectedHessiansOptions eo;
    eo.samples = std::size_t(samples);
    eo.seed = ctx.seed;
    Stopwatch w3;
    expected_hessians(out, x, refs, target, eo);
    const double t_eh = w3.seconds() / double(points);

    double t_shapley = std::nan("");
    if (d <= 10) {
      Stopwatch w4;
      shapley_interactions(out, x, target);
      t_shapley = w4.seconds() / double(points);
      shapley.x.push_back(d);
      shapley.y.push_back(t_shapley);
    }
    ih.x.push_back(d), ih.y.push_back(t_batched);
    loop.x.push_back(d), loop.y.push_back(t_loop);
    eh.x.push_back(d), eh.y.push_back(t_eh);
    double gap = 0;
    for (double g : r.completeness_gaps) gap = std::max(gap, g);
    numbers[key("d", d)] = {{"ih_batched_seconds", t_batched},
                                        {"ih_loop_seconds", t_loop},
                                        {"eh_seconds", t_eh},
                                        {"ih_completeness_gap", gap}};
    if (std::isfinite(t_shapley)) numbers[key("d", d)]["shapley_seconds"] = t_shapley;
    table.add_row({std::to_string(d), format_number(t_batched, 3), format_number(t_loop, 3),
                   format_number(t_eh, 3), format_number(t_shapley, 3), format_number(t_loop / t_batched, 3)});
  }
  std::vector<Series> series = {ih, loop, eh};
  if (!shapley.x.empty()) series.push_back(shapley);
  plot_lines(dir / "timing.png",
             {"All-pairs interactions: seconds per explained point", "number of features d", "seconds",
              true, true},
             series);
  std::ostringstream md;
  md << "Settings: 128-128 SoftPlus MLP with d inputs and seeded random weights, " << samples
     << " path samples (quadrature nodes / Monte Carlo samples) per explained point, " << points
     << " explained points per d (the paper uses 1000), float64, one process on this machine.\n\n"
     << table_section(dir, "timing", table) << "![timing](" << dir.filename().string() << "/timing.png)\n\n"
     << "**Paper vs ours.** The paper's figure shows Integrated/Expected Hessians nearly flat in d, taking "
        "about 20–32 minutes for 1000 explained points (≈1.2–1.9 s per point) on a GPU setup, while "
        "Shapley-style enumeration explodes with d. Our per-point times are in the table; machines differ "
        "(2 CPU cores here), so compare the *shape* of the curves: the batched-tangent column grows with d "
        "because a full d×d Hessian per path point is d forward-over-reverse directions, but far more slowly "
        "than the one-direction-per-sweep loop (the speed-up column), and enumeration is infeasible beyond "
        "d ≈ 20.\n";
  return {numbers, md.str()};
}

}  // namespace fluxion::experiments
