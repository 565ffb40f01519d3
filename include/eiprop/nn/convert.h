// eiprop::convert: an existing torch::nn::Sequential of Linear and activation modules as a
// BalancedMLP that shares its parameters and learns by the rule.
#pragma once

#include "eiprop/nn/balanced_mlp.h"

#include <torch/nn/modules/container/sequential.h>

namespace eiprop {

// Supported: Linear, Tanh, Sigmoid, ReLU, LeakyReLU(0.01), Softplus(beta 1, threshold 20),
// ELU(alpha 1), Identity; each Linear followed by at most one activation (none: identity).
// Anything else is refused with an error naming the layer.
BalancedMLP convert(const torch::nn::Sequential& sequential,
                    const RelaxationOptions& relaxation = {});

}  // namespace eiprop
