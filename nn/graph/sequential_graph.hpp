// A Sequential as the simple case of a Graph: the chain
//
//     x ─layer 0─▶ h0 ─layer 1─▶ h1 ─ … ─▶ logits
//
// with each layer written as the ONNX op it is (linear → Gemm with transB,
// conv2d → Conv, maxpool2d → MaxPool, avgpool2d → AveragePool, flatten →
// Flatten, relu → Relu, softplus(β) → Softplus with Fluxion's "beta", tanh,
// sigmoid, dropout → Identity at inference, batchnorm2d → BatchNormalization
// with the running statistics, global_avgpool2d → GlobalAveragePool + Flatten,
// residual → its two paths' nodes and an Add) and the same weights under the
// same state_dict names ("0.weight", "0.bias", ...). Evaluating the graph
// gives the Sequential's outputs bit for bit (the same kernels in the same
// order; tests/nn/test_graph.cpp checks it).
#pragma once

#include "nn/graph/graph.hpp"
#include "nn/modules/sequential.hpp"

namespace fluxion {

/// The graph of `model` (its weights copied as constants). `source` names it in messages.
template <class T>
Graph<T> to_graph(const Sequential<T>& model, const std::string& source = "sequential model");

}  // namespace fluxion
