// 2-D convolution layer, as torch.nn.Conv2d (cross-correlation, NCHW):
//
//     y[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] · x[n, c, i·s − p + u, j·s − p + v]
//
// x: [N, C, H, W], W: [O, C, k, k], b: [O], y: [N, O, Ho, Wo] with
// Ho = ⌊(H + 2p − k)/s⌋ + 1. Square kernels, zero padding. With g groups
// (torch's `groups`) the channels split into g blocks and block b of the
// output sees only block b of the input: W is [O, C/g, k, k] and
//     y[n, o, i, j] = b[o] + Σ_{c<C/g, u, v} W[o, c, u, v] · x[n, ⌊o/(O/g)⌋·C/g + c, …].
// Parameters
// "weight" and "bias" in PyTorch's layout and default initialisation
// (fan_in = C·k·k, see init.hpp).
#pragma once

#include <random>

#include "autodiff/conv_kernels.hpp"
#include "nn/modules/module.hpp"

namespace fluxion {

template <class T>
class Conv2d : public Module<T> {
 public:
  Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel, std::mt19937_64& rng,
         std::size_t stride = 1, std::size_t padding = 0, bool bias = true, std::size_t groups = 1);

  Var<T> forward(const Var<T>& x) override;
  std::string type() const override { return "conv2d"; }
  nlohmann::json describe() const override;
  Shape output_shape(const Shape& input) const override;
  std::vector<NamedParameter<T>> named_parameters() const override;

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  std::size_t kernel() const { return kernel_; }
  std::size_t stride() const { return stride_; }
  std::size_t padding() const { return padding_; }
  std::size_t groups() const { return groups_; }
  kernels::Conv2dParams params() const { return params_; }
  bool has_bias() const { return bias_.defined(); }
  const Var<T>& weight() const { return weight_; }
  const Var<T>& bias() const { return bias_; }

 private:
  std::size_t in_, out_, kernel_, stride_, padding_, groups_;
  kernels::Conv2dParams params_;
  Var<T> weight_, bias_;
};

}  // namespace fluxion
