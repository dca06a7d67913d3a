// MNIST and the trained presets (mlp, cnn, resnet) the MNIST experiments explain.
//
// prepare_mnist_models fetches MNIST with scripts/fetch-mnist.sh when the IDX
// files are missing, and trains the `mlp`, `cnn` and `resnet` presets (seeded) when no
// trained model is cached in <out>/models/. It fills ctx.mlp_model/cnn_model/resnet_model.
#pragma once
#include "experiments/reproduce/experiment.hpp"

namespace fluxion::experiments {

void prepare_mnist_models(Context& ctx);

}  // namespace fluxion::experiments
