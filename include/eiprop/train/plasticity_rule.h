// PlasticityRule: learning without autograd and without an optimizer. Each step relaxes the
// rates, relaxes the credits from the output imbalance, and applies the Hebbian updates to the
// module's weights in place (docs/theory.md §4) — one SGD step on the same loss, exactly.
#pragma once

#include "eiprop/nn/balanced_mlp.h"

#include <functional>
#include <vector>

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

  // The updates of one step on this batch, not applied: writes lr/B * delta_l^T pre_l into
  // weight_updates[l] and lr/B * sum_batch delta_l into bias_updates[l] (tensors shaped like
  // layer l's parameters; bias_updates[l] is ignored where layer l has no bias). Data-parallel
  // training writes them straight into its all-reduce buckets.
  void compute_updates(
      const torch::Tensor& input,
      const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
      const std::vector<torch::Tensor>& weight_updates,
      const std::vector<torch::Tensor>& bias_updates);

  double lr() const { return lr_; }
  const BalancedMLP& module() const { return module_; }

 private:
  // Relaxes rates and credits, then writes the updates into the targets: added to them
  // (accumulate, the targets being the parameters) or replacing their values.
  void learn(const torch::Tensor& input,
             const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
             const std::vector<torch::Tensor>& weight_targets,
             const std::vector<c10::optional<torch::Tensor>>& bias_targets, bool accumulate);

  BalancedMLP module_;
  double lr_;
};

}  // namespace eiprop
