// Evaluating a method's generated points in chunks.
//
// IG (its quadrature nodes), Expected Gradients (its Monte Carlo pairs),
// SmoothGrad (its noisy copies) and Integrated / Expected Hessians (their
// interaction terms) all need ∇f (or a Hessian product) at N·K points that
// are generated from the inputs, never stored all at once. This file is the
// one loop they share: points p = 0 … count−1 are written one by one by the
// method, batch_size at a time, and each full chunk goes through the model
// together. Memory stays O(batch_size · example size) whatever N and K are,
// and the points are generated in the fixed order p = 0, 1, …, so a method
// that draws random numbers in make_point depends on its seed, not on
// batch_size.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "attribution/explained_output.hpp"

namespace fluxion {

/// Writes point p (one example, d values) to `point` and returns the class
/// explained at it.
template <class T>
using PointMaker = std::function<std::size_t(std::size_t p, T* point)>;

/// Receives the points first … first + points.shape[0] − 1 and their classes.
template <class T>
using ChunkEvaluator =
    std::function<void(std::size_t first, const Tensor<T>& points, const std::vector<std::size_t>& classes)>;

/// Receives ∇f at point p (d values).
template <class T>
using GradientSink = std::function<void(std::size_t p, const T* gradient)>;

/// For chunks of batch_size (at least 1) points: make_point for each point of
/// the chunk, in order, then evaluate(first, points [count, ...], classes).
/// `example` is the shape of one point.
template <class T>
void evaluate_in_chunks(std::size_t batch_size, const Shape& example, std::size_t count,
                        const PointMaker<T>& make_point, const ChunkEvaluator<T>& evaluate);

/// The common case: accumulate(p, ∇f_p(point_p)) for p = 0 … count−1, with
/// the gradients of each chunk from one output_gradients call (out.batch_size
/// points per chunk).
template <class T>
void gradients_in_chunks(const ExplainedOutput<T>& out, const Shape& example, std::size_t count,
                         const PointMaker<T>& make_point, const GradientSink<T>& accumulate);

}  // namespace fluxion
