#include "eiprop/train/plasticity_rule.h"

#include "api/ops/strict.h"
#include "ops/circuit_call.h"
#include "ops/timescales.h"
#include "ops/validate.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>

namespace eiprop {
namespace {
constexpr const char* kRule = "eiprop::PlasticityRule";
}

PlasticityRule::PlasticityRule(BalancedMLP module, double lr) : module_(std::move(module)), lr_(lr) {
  TORCH_CHECK(std::isfinite(lr), kRule, ": lr must be finite, got ", lr);
}

double PlasticityRule::step(const torch::Tensor& input, const torch::Tensor& target) {
  torch::Tensor imbalance;
  step(input, [&](const torch::Tensor& output) {
    ops::check_matrix(kRule, "target", target, output);
    ops::check_shape(kRule, "target", target, output.sizes(), "the output rates' shape");
    imbalance = target - output;
    return imbalance;
  });
  // After the step, so that its checks and this read share no extra synchronisation.
  return imbalance.pow(2).sum().item<double>() / (2.0 * static_cast<double>(input.size(0)));
}

void PlasticityRule::step(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance) {
  torch::NoGradGuard no_grad;
  learn(input, output_imbalance, module_->weights(), module_->biases(), /*accumulate=*/true);
}

void PlasticityRule::compute_updates(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
    const std::vector<torch::Tensor>& weight_updates,
    const std::vector<torch::Tensor>& bias_updates) {
  torch::NoGradGuard no_grad;
  const auto weights = module_->weights();
  const auto biases = module_->biases();
  const auto layers = weights.size();
  TORCH_CHECK(weight_updates.size() == layers && bias_updates.size() == layers, kRule,
              "::compute_updates: got ", weight_updates.size(), " weight_updates and ",
              bias_updates.size(), " bias_updates for a circuit of ", layers, " layers");
  std::vector<c10::optional<torch::Tensor>> bias_targets(layers);
  for (size_t l = 0; l < layers; ++l) {
    TORCH_CHECK(weight_updates[l].sizes() == weights[l].sizes(), kRule,
                "::compute_updates: weight_updates[", l, "] (layer ", l, ") has shape ",
                weight_updates[l].sizes(), "; expected the weight's ", weights[l].sizes());
    if (!biases[l].has_value()) continue;
    TORCH_CHECK(bias_updates[l].defined() && bias_updates[l].sizes() == biases[l]->sizes(), kRule,
                "::compute_updates: bias_updates[", l, "] (layer ", l, ") must have the bias's shape ",
                biases[l]->sizes());
    bias_targets[l] = bias_updates[l];
  }
  learn(input, output_imbalance, weight_updates, bias_targets, /*accumulate=*/false);
}

// The learning-step operator's body (ops/timescales.h: learn), on the module's circuit.
void PlasticityRule::learn(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
    const std::vector<torch::Tensor>& weight_targets,
    const std::vector<c10::optional<torch::Tensor>>& bias_targets, bool accumulate) {
  const auto weights = module_->weights();
  const auto& relaxation = module_->options.relaxation();
  api::require_strict(kRule, relaxation);
  const auto call = ops::parse_circuit(
      kRule, input, weights, ops::optional_tensor_list(module_->biases()), module_->activations(),
      relaxation.method(), relaxation.max_iters(), relaxation.tol(), relaxation.dt(),
      /*projections=*/{});
  ops::learn(kRule, call.graph.circuit, input, call.output, output_imbalance, call.options, lr_,
             weight_targets, bias_targets, accumulate);
}

}  // namespace eiprop
