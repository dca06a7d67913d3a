// The values that flow along a Graph's edges.
//
//   real:    a Var<T> — the input, activations, weights; differentiable.
//   integer: an IntTensor — shapes, axes, indices, booleans (ONNX int64,
//            int32, bool, ...): exact, and constant for the autodiff engine.
//
// ONNX files store constants in either kind (ConstantTensor, read once in
// double or int64) and graphs turn one into the other (Cast, Shape), so a
// value knows its kind and every op checks it gets the kind it needs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/var.hpp"

namespace fluxion {

/// An exact integer tensor (row-major).
struct IntTensor {
  Shape shape;
  std::vector<std::int64_t> data;
};

/// A constant as a file stores it: integers exactly, reals in double.
struct ConstantTensor {
  Shape shape;
  bool integer = false;
  std::vector<std::int64_t> ints;  // integer
  std::vector<double> reals;       // !integer
};

template <class T>
struct GraphValue {
  Var<T> real;           // defined for a real value
  IntTensor integer;     // for an integer value
  bool is_integer = false;

  static GraphValue of(Var<T> v) {
    GraphValue g;
    g.real = std::move(v);
    return g;
  }
  static GraphValue of(IntTensor t) {
    GraphValue g;
    g.integer = std::move(t);
    g.is_integer = true;
    return g;
  }
  /// The constant in this value's natural kind (reals rounded to T).
  static GraphValue of(const ConstantTensor& c) {
    if (c.integer) return of(IntTensor{c.shape, c.ints});
    Tensor<T> t(c.shape);
    for (std::size_t i = 0; i < c.reals.size(); ++i) t.data()[i] = static_cast<T>(c.reals[i]);
    return of(Var<T>(std::move(t)));
  }
  Shape shape() const { return is_integer ? integer.shape : real.shape(); }
};

}  // namespace fluxion
