// Every attribution method under one name, for the `fluxion` CLI and the
// experiments: a uniform call
//     (explained output, x[N, ...], targets) → attributions [N, ...]
// (or interactions [N, d, d]) plus, where the method has one, the reference
// point's output change and the completeness gap per example.
//
// One table row per method (MethodSpec, method_registry.cpp) is the whole
// truth about it: its MethodInfo (name, kind, what it needs, its default
// count) and its runner. A caller looks the row up once (method_spec), resolves
// the classes and the baseline once (resolve_targets, resolve_baseline), and
// hands all three to run_method. Each method keeps its own options struct and defaults (see its
// header); MethodSettings only carries what the CLI and the experiments vary.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

/// A baseline resolved once, for the inputs it was made for: the tensor (none
/// = black, x' = 0) and its name, which the outputs quote ("blur baseline").
template <class T>
struct MethodBaseline {
  std::optional<Tensor<T>> values;  // one example or [N, ...]; none: zeros
  std::string name = "black";       // "black" | "blur" | "user"
};

/// The baseline `kind` stands for, for inputs x[N, ...], built once: none for
/// "black" (or "zeros", every method's default), x blurred with IG's σ = 5 for
/// "blur", `user` (one example or [N, ...]) for "user". ArgumentError for
/// another kind, ShapeError if x cannot be blurred.
template <class T>
MethodBaseline<T> resolve_baseline(const Tensor<T>& x, const std::string& kind, const Tensor<T>& user = {});

/// The reference-compatible options (issue 21): each reproduces another
/// library's numbers ("matches <library> <function>", see each row's
/// MethodInfo::options) and none is a default. Empty / none: the method's own
/// definition. run_method refuses an option the method does not take.
struct MethodOptions {
  std::string rule = {};                        // ig: quadrature; ih: ∫∫ g(αβ) rule; blur_ig: segment rule
  std::string sigma_schedule = {};              // blur_ig: linear | sqrt | pair_sqrt
  std::string blur_border = {};                 // blur_ig: reflect | zeros
  std::string blur_kernel = {};                 // blur_ig: three_sigma | scipy
  std::optional<double> max_sigma = {};         // blur_ig: σ_max in pixels
  std::string aggregate = {};                   // smoothgrad, vargrad: over |∇f|; agi: mean | sum_over_classes
  std::optional<double> noise_sigma = {};       // smoothgrad family: an absolute σ
  std::vector<std::size_t> false_classes = {};  // agi: an explicit list of false classes
  std::string inner_baseline = {};              // eh: shared | fresh
};

/// One value of a choice option and what it is ("matches Captum ..." for the compatible ones).
struct OptionChoice {
  std::string value, description;
};

/// One option a method takes: its MethodOptions field name (the CLI flag is
/// --name with '_' → '-'), its default, its choices (empty: a free value) and what it does.
struct MethodOption {
  std::string name, default_value;
  std::vector<OptionChoice> choices;
  std::string description;
};

/// The MethodOptions fields that are set, as (name, value in words), in field order.
std::vector<std::pair<std::string, std::string>> given_options(const MethodOptions& options);

struct MethodInfo;
/// ArgumentError (one sentence, the flag named) for an option the method
/// `info` does not take, or a value not among that option's choices.
void check_method_options(const MethodInfo& info, const MethodOptions& options);

template <class T>
struct MethodSettings {
  int steps = 0;                 // 0: the method's default (IG 50 nodes, Guided IG 128, IG2 K, NeFLAG n, ...)
  std::uint64_t seed = 0;
  MethodBaseline<T> baseline;    // takes_baseline methods (ig / ih / guided_ig / ...): see resolve_baseline
  Tensor<T> references;            // expected_gradients / expected_hessians / ig2: pool [R, ...]
  std::vector<std::size_t> reference_labels;  // needs_reference_labels (ig2): class of each reference
  Function<T> features, head;      // needs_split_model (ig2): model = head ∘ features (representation space)
  std::size_t samples = 0;         // Monte Carlo samples (EG, EH, SmoothGrad); 0: default
  MethodOptions options;           // reference-compatible options (issue 21)
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
  bool needs_reference_labels = false;  // uses settings.reference_labels when given (else the whole pool)
  bool takes_baseline = false;     // reads settings.baseline (built once by resolve_baseline)
  int default_steps = 0;           // what steps = 0 means, read from its options struct (0: no such count)
  std::vector<MethodOption> options = {};  // the MethodOptions it takes
};

template <class T>
struct MethodCall;

/// One row of the method table: everything about a method, its MethodInfo
/// (name, kind, needs, default count) and its runner.
template <class T>
struct MethodSpec {
  MethodInfo info;
  MethodOutput<T> (*run)(const MethodCall<T>&);
};

/// What a runner gets: the inputs with the classes, the settings and the counts resolved.
template <class T>
struct MethodCall {
  const ExplainedOutput<T>& out;
  const Tensor<T>& x;
  const std::vector<std::size_t>& classes;  // one class per example
  const MethodSettings<T>& s;
  int steps;            // s.steps, else the row's default_steps
  std::size_t samples;  // Monte Carlo samples: s.steps, else s.samples, else default_steps
};

/// The table: attribution methods (interactions = false), then interaction methods.
template <class T>
const std::vector<MethodSpec<T>>& method_table();

/// The row of method `name`; ArgumentError naming the unknown method and
/// listing the known ones.
template <class T>
const MethodSpec<T>& method_spec(const std::string& name);

/// The MethodInfo of every row, in table order.
const std::vector<MethodInfo>& method_catalogue();
/// The catalogue entry of method `name` (method_spec(name).info).
const MethodInfo& method_info(const std::string& name);

/// What MethodSettings::steps = 0 means for method `name`: its own default
/// count of quadrature nodes, path steps or Monte Carlo samples, read from
/// its options struct (IG 50, Blur IG 64, Guided IG 128, IH 32, EG 200, …);
/// 0 for methods without such a count (saliency, input_hessian, …).
int default_steps(const std::string& name);

/// Runs `method` with `settings`: (out, x[N, ...], classes) → values [N, ...] or [N, d, d].
/// `classes` are resolved already (one per example: see resolve_targets);
/// ArgumentError if there are not N of them, the settings lack what the
/// method needs, or set an option it does not take (or a value not among its choices).
template <class T>
MethodOutput<T> run_method(const MethodSpec<T>& method, const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& classes, const MethodSettings<T>& settings);

}  // namespace fluxion
