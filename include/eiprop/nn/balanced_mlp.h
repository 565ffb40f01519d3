// BalancedMLP: a layered circuit as a torch::nn::Module, trained by the rule (credit relaxation
// in the backward) or by autograd, switchable on the same weights for A/B tests.
#pragma once

#include "eiprop/nn/options/balanced_mlp.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace eiprop {

class BalancedMLPImpl : public torch::nn::Cloneable<BalancedMLPImpl> {
 public:
  explicit BalancedMLPImpl(BalancedMLPOptions options);

  void reset() override;
  // Redraws every layer's parameters as torch::nn::Linear does (its reset_parameters()).
  void reset_parameters();
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
