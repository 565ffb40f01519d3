// BalancedMLP: a layered circuit as a torch::nn::Module, trained by the rule (credit relaxation
// in the backward) or by autograd, switchable on the same weights for A/B tests.
#pragma once

#include "eiprop/ops.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace eiprop {

// How a module's backward computes its gradients.
enum class Learning {
  credit,    // eiprop::circuit: E-I equilibrium forward, credit relaxation backward
  autograd,  // LibTorch autograd through the same network
};
const char* learning_name(Learning learning);
// "credit" or "autograd"; anything else raises, listing both.
Learning parse_learning(const std::string& name);

struct BalancedMLPOptions {
  /* implicit */ BalancedMLPOptions(std::vector<int64_t> widths) : widths_(std::move(widths)) {}
  // The activation of each layer, as the ops take them.
  std::vector<std::string> layer_activations() const;

  // Population widths N_0 (input), N_1, ..., N_L (output).
  TORCH_ARG(std::vector<int64_t>, widths);
  // Activation of every hidden population, and of the output population.
  TORCH_ARG(std::string, activation) = "tanh";
  TORCH_ARG(std::string, output_activation) = "identity";
  // One activation per layer; when not empty it replaces activation/output_activation.
  TORCH_ARG(std::vector<std::string>, activations) = {};
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Learning, learning) = Learning::credit;
  TORCH_ARG(RelaxationOptions, relaxation) = RelaxationOptions("sweep");
};

class BalancedMLPImpl : public torch::nn::Cloneable<BalancedMLPImpl> {
 public:
  explicit BalancedMLPImpl(BalancedMLPOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // The output population's rates, [B, N_L].
  torch::Tensor forward(const torch::Tensor& input);

  void set_learning(Learning learning) { options.learning(learning); }
  Learning learning() const { return options.learning(); }

  int64_t layers() const { return static_cast<int64_t>(linear_.size()); }
  torch::nn::Linear& layer(int64_t l) { return linear_.at(l); }
  std::vector<torch::Tensor> weights() const;
  std::vector<c10::optional<torch::Tensor>> biases() const;
  std::vector<std::string> activations() const { return options.layer_activations(); }

  // Makes layer l the given Linear module (sharing its parameters); used by eiprop::convert.
  void share_layer(int64_t l, torch::nn::Linear linear);

  BalancedMLPOptions options;

 private:
  std::vector<torch::nn::Linear> linear_;
};

TORCH_MODULE(BalancedMLP);

}  // namespace eiprop
