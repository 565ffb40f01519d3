// eiprop::convert: an existing torch::nn::Sequential of Linear and activation modules as a
// BalancedMLP that shares its parameters and learns by the rule.
#pragma once

#include "eiprop/nn/balanced_mlp.h"
#include "eiprop/nn/sequential_circuit.h"

#include <torch/nn/modules/container/sequential.h>

#include <string>
#include <vector>

namespace eiprop {

// Supported: Linear, Tanh, Sigmoid, ReLU, LeakyReLU(0.01), Softplus(beta 1, threshold 20),
// ELU(alpha 1), Identity; each Linear followed by at most one activation (none: identity).
// Anything else is refused with an error naming the layer.
BalancedMLP convert(const torch::nn::Sequential& sequential,
                    const RelaxationOptions& relaxation = {});

// Any Sequential of Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten and the supported activations as
// one SequentialCircuit holding its modules (and so sharing their parameters). Anything else is
// refused with an error naming the layer.
SequentialCircuit convert_circuit(const torch::nn::Sequential& sequential,
                                  const RelaxationOptions& relaxation = {});

// What convert_parts made: a new Sequential holding the same modules except that every maximal
// run of supported layers is one circuit sharing their parameters (a BalancedMLP for a run of
// Linear layers, a SequentialCircuit for one with convolutions, pooling or Flatten).
struct ConvertedParts {
  torch::nn::Sequential model;
  std::vector<std::string> circuits;  // "2-4 (torch::nn::Linear, ...) -> circuit 2"
  std::vector<std::string> autograd;  // "5 (torch::nn::BatchNorm1d)": modules left as they are
  std::string report() const;
};

// Converts what it can of a Sequential the rule covers only in part: every maximal run of
// projection layers (Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten; where two Linear layers meet,
// widths chaining and biases both present or both absent) each followed by at most one supported
// activation, holding a Linear or Conv2d, becomes one circuit; any other module (BatchNorm,
// Dropout, a residual
// block) is kept as it is and trained by autograd, to which the circuits hand the input credit,
// so the gradients stay exact. The original Sequential is not changed; the result shares its
// modules and parameters. (A C++ module calls its children through its own members, so the
// insides of a kept module, a Sequential subclass held in this one included, are not converted.)
ConvertedParts convert_parts(const torch::nn::Sequential& sequential,
                             const RelaxationOptions& relaxation = {});

}  // namespace eiprop
