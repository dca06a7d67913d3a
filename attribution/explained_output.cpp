// The explained scalar f_n(x) = z_{n, c_n}(x) or softmax(z_n(x))_{c_n}, and
// its values and gradients over a batch, evaluated in chunks of batch_size.
// See explained_output.hpp for the math.
#include "attribution/explained_output.hpp"

#include <algorithm>

#include "autodiff/errors.hpp"

namespace fluxion {

OutputKind parse_output_kind(const std::string& name) {
  if (name == "logit") return OutputKind::logit;
  if (name == "probability") return OutputKind::probability;
  throw ArgumentError("explained output: unknown kind '" + name + "' (expected logit or probability)");
}

template <class T>
std::size_t example_count(const Tensor<T>& x, const std::string& what) {
  if (x.dimension() == 0 || x.shape()[0] == 0)
    throw ShapeError(what + ": expected a batch [N, ...] with N >= 1, got " + shape_str(shape_of(x)));
  return x.shape()[0];
}

template <class T>
Shape example_shape(const Tensor<T>& x) {
  Shape s = shape_of(x);
  if (!s.empty()) s.erase(s.begin());
  return s;
}

template <class T>
Tensor<T> take_examples(const Tensor<T>& x, std::size_t start, std::size_t count) {
  Shape s = shape_of(x);
  if (s.empty() || start + count > s[0])
    throw ShapeError("take_examples: rows " + std::to_string(start) + ".." + std::to_string(start + count) +
                     " do not fit " + shape_str(s));
  const std::size_t row = numel_of(s) / s[0];
  s[0] = count;
  Tensor<T> out = Tensor<T>::from_shape(s);
  std::copy(x.data() + start * row, x.data() + (start + count) * row, out.data());
  return out;
}

namespace {

// The model's logits must be [n, C] for a chunk of n examples.
template <class T>
void check_logits(const Var<T>& z, std::size_t n) {
  if (z.rank() != 2 || z.shape()[0] != n)
    throw ShapeError("explained output: the model must map " + std::to_string(n) + " examples to logits [" +
                     std::to_string(n) + ", C], got " + shape_str(z.shape()));
}

void check_targets(const std::vector<std::size_t>& targets, std::size_t n) {
  if (targets.size() != n)
    throw ArgumentError("explained output: " + std::to_string(targets.size()) + " targets given for " +
                        std::to_string(n) + " examples");
}

template <class T>
std::size_t chunk_of(const ExplainedOutput<T>& out) {
  return out.batch_size == 0 ? std::size_t(1) : out.batch_size;
}

}  // namespace

template <class T>
Var<T> explained_output(const ExplainedOutput<T>& out, const Var<T>& x, const std::vector<std::size_t>& targets) {
  const std::size_t n = x.rank() == 0 ? 0 : x.shape()[0];
  check_targets(targets, n);
  Var<T> z = out.model(x);
  check_logits(z, n);
  for (std::size_t c : targets)
    if (c >= z.shape()[1])
      throw ArgumentError("explained output: target class " + std::to_string(c) + " is out of range for " +
                          std::to_string(z.shape()[1]) + " classes");
  // log-softmax then exp keeps the probability accurate for large logits.
  if (out.kind == OutputKind::probability) return exp(select(log_softmax(z), targets));
  return select(z, targets);
}

template <class T>
std::vector<std::size_t> predicted_classes(const Function<T>& model, const Tensor<T>& x, std::size_t batch_size) {
  const std::size_t n = example_count(x, "predicted_classes");
  const std::size_t chunk = batch_size == 0 ? 1 : batch_size;
  std::vector<std::size_t> classes(n);
  NoGradGuard inference;
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t count = std::min(chunk, n - start);
    Var<T> z = model(Var<T>(take_examples(x, start, count)));
    check_logits(z, count);
    const std::size_t c = z.shape()[1];
    if (c == 0) throw ShapeError("predicted_classes: the model returned zero classes");
    const T* row = z.value().data();
    for (std::size_t r = 0; r < count; ++r)
      classes[start + r] = static_cast<std::size_t>(std::max_element(row + r * c, row + (r + 1) * c) - (row + r * c));
  }
  return classes;
}

template <class T>
std::vector<std::size_t> resolve_targets(const ExplainedOutput<T>& out, const Tensor<T>& x,
                                         const std::vector<std::size_t>& targets) {
  const std::size_t n = example_count(x, "targets");
  if (targets.empty()) return predicted_classes(out.model, x, out.batch_size);
  check_targets(targets, n);
  return targets;
}

template <class T>
Tensor<T> output_values(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets) {
  const std::size_t n = example_count(x, "output_values");
  check_targets(targets, n);
  const std::size_t chunk = chunk_of(out);
  Tensor<T> values = Tensor<T>::from_shape({n});
  NoGradGuard inference;
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t count = std::min(chunk, n - start);
    std::vector<std::size_t> part(targets.begin() + start, targets.begin() + start + count);
    Var<T> f = explained_output(out, Var<T>(take_examples(x, start, count)), part);
    std::copy(f.value().data(), f.value().data() + count, values.data() + start);
  }
  return values;
}

// Examples are independent, so ∇_x Σ_n f_n(x_n) stacks every ∇f_n: one
// reverse sweep per chunk.
template <class T>
Tensor<T> output_gradients(const ExplainedOutput<T>& out, const Tensor<T>& x, const std::vector<std::size_t>& targets) {
  const std::size_t n = example_count(x, "output_gradients");
  check_targets(targets, n);
  const std::size_t chunk = chunk_of(out);
  const std::size_t row = x.size() / n;
  Tensor<T> grads = Tensor<T>::from_shape(shape_of(x));
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t count = std::min(chunk, n - start);
    std::vector<std::size_t> part(targets.begin() + start, targets.begin() + start + count);
    Var<T> xv(take_examples(x, start, count), true);
    Var<T> total = sum(explained_output(out, xv, part));
    Var<T> g = grad<T>({total}, {xv})[0];
    std::copy(g.value().data(), g.value().data() + count * row, grads.data() + start * row);
  }
  return grads;
}

#define FLUXION_INSTANTIATE(T)                                                                                   \
  template std::size_t example_count(const Tensor<T>&, const std::string&);                                      \
  template Shape example_shape(const Tensor<T>&);                                                                \
  template Tensor<T> take_examples(const Tensor<T>&, std::size_t, std::size_t);                                  \
  template std::vector<std::size_t> resolve_targets(const ExplainedOutput<T>&, const Tensor<T>&,                 \
                                                    const std::vector<std::size_t>&);                            \
  template std::vector<std::size_t> predicted_classes(const Function<T>&, const Tensor<T>&, std::size_t);        \
  template Tensor<T> output_values(const ExplainedOutput<T>&, const Tensor<T>&, const std::vector<std::size_t>&); \
  template Tensor<T> output_gradients(const ExplainedOutput<T>&, const Tensor<T>&,                               \
                                      const std::vector<std::size_t>&);                                          \
  template Var<T> explained_output(const ExplainedOutput<T>&, const Var<T>&, const std::vector<std::size_t>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
