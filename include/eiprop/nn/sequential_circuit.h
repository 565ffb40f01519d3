// SequentialCircuit: a chain of LibTorch layers run as one layered circuit (eiprop::circuit with
// projections): each projection layer (Linear, Conv2d, AvgPool2d, MaxPool2d, Flatten) feeds a
// population of its own, whose activation is the supported activation layer right after it
// (identity when there is none; Identity layers pass). A max-pooling population is a
// winner-take-all one; pooling and flatten projections have no synapses to learn. Trained by the
// rule (credit relaxation in the backward) or by autograd through the same layers, switchable
// on the same parameters for A/B tests.
#pragma once

#include "eiprop/nn/options/learning.h"
#include "eiprop/ops/relaxation.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace eiprop {

class SequentialCircuitImpl : public torch::nn::Module {
 public:
  // Holds `layers` (the same modules: training either trains both). Anything that is not a
  // projection layer or a supported activation, an activation before the first projection or
  // after another activation, and a chain without a Linear or Conv2d are refused naming the
  // layer. The input is [B, C, H, W] before a convolution or pooling, [B, N] before a Linear.
  explicit SequentialCircuitImpl(torch::nn::Sequential layers, RelaxationOptions relaxation = {},
                                 Learning learning = Learning::credit);

  // The last population's rates.
  torch::Tensor forward(const torch::Tensor& input);

  void set_learning(Learning learning) { learning_ = learning; }
  Learning learning() const { return learning_; }
  const torch::nn::Sequential& layers() const { return layers_; }
  // Per projection: the weight (a placeholder, numel 0, for a fixed projection), the bias, the
  // postsynaptic activation and the operators' projection entry.
  std::vector<torch::Tensor> weights() const;
  std::vector<c10::optional<torch::Tensor>> biases() const;
  const std::vector<std::string>& activations() const { return activations_; }
  const std::vector<std::string>& projections() const { return projections_; }
  void pretty_print(std::ostream& stream) const override;

 private:
  torch::nn::Sequential layers_;
  RelaxationOptions relaxation_;
  Learning learning_;
  std::vector<std::string> projections_;
  std::vector<std::string> activations_;
  std::vector<size_t> projection_layers_;  // which layer is projection k
  torch::Tensor placeholder_;
};
TORCH_MODULE(SequentialCircuit);

}  // namespace eiprop
