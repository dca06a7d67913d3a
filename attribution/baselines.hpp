// The baseline x' of a path method for inputs x[N, ...]: "one example or
// [N, ...]". Either one example shared by every row (the black image, a user
// image) or one baseline per example (a blurred copy of each input). The
// shape is checked once, when the Baselines is made; afterwards row(e) is the
// baseline of example e, whichever form was given.
#pragma once
#include <optional>
#include <string>

#include "autodiff/tensor.hpp"

namespace fluxion {

template <class T>
class Baselines {
 public:
  /// `given` for inputs x[N, ...]: one example (shared) or the shape of x.
  /// ShapeError naming `where` otherwise.
  Baselines(const Tensor<T>& x, const Tensor<T>& given, const std::string& where);
  /// As above; none = the black baseline x' = 0 (every method's default).
  Baselines(const Tensor<T>& x, const std::optional<Tensor<T>>& given, const std::string& where);

  /// True if one example serves every row.
  bool shared() const { return shared_; }
  /// The baseline of example e (d values).
  const T* row(std::size_t e) const { return values_.data() + (shared_ ? 0 : e * example_size_); }
  /// Which row of references() example e uses: 0 (shared) or e.
  std::size_t index(std::size_t e) const { return shared_ ? 0 : e; }
  /// The distinct baselines as a batch: [1, ...] (shared) or [N, ...].
  const Tensor<T>& references() const { return values_; }
  /// One baseline per example, [N, ...] (the shared one copied into every row).
  Tensor<T> rows() const;

 private:
  Tensor<T> values_;  // [1, ...] or [N, ...]
  bool shared_ = true;
  std::size_t examples_ = 0, example_size_ = 0;
};

}  // namespace fluxion
