// The one chunk loop of the generated-point methods (see chunked_evaluation.hpp).
#include "attribution/chunked_evaluation.hpp"

#include <algorithm>

namespace fluxion {

template <class T>
void evaluate_in_chunks(std::size_t batch_size, const Shape& example, std::size_t count,
                        const PointMaker<T>& make_point, const ChunkEvaluator<T>& evaluate) {
  const std::size_t chunk = std::max<std::size_t>(batch_size, 1), d = numel_of(example);
  Shape chunk_shape = example;
  chunk_shape.insert(chunk_shape.begin(), 0);
  for (std::size_t first = 0; first < count; first += chunk) {
    const std::size_t size = std::min(chunk, count - first);
    chunk_shape[0] = size;
    Tensor<T> points = Tensor<T>::from_shape(chunk_shape);
    std::vector<std::size_t> classes(size);
    for (std::size_t p = 0; p < size; ++p) classes[p] = make_point(first + p, points.data() + p * d);
    evaluate(first, points, classes);
  }
}

template <class T>
void gradients_in_chunks(const ExplainedOutput<T>& out, const Shape& example, std::size_t count,
                         const PointMaker<T>& make_point, const GradientSink<T>& accumulate) {
  const std::size_t d = numel_of(example);
  evaluate_in_chunks<T>(out.batch_size, example, count, make_point,
                        [&](std::size_t first, const Tensor<T>& points, const std::vector<std::size_t>& classes) {
                          const Tensor<T> g = output_gradients(out, points, classes);
                          for (std::size_t p = 0; p < classes.size(); ++p) accumulate(first + p, g.data() + p * d);
                        });
}

#define FLUXION_INSTANTIATE(T)                                                                                  \
  template void evaluate_in_chunks(std::size_t, const Shape&, std::size_t, const PointMaker<T>&,               \
                                   const ChunkEvaluator<T>&);                                                   \
  template void gradients_in_chunks(const ExplainedOutput<T>&, const Shape&, std::size_t, const PointMaker<T>&, \
                                    const GradientSink<T>&);
FLUXION_INSTANTIATE(float)
FLUXION_INSTANTIATE(double)
#undef FLUXION_INSTANTIATE

}  // namespace fluxion
