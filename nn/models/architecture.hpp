// Architecture descriptions: a model as a short JSON document, so that a
// .safetensors file can carry its architecture in __metadata__ and be loaded
// without code. The format (every layer of torch.nn.Sequential in order):
//
//   {"input_shape": [1, 28, 28],              one example, batch axis excluded
//    "layers": [
//      {"type": "conv2d", "in": 1, "out": 16, "kernel": 5, "stride": 1, "padding": 0},
//      {"type": "relu"},
//      {"type": "maxpool2d", "kernel": 2, "stride": 2},
//      {"type": "avgpool2d", "kernel": 2, "stride": 2},
//      {"type": "flatten"},
//      {"type": "linear", "in": 512, "out": 128},
//      {"type": "softplus", "beta": 10},
//      {"type": "tanh"}, {"type": "sigmoid"},
//      {"type": "dropout", "p": 0.5},
//      {"type": "batchnorm2d", "channels": 16},            eps 1e-5, momentum 0.1 by default
//      {"type": "residual", "body": [layers...], "shortcut": [layers...]},   y = body(x) + shortcut(x)
//      {"type": "global_avgpool2d"}]}                        [C, H, W] → [C]
//
// Optional fields: "stride" (conv2d: 1; pools: = kernel), "padding" (0),
// "bias" (true) on conv2d/linear, "groups" (1) on conv2d, "eps"/"momentum"
// on batchnorm2d, "shortcut" ([] = the identity) on residual, "beta" (1) on softplus, "p" (0.5) on
// dropout, and a top-level "dtype" ("float32" | "float64") that model files
// use to state how their tensors are stored. Unknown types or fields are
// errors (a typo must not silently change the model). A description comes
// from outside, so its sizes are limited before anything is allocated: every
// integer field is at most 2^31, and the model at most 2^31 parameters.
//
// Instead of JSON, a description may be a preset name:
//
//   mlp   [1,28,28] → flatten → linear 784→256 → relu → linear 256→256 → relu
//         → linear 256→10                      (parameters 1.*, 3.*, 5.*)
//   cnn   [1,28,28] → conv 5×5 1→16 → relu → maxpool 2 → conv 5×5 16→32 → relu
//         → maxpool 2 → flatten (32·4·4 = 512) → linear 512→128 → relu
//         → linear 128→10                      (parameters 0.*, 3.*, 7.*, 9.*)
//
//   resnet [1,28,28] → conv 3×3 1→16 → bn → relu
//         → block(16, 28×28, identity shortcut) → relu
//         → block(32, 14×14, stride 2, 1×1-conv+bn shortcut) → relu
//         → block(64, 7×7, stride 2, 1×1-conv+bn shortcut) → relu
//         → global_avgpool2d → linear 64→10
//         A block's body is conv 3×3 → bn → relu → conv 3×3 → bn; convs
//         before a bn have no bias. 77,754 parameters and 672 running
//         statistics (parameters 0.*, 1.*, 3.*, 5.*, 7.*, 10.*).
//
// All presets take NCHW input [N, 1, 28, 28], so attribution code treats
// them alike. build_model(describe_model(m)) rebuilds m's architecture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/modules/sequential.hpp"

namespace fluxion {

/// The preset names ("mlp", "cnn", "resnet").
std::vector<std::string> preset_names();

/// The JSON description of a preset; InputError for an unknown name.
std::string preset_description(const std::string& name);

/// One parameter tensor an architecture implies: its state_dict name
/// ("3.weight") and shape.
struct ParameterSpec {
  std::string name;
  Shape shape;
};

/// The parameters a preset name or JSON description implies, in state_dict
/// order, found without building (or allocating) the model. Checks every
/// field and the size limits like build_model, with the same InputErrors;
/// whether the layers fit together is checked only by build_model.
std::vector<ParameterSpec> described_parameters(const std::string& description,
                                                const std::string& source = "architecture description");

/// Builds a model from a preset name or a JSON description, its parameters
/// initialised like PyTorch from `seed`. The model starts in eval mode.
/// Problems raise InputError("<source>: <problem>"), `source` naming where
/// the description came from (a file, a flag).
template <class T>
Sequential<T> build_model(const std::string& description, std::uint64_t seed,
                          const std::string& source = "architecture description");

/// The JSON description of a model (compact, one line).
template <class T>
std::string describe_model(const Sequential<T>& model);

}  // namespace fluxion
