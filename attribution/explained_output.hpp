// The scalar an attribution explains.
//
// A model maps a batch x[N, ...] to logits z[N, C]. The explained output of
// example n is
//     f_n(x) = z_{n, c_n}(x)                 (OutputKind::logit, the default)
//     f_n(x) = softmax(z_n(x))_{c_n}         (OutputKind::probability)
// where c_n is the target class (default: the predicted class argmax_c z_nc).
//
// Because examples in a batch are independent, the gradient of Σ_n f_n with
// respect to the whole batch holds every ∇f_n in one reverse sweep — that is
// how every method here evaluates many path points at once. `batch_size`
// bounds how many points go through the model together (memory).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "autodiff/transforms.hpp"

namespace fluxion {

enum class OutputKind { logit, probability };

/// "logit" | "probability" (ArgumentError otherwise).
OutputKind parse_output_kind(const std::string& name);

template <class T>
struct ExplainedOutput {
  Function<T> model;                 // x[N, ...] -> logits [N, C]
  OutputKind kind = OutputKind::logit;
  std::size_t batch_size = 64;       // points per model call inside methods
};

/// Number of examples N of a batch x[N, ...]; ShapeError naming `what` if x
/// has no leading axis or N = 0.
template <class T>
std::size_t example_count(const Tensor<T>& x, const std::string& what);

/// The shape of one example of x[N, ...]: x.shape without the leading axis.
template <class T>
Shape example_shape(const Tensor<T>& x);

/// Rows start … start+count−1 of x[N, ...], copied into a tensor [count, ...].
template <class T>
Tensor<T> take_examples(const Tensor<T>& x, std::size_t start, std::size_t count);

/// The classes to explain: `targets` itself if given (size N, each < C,
/// ArgumentError otherwise), else the predicted classes of x.
template <class T>
std::vector<std::size_t> resolve_targets(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                         const std::vector<std::size_t>& targets);

/// argmax_c z_nc for each row of model(x). x: [N, ...].
template <class T>
std::vector<std::size_t> predicted_classes(const Function<T>& model, const Tensor<T>& x,
                                           std::size_t batch_size = 64);

/// f_n(x_n) for every row n; targets[n] is c_n (size N). Returns [N].
template <class T>
Tensor<T> output_values(const ExplainedOutput<T>& out, const Tensor<T>& x,
                        const std::vector<std::size_t>& targets);

/// ∇_x f_n(x_n) for every row n, evaluated in chunks of out.batch_size.
/// x: [N, ...], targets: N entries. Returns the shape of x.
template <class T>
Tensor<T> output_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x,
                           const std::vector<std::size_t>& targets);

/// The differentiable explained output of a batch: Var [N] (for HVPs and
/// nested transforms).
template <class T>
Var<T> explained_output(const ExplainedOutput<T>& out, const Var<T>& x,
                        const std::vector<std::size_t>& targets);

}  // namespace fluxion
