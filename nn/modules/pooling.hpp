// 2-D pooling layers over the last two axes of [N, C, H, W], as
// torch.nn.MaxPool2d / AvgPool2d (no padding; stride defaults to the kernel):
//
//     max:  y[n, c, i, j] = max_{u,v < k} x[n, c, i·s + u, j·s + v]
//     avg:  y[n, c, i, j] = (1/k²) Σ_{u,v < k} x[n, c, i·s + u, j·s + v]
//
// Output size ⌊(H − k)/s⌋ + 1. No parameters.
// GlobalAvgPool2d (below) averages each channel's whole map.
#pragma once

#include "autodiff/pool_kernels.hpp"
#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0);  // stride 0 = kernel
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "maxpool2d"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  kernels::PoolParams params() const { return params_; }

 private:
  kernels::PoolParams params_;
};

template <class T>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0);  // stride 0 = kernel
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "avgpool2d"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  kernels::PoolParams params() const { return params_; }

 private:
  kernels::PoolParams params_;
};

/// Global average pooling, as torch.nn.AdaptiveAvgPool2d(1) followed by
/// Flatten: y[n, c] = (1/(H·W)) Σ_{i,j} x[n, c, i, j]; [N, C, H, W] → [N, C].
/// (ONNX: GlobalAveragePool, then Flatten.) No parameters.
template <class T>
class GlobalAvgPool2d : public Module<T> {
 public:
  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "global_avgpool2d"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
};

}  // namespace fluxion
