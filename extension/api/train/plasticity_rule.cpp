#include "eiprop/train/plasticity_rule.h"

#include "api/ops/strict.h"
#include "ops/layered.h"
#include "ops/learning_step.h"
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
  double loss = 0.0;
  step(input, [&](const torch::Tensor& output) {
    // Checked before the loss reads it (a complex target would fail inside .item()).
    ops::check_matrix(kRule, "target", target, output);
    ops::check_shape(kRule, "target", target, output.sizes(), "the output rates' shape");
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

// The same three timescales as the ops (ei_equilibrium, credit_relaxation, plasticity), through
// the same learning-step code, without the input credit (nothing upstream needs it) and with
// each Hebbian update written into its target inside one GEMM.
void PlasticityRule::learn(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
    const std::vector<torch::Tensor>& weight_targets,
    const std::vector<c10::optional<torch::Tensor>>& bias_targets, bool accumulate) {
  const auto weights = module_->weights();
  const auto biases = module_->biases();
  const auto& relaxation = module_->options.relaxation();
  api::require_strict(kRule, relaxation);
  const auto graph = ops::parse_layered(kRule, input, weights, ops::optional_tensor_list(biases),
                                       module_->activations());
  const auto options = ops::parse_graph_solver_options(
      kRule, graph, ops::Relaxed::rates, relaxation.method(), relaxation.max_iters(),
      relaxation.tol(), relaxation.dt(), input.scalar_type());
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kRule, ": input has an empty batch; updates are batch averages");

  const auto rates = ops::equilibrium(kRule, graph.circuit, input, options);
  const auto layers = graph.circuit.populations();
  const auto imbalance = output_imbalance(rates.rates.back());
  ops::check_matrix(kRule, "the output imbalance", imbalance, input);
  ops::check_shape(kRule, "the output imbalance", imbalance, rates.rates.back().sizes(),
                   "the output rates' shape");
  const auto credits = ops::credit(kRule, "the credits", graph.circuit, rates.drives, rates.rates,
                                   layers, imbalance, options, /*strict=*/true,
                                   /*input_credit=*/false);

  const double scale = lr_ / static_cast<double>(batch);
  ops::check_update_scale(kRule, scale, input.scalar_type());
  ops::write_plasticity(graph.circuit, credits.balance_credits, rates.rates, scale, weight_targets,
                        bias_targets, accumulate);
}

}  // namespace eiprop
