// The smallest user of an installed eiprop: one learning step of the rule on a tiny circuit,
// checked against autograd.
#include <eiprop/eiprop.h>
#include <torch/torch.h>

#include <iostream>

int main() {
  torch::manual_seed(0);
  const auto x = torch::randn({4, 3}, torch::kFloat64);
  const auto y = torch::randn({4, 2}, torch::kFloat64);
  const std::vector<torch::Tensor> weights{torch::randn({5, 3}, torch::kFloat64),
                                           torch::randn({2, 5}, torch::kFloat64)};
  const std::vector<c10::optional<torch::Tensor>> biases{c10::nullopt, c10::nullopt};
  const std::vector<std::string> activations{"tanh", "identity"};
  const auto equilibrium = eiprop::ei_equilibrium(x, weights, biases, activations);
  const auto credits = eiprop::credit_relaxation(y - equilibrium.rates.back(), equilibrium.drives,
                                                 weights, activations);
  const auto updates = eiprop::plasticity(x, equilibrium.rates, equilibrium.drives,
                                          credits.credits, activations, 1.0);
  const auto reference = eiprop::autograd_gradients(x, weights, biases, activations, y);
  const double error = eiprop::relative_error(updates.weight_updates[0], -reference.weight_grads[0]);
  std::cout << "eiprop consumer: relative error of the first layer's update " << error << "\n";
  return error <= 1e-10 ? 0 : 1;
}
