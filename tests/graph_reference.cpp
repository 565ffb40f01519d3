#include "graph_reference.h"
#include <torch/autograd.h>

namespace eiprop {
namespace testing {
namespace {

// F(r): one synchronous update of every population from the state (index p-1) with LibTorch
// functions, autograd-tracked.
std::vector<at::Tensor> firing_map(const GraphCircuit& circuit, const at::Tensor& input,
                                   const std::vector<at::Tensor>& state,
                                   const std::vector<at::Tensor>& weights,
                                   const std::vector<at::Tensor>& biases) {
  const auto& graph = circuit.graph;
  std::vector<at::Tensor> next;
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    at::Tensor drive = biases[p - 1].defined()
                           ? biases[p - 1].unsqueeze(0).expand({input.size(0), circuit.widths[p]})
                           : torch::zeros({input.size(0), circuit.widths[p]}, input.options());
    for (int64_t k = 0; k < graph.projections(); ++k) {
      if (graph.post[k] != p) continue;
      const auto& pre = graph.pre[k] == 0 ? input : state[graph.pre[k] - 1];
      drive = drive + torch::mm(pre, weights[k].t());
    }
    next.push_back(autograd_rate(graph.activations[p - 1], drive));
  }
  return next;
}

std::vector<at::Tensor> bias_tensors(const GraphCircuit& circuit) {
  std::vector<at::Tensor> biases;
  for (const auto& bias : circuit.biases) biases.push_back(bias.has_value() ? *bias : at::Tensor());
  if (biases.empty()) biases.resize(circuit.graph.populations());
  return biases;
}

std::vector<at::Tensor> fixed_point(const GraphCircuit& circuit, int64_t iterations) {
  torch::NoGradGuard no_grad;
  return autograd_unrolled(circuit.input, circuit.weights, circuit.biases, circuit.graph,
                           iterations);
}

// J[b] = dF(r)_b / dr_b, [B, N, N] with N = sum of the populations' widths.
at::Tensor jacobian(const GraphCircuit& circuit, const std::vector<at::Tensor>& rates) {
  torch::AutoGradMode enable_grad(true);
  std::vector<at::Tensor> state;
  for (const auto& r : rates) state.push_back(r.detach().requires_grad_(true));
  const auto next = torch::cat(
      firing_map(circuit, circuit.input, state, circuit.weights, bias_tensors(circuit)), 1);
  const int64_t width = next.size(1);
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < width; ++i) {
    auto grads = torch::autograd::grad({next.select(1, i).sum()}, state, {}, true, false,
                                       /*allow_unused=*/true);
    for (size_t p = 0; p < grads.size(); ++p) {
      if (!grads[p].defined()) grads[p] = torch::zeros_like(state[p]);  // a population no one reads
    }
    rows.push_back(torch::cat(grads, 1));  // [B, N]: dF_i / dr
  }
  return torch::stack(rows, 1);  // [B, N(i), N(j)]
}

}  // namespace

GraphCircuit make_graph_circuit(Graph graph, std::vector<int64_t> widths, int64_t batch,
                                at::ScalarType dtype, uint64_t seed, double recurrent_gain,
                                bool with_bias) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto options = at::TensorOptions().dtype(at::kDouble);
  auto normal = [&](at::IntArrayRef shape, double std) {
    return at::normal(0.0, std, shape, generator, options).to(dtype);
  };
  GraphCircuit circuit;
  circuit.input = normal({batch, widths[0]}, 1.0);
  circuit.target = normal({batch, widths[graph.output]}, 1.0);
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const int64_t pre = graph.pre[k], post = graph.post[k];
    const double gain = post <= pre ? recurrent_gain : 1.0;
    circuit.weights.push_back(
        normal({widths[post], widths[pre]}, gain / std::sqrt(static_cast<double>(widths[pre]))));
  }
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    circuit.biases.push_back(with_bias ? c10::optional<at::Tensor>(normal({widths[p]}, 0.1))
                                       : c10::nullopt);
  }
  circuit.graph = std::move(graph);
  circuit.widths = std::move(widths);
  return circuit;
}

ImplicitGradients implicit_gradients(const GraphCircuit& circuit, int64_t iterations) {
  const auto& graph = circuit.graph;
  ImplicitGradients result;
  result.rates = fixed_point(circuit, iterations);
  const int64_t batch = circuit.input.size(0);

  // dLoss/dr at the fixed point: only the output population, (r_o - y) / B.
  std::vector<at::Tensor> loss_grad;
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    loss_grad.push_back(p == graph.output
                            ? (result.rates[p - 1] - circuit.target) / static_cast<double>(batch)
                            : torch::zeros_like(result.rates[p - 1]));
  }
  const auto J = jacobian(circuit, result.rates);
  const auto identity = torch::eye(J.size(1), J.options()).expand_as(J);
  // (I - J)^T lambda = dLoss/dr, per sample.
  const auto lambda = torch::linalg_solve((identity - J).transpose(1, 2),
                                          torch::cat(loss_grad, 1).unsqueeze(2))
                          .squeeze(2);

  // lambda^T dF/dtheta at the fixed point, by autograd.
  torch::AutoGradMode enable_grad(true);
  const auto input = circuit.input.detach().requires_grad_(true);
  std::vector<at::Tensor> weights, leaves{input};
  for (const auto& w : circuit.weights) {
    weights.push_back(w.detach().requires_grad_(true));
    leaves.push_back(weights.back());
  }
  auto biases = bias_tensors(circuit);
  for (auto& b : biases) {
    if (!b.defined()) continue;
    b = b.detach().requires_grad_(true);
    leaves.push_back(b);
  }
  const auto next = torch::cat(firing_map(circuit, input, result.rates, weights, biases), 1);
  const auto grads = torch::autograd::grad({(next * lambda).sum()}, leaves, {}, false, false, true);
  size_t slot = 0;
  result.input_grad = grads[slot++];
  for (size_t k = 0; k < weights.size(); ++k) result.weight_grads.push_back(grads[slot++]);
  for (const auto& b : biases) result.bias_grads.push_back(b.defined() ? grads[slot++] : at::Tensor());
  return result;
}

double jacobian_spectral_radius(const GraphCircuit& circuit,
                                const std::vector<at::Tensor>& rates) {
  const auto eigenvalues = torch::linalg_eigvals(jacobian(circuit, rates));
  return eigenvalues.abs().max().item<double>();
}

}  // namespace testing
}  // namespace eiprop
