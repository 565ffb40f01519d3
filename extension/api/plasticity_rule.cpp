#include "eiprop/plasticity_rule.h"

#include "ops/layered.h"
#include "ops/validate.h"
#include "solvers/credit.h"
#include "solvers/firing.h"

#include <torch/torch.h>

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
    const auto imbalance = target - output;
    loss = imbalance.pow(2).sum().item<double>() / (2.0 * static_cast<double>(input.size(0)));
    return imbalance;
  });
  return loss;
}

// The same three timescales as the ops (ei_equilibrium, credit_relaxation, plasticity), run on
// the engine directly so that no input credit is computed (nothing upstream needs it) and each
// Hebbian update is accumulated into its weight inside one GEMM.
void PlasticityRule::step(
    const torch::Tensor& input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance) {
  torch::NoGradGuard no_grad;
  const auto weights = module_->weights();
  const auto biases = module_->biases();
  const auto& relaxation = module_->options.relaxation();
  const auto bias_list = ops::optional_tensor_list(biases);
  const auto layered = ops::parse_layered_forward(
      kRule, input, weights, bias_list, module_->activations(), relaxation.method(),
      relaxation.max_iters(), relaxation.tol(), relaxation.dt());
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kRule, ": input has an empty batch; updates are batch averages");

  const auto rates = solvers::relax_rates(layered.circuit, input, layered.options);
  ops::check_converged(kRule, "the firing rates", layered.options, rates.stats);
  const auto layers = static_cast<int64_t>(weights.size());
  const auto imbalance = output_imbalance(rates.rates.back());
  ops::check_matrix(kRule, "the output imbalance", imbalance, input);
  ops::check_shape(kRule, "the output imbalance", imbalance, rates.rates.back().sizes(),
                   "the output rates' shape");
  const auto credits = solvers::relax_credits(layered.circuit, rates.drives, rates.rates, layers,
                                              imbalance, layered.options, /*input_credit=*/false);
  ops::check_converged(kRule, "the credits", layered.options, credits.stats);

  const double scale = lr_ / static_cast<double>(batch);
  for (int64_t l = 0; l < layers; ++l) {
    const auto& delta = credits.balance_credits[l + 1];
    weights[l].addmm_(delta.t(), rates.rates[l], /*beta=*/1, /*alpha=*/scale);
    if (biases[l].has_value()) biases[l]->add_(delta.sum(0), scale);
  }
}

}  // namespace eiprop
