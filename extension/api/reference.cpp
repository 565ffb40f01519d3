#include "eiprop/reference.h"

#include <torch/torch.h>

#include <limits>
#include <stdexcept>

namespace eiprop {

at::Tensor autograd_rate(const std::string& activation, const at::Tensor& drive) {
  namespace F = torch::nn::functional;
  if (activation == "identity") return drive;
  if (activation == "tanh") return torch::tanh(drive);
  if (activation == "sigmoid") return torch::sigmoid(drive);
  if (activation == "relu") return torch::relu(drive);
  if (activation == "leaky_relu") {
    return F::leaky_relu(drive, F::LeakyReLUFuncOptions().negative_slope(0.01));
  }
  if (activation == "softplus") {
    return F::softplus(drive, F::SoftplusFuncOptions().beta(1).threshold(20));
  }
  if (activation == "elu") return F::elu(drive, F::ELUFuncOptions().alpha(1.0));
  TORCH_CHECK(false, "eiprop::autograd_rate: activation '", activation, "' is not an activation");
}

at::Tensor autograd_forward(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                            const std::vector<c10::optional<at::Tensor>>& biases,
                            const std::vector<std::string>& activations) {
  TORCH_CHECK(weights.size() == biases.size() && weights.size() == activations.size(),
              "eiprop::autograd_forward: weights, biases and activations need one entry per "
              "layer");
  at::Tensor rate = input;
  for (size_t l = 0; l < weights.size(); ++l) {
    // The same GEMM calls as the rule's drive, so relu gates at u = 0 agree.
    const auto drive = biases[l].has_value() && biases[l]->defined()
                           ? torch::addmm(*biases[l], rate, weights[l].t())
                           : torch::mm(rate, weights[l].t());
    rate = autograd_rate(activations[l], drive);
  }
  return rate;
}

AutogradGradients autograd_gradients(const at::Tensor& input,
                                     const std::vector<at::Tensor>& weights,
                                     const std::vector<c10::optional<at::Tensor>>& biases,
                                     const std::vector<std::string>& activations,
                                     const at::Tensor& target) {
  TORCH_CHECK(weights.size() == biases.size() && weights.size() == activations.size(),
              "eiprop::autograd_gradients: weights, biases and activations need one entry per "
              "layer");
  torch::AutoGradMode enable_grad(true);
  std::vector<at::Tensor> leaves{input.detach().requires_grad_(true)};
  std::vector<at::Tensor> weight_leaves, bias_leaves;
  for (size_t l = 0; l < weights.size(); ++l) {
    weight_leaves.push_back(weights[l].detach().requires_grad_(true));
    leaves.push_back(weight_leaves.back());
    bias_leaves.emplace_back();
    if (biases[l].has_value()) {
      bias_leaves.back() = biases[l]->detach().requires_grad_(true);
      leaves.push_back(bias_leaves.back());
    }
  }
  AutogradGradients result;
  at::Tensor rate = leaves.front();
  for (size_t l = 0; l < weights.size(); ++l) {
    rate = autograd_forward(rate, {weight_leaves[l]}, {bias_leaves[l]}, {activations[l]});
    result.rates.push_back(rate.detach());
  }
  const double batch = static_cast<double>(input.size(0));
  const auto loss = (target - rate).pow(2).sum() / (2.0 * batch);
  result.loss = loss.detach();
  const auto grads = torch::autograd::grad({loss}, leaves, {}, false, false, true);
  size_t next = 0;
  result.input_grad = grads[next++];
  for (size_t l = 0; l < weights.size(); ++l) {
    result.weight_grads.push_back(grads[next++]);
    result.bias_grads.push_back(bias_leaves[l].defined() ? grads[next++] : at::Tensor());
  }
  return result;
}

double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  TORCH_CHECK(actual.sizes() == expected.sizes(), "eiprop::relative_error: shapes ",
              actual.sizes(), " and ", expected.sizes(), " differ");
  if (expected.numel() == 0) return 0.0;
  const double gap = (actual.to(expected.scalar_type()) - expected).abs().max().item<double>();
  if (gap == 0.0) return 0.0;
  const double scale = expected.abs().max().item<double>();
  return scale > 0 ? gap / scale : std::numeric_limits<double>::infinity();
}

double cosine_similarity(const at::Tensor& actual, const at::Tensor& expected) {
  const auto a = actual.to(at::kDouble).flatten();
  const auto b = expected.to(at::kDouble).flatten();
  const double norms = a.norm().item<double>() * b.norm().item<double>();
  if (norms == 0.0) return a.equal(b) ? 1.0 : 0.0;
  return a.dot(b).item<double>() / norms;
}

}  // namespace eiprop
