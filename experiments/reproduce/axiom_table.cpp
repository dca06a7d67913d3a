// Experiment 6 — every method's axioms measured by numbers on an MNIST model
// in float64 (the library's checks in attribution/axioms.hpp):
//   completeness      |Σ A − (f(x) − f(reference))| / |f(x) − f(reference)|   (path methods)
//   dummy feature     max |A_i| over pixels the model provably ignores, relative to max |A|
//                     (a copy of the mlp whose first-layer weights of those pixels are 0)
//   implementation    max |A(f₁) − A(f₂)| / max |A(f₁)| for f₂ = f₁ with its first hidden
//   invariance        layer's units permuted (the same function, different weights)
//   symmetry          max |Γ_ij − Γ_ji| / max |Γ|   (interaction methods)
// The model is the `mlp` preset smoothed with β = 10, so that every method,
// including the Hessian-based ones, sees a twice-differentiable function; a
// second table measures the same on the smoothed `resnet` preset (dummy
// pixels by masking the input, invariance by permuting its last block's channels).
#include <algorithm>
#include <random>
#include <sstream>

#include <xtensor/xview.hpp>

#include "autodiff/errors.hpp"

#include "attribution/axioms.hpp"
#include "attribution/method_registry.hpp"
#include "attribution/neflag.hpp"
#include "experiments/reproduce/common.hpp"
#include "experiments/reproduce/experiment_kinds.hpp"
#include "nn/models/smoothing.hpp"

namespace fluxion::experiments {

namespace {

Var<double> parameter(const Sequential<double>& m, const std::string& name) {
  for (auto& p : named_state(m))
    if (p.name == name) return p.value;
  throw InputError("the preset has no parameter " + name);
}

std::vector<std::size_t> random_permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  std::mt19937_64 rng(seed);
  for (std::size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng() % (i + 1)]);
  return perm;
}

/// Reorders tensor `name` along `axis` (0 or 1): new[…, i, …] = old[…, perm[i], …].
void permute_along(const Sequential<double>& m, const std::string& name, std::size_t axis,
                   const std::vector<std::size_t>& perm) {
  Var<double> v = parameter(m, name);
  const Tensor<double>& old = v.value();
  const std::size_t outer = axis == 0 ? 1 : old.shape()[0], extent = old.shape()[axis];
  const std::size_t inner = old.size() / (outer * extent);
  Tensor<double> moved = old;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < extent; ++i)
      for (std::size_t k = 0; k < inner; ++k)
        moved.data()[(o * extent + i) * inner + k] = old.data()[(o * extent + perm[i]) * inner + k];
  v.assign(std::move(moved));
}

/// The resnet with the channels of its last block permuted — the same function, other weights:
/// the block's output channels (body's second conv and BatchNorm, the shortcut's conv and
/// BatchNorm, the linear layer's columns) and the body's inner channels (first conv and
/// BatchNorm, the second conv's inputs), each by its own seeded permutation.
void permute_last_block_channels(const Sequential<double>& m, std::uint64_t seed) {
  const std::size_t channels = parameter(m, "7.body.4.weight").value().size();
  const auto out = random_permutation(channels, seed), inner = random_permutation(channels, seed + 1);
  for (const char* bn : {"weight", "bias", "running_mean", "running_var"}) {
    permute_along(m, std::string("7.body.4.") + bn, 0, out);
    permute_along(m, std::string("7.shortcut.1.") + bn, 0, out);
    permute_along(m, std::string("7.body.1.") + bn, 0, inner);
  }
  permute_along(m, "7.body.3.weight", 0, out);
  permute_along(m, "7.shortcut.0.weight", 0, out);
  permute_along(m, "10.weight", 1, out);
  permute_along(m, "7.body.0.weight", 0, inner);
  permute_along(m, "7.body.3.weight", 1, inner);
}

/// x ↦ f(x ⊙ m): the model with the `pixels` of every input set to 0 first, so
/// that it provably ignores them (for the dummy axiom on a convolutional net,
/// whose weights are shared across pixels).
ExplainedOutput<double> ignoring_pixels(const Sequential<double>& model, const Shape& example,
                                        const std::vector<std::size_t>& pixels) {
  Shape mask_shape = example;
  mask_shape.insert(mask_shape.begin(), 1);
  Tensor<double> mask(mask_shape, 1.0);
  for (std::size_t p : pixels) mask.data()[p] = 0;
  ExplainedOutput<double> out;
  out.model = [f = as_function(model), m = constant(mask)](const Var<double>& x) { return f(x * m); };
  out.batch_size = 64;
  return out;
}

/// Zero the first Linear layer's weights of the given input pixels.
void ignore_pixels(const Sequential<double>& m, const std::vector<std::size_t>& pixels) {
  Var<double> w = parameter(m, "1.weight");
  Tensor<double> v = w.value();
  for (std::size_t r = 0; r < v.shape()[0]; ++r)
    for (auto p : pixels) v(r, p) = 0;
  w.assign(v);
}

/// Permute the first hidden layer's units: rows of 1.weight / 1.bias and columns of 3.weight.
void permute_hidden_units(const Sequential<double>& m, std::uint64_t seed) {
  Var<double> w1 = parameter(m, "1.weight"), b1 = parameter(m, "1.bias"), w3 = parameter(m, "3.weight");
  const std::size_t h = w1.value().shape()[0];
  std::vector<std::size_t> perm(h);
  for (std::size_t i = 0; i < h; ++i) perm[i] = i;
  std::mt19937_64 rng(seed);
  for (std::size_t i = h - 1; i > 0; --i) std::swap(perm[i], perm[rng() % (i + 1)]);
  Tensor<double> nw1 = w1.value(), nb1 = b1.value(), nw3 = w3.value();
  for (std::size_t i = 0; i < h; ++i) {
    for (std::size_t j = 0; j < nw1.shape()[1]; ++j) nw1(i, j) = w1.value()(perm[i], j);
    nb1(i) = b1.value()(perm[i]);
    for (std::size_t r = 0; r < nw3.shape()[0]; ++r) nw3(r, i) = w3.value()(r, perm[i]);
  }
  w1.assign(nw1), b1.assign(nb1), w3.assign(nw3);
}

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t) m = std::max(m, std::abs(v));
  return m;
}


/// The three models an axiom table compares: f, f made to ignore some pixels,
/// and f computed by other weights (the same function).
struct AxiomModels {
  ExplainedOutput<double> out, out_dummy, out_permuted;
};

struct AxiomRows {
  Table table;
  nlohmann::json numbers = nlohmann::json::object();
};

/// Every method's gaps on `images` (interaction methods on the first image
/// only, and only if `with_interactions`).
AxiomRows measure_axioms(const Context& ctx, const AxiomModels& models, const Dataset<double>& images,
                         const Dataset<double>& pool, const std::vector<std::size_t>& ignored,
                         bool with_interactions) {
  const std::size_t n = images.size();
  const auto& out = models.out;
  const auto& out_dummy = models.out_dummy;
  const auto& out_permuted = models.out_permuted;
  const auto targets = resolve_targets(out, images.inputs, {});
  MethodSettings<double> settings;
  settings.references = pool.inputs;
  settings.reference_labels = pool.labels;
  settings.seed = ctx.seed;
  AxiomRows rows;
  Table& table = rows.table;
  nlohmann::json& numbers = rows.numbers;
  table.columns = {"method", "completeness gap (rel.)", "dummy-feature attribution (rel.)",
                   "implementation-invariance gap (rel.)", "symmetry gap (rel.)"};
  for (const auto& info : method_catalogue()) {
    if (info.name == "shapley_interaction") continue;  // 2^784 coalitions
    if (info.name == "ig2") continue;  // needs the split of each model; measured in its own tests
    if (info.interactions && !with_interactions) continue;
    const MethodSpec<double>& spec = method_spec<double>(info.name);
    MethodSettings<double> s = settings;
    if (info.name == "ih" || info.name == "eh") s.steps = by_scale(ctx, 4, 16, 32);
    // Smoke runs (tests, under the sanitizers in CI) take fewer steps of the
    // costliest walks; the axioms measured do not depend on the count.
    if (info.name == "agi") s.steps = by_scale(ctx, 5, 0, 0);        // 0: the default, 20 steps
    if (info.name == "guided_ig") s.steps = by_scale(ctx, 16, 0, 0);  // 128
    if (info.name == "neflag") s.steps = by_scale(ctx, 5, 0, 0);      // 20 points
    if (info.name == "expected_gradients" || info.name == "smoothgrad" || info.name == "smoothgrad_squared" ||
        info.name == "vargrad")
      s.samples = by_scale<std::size_t>(ctx, 8, 50, 200);
    ctx.progress(info.name);
    const auto images_for = info.interactions ? std::size_t(1) : n;
    const Tensor<double> x = xt::view(images.inputs, xt::range(0, images_for));
    const std::vector<std::size_t> t(targets.begin(), targets.begin() + images_for);
    AttributionMethod<double> method = [&](const ExplainedOutput<double>& o, const Tensor<double>& xs,
                                           const std::vector<std::size_t>& ts) {
      return run_method(spec, o, xs, resolve_targets(o, xs, ts), s).values;
    };
    const MethodOutput<double> result = run_method(spec, out, x, t, s);
    const double scale = std::max(max_abs(result.values), 1e-300);
    double completeness = std::nan("");
    if (!result.completeness_gaps.empty()) {
      completeness = 0;
      for (std::size_t i = 0; i < result.completeness_gaps.size(); ++i)
        completeness = std::max(completeness,
                                result.completeness_gaps[i] / std::max(std::abs(result.output_changes[i]), 1e-12));
    }
    const double dummy_gap = dummy_feature_gap(method, out_dummy, x, t, ignored) / scale;
    const double invariance = implementation_invariance_gap(method, out, out_permuted, x, t) / scale;
    double symmetry = std::nan("");
    if (info.interactions) symmetry = interaction_symmetry_gap(result.values) / scale;
    table.add_row({info.name, format_number(completeness, 2), format_number(dummy_gap, 2),
                   format_number(invariance, 2), format_number(symmetry, 2)});
    nlohmann::json e = {{"dummy_feature", dummy_gap}, {"implementation_invariance", invariance}};
    if (std::isfinite(completeness)) e["completeness"] = completeness;
    if (std::isfinite(symmetry)) e["symmetry"] = symmetry;
    numbers[info.name] = e;
  }
  // NeFLAG's guided search (an option) next to its default (the random search, the registry's row):
  // the guided points converge to −F̂, whose entries on ignored pixels are 0.
  {
    ctx.progress("neflag (guided search)");
    NeFLAGOptions guided;
    guided.search = NeFLAGSearch::guided;
    guided.seed = ctx.seed;
    if (ctx.scale == Scale::smoke) guided.points = 5;  // (its 20 steps converge: dummy pixels get exactly 0)
    AttributionMethod<double> method = [&](const ExplainedOutput<double>& o, const Tensor<double>& xs,
                                           const std::vector<std::size_t>& ts) {
      return neflag(o, xs, resolve_targets(o, xs, ts), guided).attributions;
    };
    const Tensor<double> a = method(out, images.inputs, targets);
    const double scale = std::max(max_abs(a), 1e-300);
    const double dummy_gap = dummy_feature_gap(method, out_dummy, images.inputs, targets, ignored) / scale;
    const double invariance = implementation_invariance_gap(method, out, out_permuted, images.inputs, targets) / scale;
    table.add_row({"neflag (guided search)", format_number(std::nan(""), 2), format_number(dummy_gap, 2),
                   format_number(invariance, 2), format_number(std::nan(""), 2)});
    numbers["neflag (guided search)"] = {{"dummy_feature", dummy_gap}, {"implementation_invariance", invariance}};
  }
  return rows;
}

/// The 5 brightest pixels of the first image (so x_i ≠ baseline there).
std::vector<std::size_t> brightest_pixels(const Dataset<double>& images) {
  std::vector<std::size_t> order(784);
  for (std::size_t i = 0; i < 784; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return images.inputs.data()[a] > images.inputs.data()[b]; });
  return {order.begin(), order.begin() + 5};
}

}  // namespace

Outcome run_axiom_table(const Context& ctx, const std::filesystem::path& dir) {
  const std::size_t n = by_scale<std::size_t>(ctx, 2, 3, 10);
  const Dataset<double> images = evaluation_images(ctx, n, 10);
  const Dataset<double> pool = reference_images(ctx, by_scale<std::size_t>(ctx, 20, 200, 1000), 11);
  const double beta = 10;
  const std::vector<std::size_t> ignored = brightest_pixels(images);

  // The mlp: dummy pixels by zeroed first-layer weights, its first hidden layer's units permuted.
  Sequential<double> original = load_preset(ctx, "mlp");
  Sequential<double> dummy = load_preset(ctx, "mlp");
  Sequential<double> permuted = load_preset(ctx, "mlp");
  ignore_pixels(dummy, ignored);
  permute_hidden_units(permuted, ctx.seed + 99);
  AxiomRows on_mlp = measure_axioms(ctx,
                                    {explain_logits(smooth(original, beta), 64), explain_logits(smooth(dummy, beta), 64),
                                     explain_logits(smooth(permuted, beta), 64)},
                                    images, pool, ignored, true);
  nlohmann::json numbers = on_mlp.numbers;
  Table& table = on_mlp.table;

  // The resnet: dummy pixels by masking the input, its last block's channels permuted.
  Sequential<double> resnet = load_preset(ctx, "resnet");
  Sequential<double> resnet_permuted = load_preset(ctx, "resnet");
  permute_last_block_channels(resnet_permuted, ctx.seed + 99);
  const Sequential<double> resnet_smooth = smooth(resnet, beta);
  ctx.progress("the same table on the resnet preset");
  AxiomRows on_resnet = measure_axioms(
      ctx,
      {explain_logits(resnet_smooth, 64), ignoring_pixels(resnet_smooth, resnet.input_shape(), ignored),
       explain_logits(smooth(resnet_permuted, beta), 64)},
      images, pool, ignored, false);  // interaction methods: 784 HVPs per node on the resnet, too slow here
  numbers["resnet"] = on_resnet.numbers;
  const double neflag_dummy = numbers["neflag"]["dummy_feature"].get<double>();
  const double guided_dummy = numbers["neflag (guided search)"]["dummy_feature"].get<double>();
  std::ostringstream md;
  md << "Settings: the `mlp` preset smoothed with β = 10, float64, " << n << " test images (1 for the "
     << "784×784 interaction methods); dummy pixels: the 5 brightest pixels of the first image, made dummy by "
        "zeroing their first-layer weights; the permuted net shuffles the 256 units of the first hidden layer "
        "(seeded). All gaps are relative to the largest attribution magnitude (completeness: to |Δf|); "
        "\"n/a\" = the axiom does not apply to the method.\n\n"
     << table_section(dir, "axioms", table)
     << "**The same table on the `resnet` preset** (residual blocks with BatchNorm, smoothed with β = 10 — the "
        "ReLUs inside the blocks too; float64; the same images). Its dummy pixels are made by masking them in the "
        "input, f(x ⊙ m) with m = 0 on the 5 pixels (a convolution shares its weights across pixels, so zeroing "
        "weights cannot make one pixel dummy); its permuted net shuffles the 64 output channels of the last block "
        "(both paths, their BatchNorms and the linear layer's columns) and, separately, the block's 64 inner "
        "channels. The interaction methods are left out here: each needs 784 Hessian-vector products per "
        "node and image on this net, so they are measured on the mlp only.\n\n"
     << table_section(dir, "axioms_resnet", on_resnet.table)
     << "**Reading the table.** Path methods (IG, Expected Gradients, Blur IG, Guided IG, AGI, Integrated "
        "and Expected Hessians) satisfy completeness up to their quadrature / Monte Carlo error; gradient "
        "methods give exactly 0 to dummy pixels; every method is implementation invariant up to rounding "
        "(the two nets compute the same function in a different order); interaction matrices are symmetric "
        "up to rounding. A value far from 0 in an applicable cell is a finding about that method (e.g. "
        "sampling-based completeness converges like 1/√n). NeFLAG's dummy-feature gap is "
     << format_number(neflag_dummy, 2)
     << ", not 0, because its default search draws random sphere normals n̂, whose entries on the ignored "
        "pixels are not 0, so each flux vector φ n̂ puts Monte Carlo noise of mean 0 there that falls like "
        "1/√n (n = "
     << NeFLAGOptions{}.points << " here); its guided search, whose points converge to −∇f/|∇f|, gives "
     << format_number(guided_dummy, 2) << ".\n";
  return {numbers, md.str()};
}

}  // namespace fluxion::experiments
