#include "eiprop/nn/reference.h"

#include "kernels/activation.h"
#include "solvers/options.h"

#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace eiprop {

at::Tensor autograd_rate(const std::string& activation, const at::Tensor& drive) {
  namespace F = torch::nn::functional;
  using kernels::Activation;
  const auto parsed = kernels::parse_activation(activation);
  TORCH_CHECK(parsed.has_value(), "eiprop::autograd_rate: activation '", activation,
              "' is not an activation; expected one of ", kernels::activation_choices());
  switch (*parsed) {
    case Activation::identity: return drive;
    case Activation::tanh: return torch::tanh(drive);
    case Activation::sigmoid: return torch::sigmoid(drive);
    case Activation::relu: return torch::relu(drive);
    case Activation::leaky_relu:
      return F::leaky_relu(drive, F::LeakyReLUFuncOptions().negative_slope(kernels::kLeakyReluSlope));
    case Activation::softplus:
      return F::softplus(drive, F::SoftplusFuncOptions()
                                    .beta(kernels::kSoftplusBeta)
                                    .threshold(kernels::kSoftplusThreshold));
    case Activation::elu: return F::elu(drive, F::ELUFuncOptions().alpha(kernels::kEluAlpha));
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: unhandled activation");
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

namespace {

// One synchronous update of every population from `rates` (index 0 = input).
std::vector<at::Tensor> unrolled_step(const std::vector<at::Tensor>& rates,
                                      const std::vector<at::Tensor>& weights,
                                      const std::vector<c10::optional<at::Tensor>>& biases,
                                      const Graph& graph, double dt) {
  std::vector<at::Tensor> next{rates[0]};
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    at::Tensor drive;
    if (!biases.empty() && biases[p - 1].has_value() && biases[p - 1]->defined()) {
      drive = biases[p - 1]->unsqueeze(0);
    }
    for (int64_t k = 0; k < graph.projections(); ++k) {
      if (graph.post[k] != p) continue;
      const auto contribution = torch::mm(rates[graph.pre[k]], weights[k].t());
      drive = drive.defined() ? drive + contribution : contribution;
    }
    const auto target = autograd_rate(graph.activations[p - 1], drive);
    next.push_back(dt == 1.0 ? target : rates[p] + dt * (target - rates[p]));
  }
  return next;
}

std::vector<at::Tensor> resting_state(const at::Tensor& input,
                                      const std::vector<at::Tensor>& weights, const Graph& graph) {
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == graph.projections() &&
                  static_cast<int64_t>(graph.post.size()) == graph.projections(),
              "eiprop::autograd_unrolled: weights, graph.pre and graph.post need one entry per "
              "projection");
  std::vector<at::Tensor> rates{input};
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    int64_t width = -1;
    for (int64_t k = 0; k < graph.projections(); ++k) {
      if (graph.post[k] == p) width = weights[k].size(0);
    }
    TORCH_CHECK(width >= 0, "eiprop::autograd_unrolled: population ", p,
                " receives no projection");
    rates.push_back(torch::zeros({input.size(0), width}, input.options()));
  }
  return rates;
}

}  // namespace

std::vector<at::Tensor> autograd_unrolled(const at::Tensor& input,
                                          const std::vector<at::Tensor>& weights,
                                          const std::vector<c10::optional<at::Tensor>>& biases,
                                          const Graph& graph, int64_t iterations, double dt) {
  auto rates = resting_state(input, weights, graph);
  for (int64_t i = 0; i < iterations; ++i) rates = unrolled_step(rates, weights, biases, graph, dt);
  return std::vector<at::Tensor>(rates.begin() + 1, rates.end());
}

UnrolledEquilibrium autograd_equilibrium(const at::Tensor& input,
                                         const std::vector<at::Tensor>& weights,
                                         const std::vector<c10::optional<at::Tensor>>& biases,
                                         const Graph& graph, const RelaxationOptions& options) {
  const double dt = options.method() == "euler" ? options.dt() : 1.0;
  solvers::SolverOptions limits;
  limits.max_iters = options.max_iters();
  limits.tol = options.tol();
  limits = solvers::resolve_defaults(limits, input.scalar_type());  // the operators' defaults
  const int64_t max_iters = limits.max_iters;
  const double tol = limits.tol;
  auto rates = resting_state(input, weights, graph);
  UnrolledEquilibrium result;
  for (int64_t iteration = 1; iteration <= max_iters; ++iteration) {
    auto next = unrolled_step(rates, weights, biases, graph, dt);
    double residual = 0.0;
    {
      torch::NoGradGuard no_grad;
      for (int64_t p = 1; p <= graph.populations(); ++p) {
        const double gap = (next[p] - rates[p]).abs().max().item<double>();
        const double scale =
            std::max(next[p].abs().max().item<double>(), rates[p].abs().max().item<double>());
        if (gap > 0) residual = std::max(residual, gap / scale);
      }
    }
    rates = std::move(next);
    result.iterations = iteration;
    result.residual = residual;
    if (residual <= tol) {
      result.rates.assign(rates.begin() + 1, rates.end());
      return result;
    }
  }
  TORCH_CHECK(false, "eiprop::autograd_equilibrium: the unrolled iteration did not converge in ",
              max_iters, " iterations (residual ", result.residual, " > tol=", tol, ")");
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
