// Every attribution method under one name, for the `fluxion` CLI and the
// experiments: a uniform call
//     (explained output, x[N, ...], targets) → attributions [N, ...]
// (or interactions [N, d, d]) plus, where the method has one, the reference
// point's output change and the completeness gap per example.
//
// One table row per method (method_registry.cpp) is the whole truth about it:
// its MethodInfo (name, kind, what it needs, its default count) and its
// runner. Each method keeps its own options struct and defaults (see its
// header); MethodSettings only carries what the CLI and the experiments vary.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

template <class T>
struct MethodSettings {
  int steps = 0;                 // 0: the method's default (IG 50 nodes, Guided IG 128, IG2 K, NeFLAG n, ...)
  std::uint64_t seed = 0;
  std::string baseline = "black";  // ig / ih / guided_ig: "black" | "blur" | "user"
  Tensor<T> user_baseline;         // one example or [N, ...] when baseline == "user"
  Tensor<T> references;            // expected_gradients / expected_hessians / ig2: pool [R, ...]
  std::vector<std::size_t> reference_labels;  // ig2: class of each reference (others' classes are used)
  Function<T> features, head;      // needs_split_model (ig2): model = head ∘ features (representation space)
  std::size_t samples = 0;         // Monte Carlo samples (EG, EH, SmoothGrad); 0: default
};

template <class T>
struct MethodOutput {
  Tensor<T> values;                       // [N, ...] attributions or [N, d, d] interactions
  std::vector<double> output_changes;     // f(x) − f(reference) per example (empty: no reference)
  std::vector<double> completeness_gaps;  // |Σ values − change| per example (empty: not defined)
  std::string reference;                  // what the reference point is, in words
};

struct MethodInfo {
  std::string name;
  std::string description;
  bool interactions = false;       // the kind: interactions [N, d, d], else attributions [N, ...]
  bool path_method = false;        // completeness against its reference holds by construction
  bool needs_references = false;   // settings.references: a pool [R, ...] to draw baselines from
  bool needs_split_model = false;  // settings.features and settings.head
  bool takes_baseline = false;     // reads settings.baseline (resolved by method_baseline)
  int default_steps = 0;           // what steps = 0 means, read from its options struct (0: no such count)
};

/// Attribution methods (interactions = false) then interaction methods.
const std::vector<MethodInfo>& method_catalogue();
/// InputError naming the unknown method and listing the known ones.
const MethodInfo& method_info(const std::string& name);

/// What MethodSettings::steps = 0 means for method `name`: its own default
/// count of quadrature nodes, path steps or Monte Carlo samples, read from
/// its options struct (IG 50, Blur IG 64, Guided IG 128, IH 32, EG 200, …);
/// 0 for methods without such a count (saliency, input_hessian, …).
int default_steps(const std::string& name);

/// The baseline `settings.baseline` stands for, resolved once into a tensor
/// for inputs x[N, ...]: none for "black" (zeros, every method's default),
/// x blurred with IG's σ = 5 for "blur", the user tensor (one example or
/// [N, ...]) for "user". InputError / ShapeError as make_baseline.
template <class T>
std::optional<Tensor<T>> method_baseline(const Tensor<T>& x, const MethodSettings<T>& settings);

/// Runs the method `name` (see method_catalogue) with `settings`: (out, x[N, ...], targets) → values [N, ...] or [N, d, d].
template <class T>
MethodOutput<T> run_method(const std::string& name, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& targets, const MethodSettings<T>& settings);

}  // namespace fluxion
