// The same equivalence with autograd on CUDA tensors, float64 and float32, every activation and
// method. Skips where LibTorch sees no CUDA device.
#include "graph_reference.h"
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>

namespace eiprop {
namespace testing {
namespace {

TEST(Cuda, UpdatesEqualAutogradGradientsOnCudaTensors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  const double lr = 0.05;
  for (auto dtype : {at::kDouble, at::kFloat}) {
    for (const auto& method : kMethods) {
      for (const auto& activation : kActivations) {
        const std::vector<int64_t> widths = {96, 512, 64, 10};
        const auto circuit = make_circuit(widths, 64, {activation, activation, "identity"}, true,
                                          dtype, 17, cuda);
        RelaxationOptions options(method);
        if (method == "euler") options.dt(0.5).tol(dtype == at::kDouble ? 1e-14 : 1e-6);
        const double tol = dtype == at::kFloat ? 1e-4 : method == "euler" ? 1e-8 : 1e-10;
        const auto expected = autograd_gradients(circuit);
        const auto equilibrium = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                                circuit.activations, options);
        ASSERT_TRUE(equilibrium.rates.back().is_cuda());
        const auto credits = credit_relaxation(circuit.target - equilibrium.rates.back(),
                                               equilibrium.drives, circuit.weights,
                                               circuit.activations, options);
        const auto updates = plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                        credits.credits, circuit.activations, lr);
        for (size_t l = 0; l < widths.size() - 1; ++l) {
          EXPECT_LE(relative_error(updates.weight_updates[l], -lr * expected.weight_grads[l]), tol)
              << activation << " " << method << " " << dtype << " layer " << l;
          EXPECT_LE(relative_error(updates.bias_updates[l], -lr * expected.bias_grads[l]), tol)
              << activation << " " << method << " " << dtype << " layer " << l;
        }
        EXPECT_LE(relative_error(credits.input_credit, -64.0 * expected.input_grad), tol)
            << activation << " " << method << " " << dtype;
      }
    }
  }
}

TEST(Cuda, CircuitBackwardAndBalancedMLPOnCudaTensors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (auto dtype : {at::kDouble, at::kFloat}) {
    torch::manual_seed(4);
    BalancedMLP mlp(BalancedMLPOptions({32, 64, 48, 10}).activation("relu"));
    mlp->to(torch::Device(at::kCUDA, 0), dtype);
    const auto x = torch::randn({16, 32}, at::dtype(dtype).device(at::kCUDA));
    const auto labels = torch::randint(0, 10, {16}, at::dtype(at::kLong).device(at::kCUDA));
    std::vector<at::Tensor> grads[2];
    for (auto learning : {Learning::credit, Learning::autograd}) {
      mlp->set_learning(learning);
      grads[learning == Learning::credit ? 0 : 1] = torch::autograd::grad(
          {torch::nn::functional::cross_entropy(mlp->forward(x), labels)}, mlp->parameters());
    }
    const double tol = dtype == at::kDouble ? 1e-10 : 1e-4;
    for (size_t i = 0; i < grads[0].size(); ++i) {
      EXPECT_TRUE(grads[0][i].is_cuda());
      EXPECT_LE(relative_error(grads[0][i], grads[1][i]), tol) << dtype << " parameter " << i;
    }
  }
}

TEST(Cuda, EICurrentsOnCudaTensors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto rates = at::randn({8, 33}, at::dtype(at::kDouble).device(at::kCUDA));
  const auto weight = at::randn({12, 33}, at::dtype(at::kDouble).device(at::kCUDA));
  const auto currents = ei_currents(rates, weight);
  const auto contributions = rates.unsqueeze(1) * weight.unsqueeze(0);
  EXPECT_LE(relative_error(currents.excitatory, contributions.clamp_min(0).sum(2)), 1e-12);
  EXPECT_LE(relative_error(currents.inhibitory, (-contributions).clamp_min(0).sum(2)), 1e-12);
}

// A recurrent circuit on CUDA: the graph operators and graph_circuit's backward give the CPU's
// numbers (float64, every iterative method), which tests/test_graph.cpp checks against a dense
// implicit-gradient solve.
TEST(Cuda, RecurrentGraphOperatorsMatchTheCpuOnCudaTensors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::Device cuda(at::kCUDA, 0);
  const Graph graph{{0, 1, 1, 2, 2}, {1, 1, 2, 1, 2}, {"tanh", "sigmoid"}, 2};
  const auto cpu = make_graph_circuit(graph, {32, 128, 10}, 16, at::kDouble, 9, 0.4);
  auto gpu = cpu;
  gpu.input = cpu.input.to(cuda);
  gpu.target = cpu.target.to(cuda);
  for (auto& w : gpu.weights) w = w.to(cuda);
  for (auto& b : gpu.biases) *b = b->to(cuda);
  for (const std::string method : {"jacobi", "euler", "anderson"}) {
    auto options = RelaxationOptions(method).tol(1e-13).max_iters(20000);
    if (method == "euler") options.dt(0.5);
    std::vector<Updates> updates;
    for (const GraphCircuit* circuit : {&cpu, static_cast<const GraphCircuit*>(&gpu)}) {
      const auto equilibrium = graph_equilibrium(circuit->input, circuit->weights,
                                                 circuit->biases, graph, options);
      const auto credits = graph_credit_relaxation(circuit->target - equilibrium.rates.back(),
                                                   equilibrium.drives, circuit->weights, graph,
                                                   options);
      updates.push_back(graph_plasticity(circuit->input, equilibrium.rates, equilibrium.drives,
                                         credits.credits, graph, 0.1));
    }
    ASSERT_TRUE(updates[1].weight_updates[0].is_cuda());
    for (size_t k = 0; k < graph.pre.size(); ++k) {
      EXPECT_LE(relative_error(updates[1].weight_updates[k].cpu(), updates[0].weight_updates[k]),
                1e-9)
          << method << " projection " << k;
    }
  }
  std::vector<at::Tensor> weights;
  for (const auto& w : gpu.weights) weights.push_back(w.clone().requires_grad_(true));
  const auto output = graph_circuit(gpu.input, weights, gpu.biases, graph,
                                    RelaxationOptions("anderson").tol(1e-13));
  (gpu.target - output).pow(2).sum().backward();
  for (const auto& w : weights) {
    ASSERT_TRUE(w.grad().defined());
    EXPECT_TRUE(w.grad().is_cuda());
    EXPECT_TRUE(at::isfinite(w.grad()).all().item<bool>());
  }
}

TEST(Cuda, MixingCpuAndCudaTensorsIsRefused) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto circuit = make_circuit({4, 5, 3}, 6, {"tanh", "identity"}, true, at::kDouble, 1);
  circuit.weights[1] = circuit.weights[1].cuda();
  expect_error(
      [&] {
        ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
      },
      {"eiprop::ei_equilibrium", "weights[1] (layer 1)", "cuda", "one device"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
