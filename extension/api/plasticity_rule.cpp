#include "eiprop/plasticity_rule.h"

#include <torch/torch.h>

#include <cmath>

namespace eiprop {

PlasticityRule::PlasticityRule(BalancedMLP module, double lr) : module_(std::move(module)), lr_(lr) {
  TORCH_CHECK(std::isfinite(lr), "eiprop::PlasticityRule: lr must be finite, got ", lr);
}

double PlasticityRule::step(const torch::Tensor& input, const torch::Tensor& target) {
  double loss = 0.0;
  step(input, [&](const torch::Tensor& output) {
    const auto imbalance = target - output;
    loss = imbalance.pow(2).sum().item<double>() / (2.0 * static_cast<double>(input.size(0)));
    return imbalance;
  });
  return loss;
}

void PlasticityRule::step(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance) {
  torch::NoGradGuard no_grad;
  const auto weights = module_->weights();
  const auto biases = module_->biases();
  const auto activations = module_->activations();
  const auto& relaxation = module_->options.relaxation();
  const auto equilibrium = ei_equilibrium(input, weights, biases, activations, relaxation);
  const auto credits = credit_relaxation(output_imbalance(equilibrium.rates.back()),
                                         equilibrium.drives, weights, activations, relaxation);
  const auto updates = plasticity(input, equilibrium.rates, equilibrium.drives, credits.credits,
                                  activations, lr_);
  for (size_t l = 0; l < weights.size(); ++l) {
    weights[l].add_(updates.weight_updates[l]);
    if (biases[l].has_value()) biases[l]->add_(updates.bias_updates[l]);
  }
}

}  // namespace eiprop
