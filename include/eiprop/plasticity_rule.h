// PlasticityRule: learning without autograd and without an optimizer. Each step relaxes the
// rates, relaxes the credits from the output imbalance, and applies the Hebbian updates to the
// module's weights in place (THEORY §4) — one SGD step on the same loss, exactly.
#pragma once

#include "eiprop/balanced_mlp.h"

#include <functional>

namespace eiprop {

class PlasticityRule {
 public:
  PlasticityRule(BalancedMLP module, double lr);

  // One step on the squared error Loss = 1/(2B) sum ||target - r_L||^2 (output imbalance
  // e = target - r_L). Returns the loss before the step.
  double step(const torch::Tensor& input, const torch::Tensor& target);

  // One step for any loss: output_imbalance(r_L) must return e = -B dLoss/dr_L (for the mean
  // cross-entropy of logits r_L: one_hot(labels) - softmax(r_L)).
  void step(const torch::Tensor& input,
            const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance);

  double lr() const { return lr_; }

 private:
  BalancedMLP module_;
  double lr_;
};

}  // namespace eiprop
