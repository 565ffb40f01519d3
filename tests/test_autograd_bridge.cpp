// eiprop::circuit inside autograd: loss.backward() runs credit relaxation, and the gradients equal
// autograd's through the same network for several losses, also when the circuit's input comes
// from layers trained by autograd (float64, <= 1e-10 relative).
#include "graph_reference.h"
#include "reference.h"
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>

namespace eiprop {
namespace testing {
namespace {

namespace F = torch::nn::functional;

using Loss = std::function<at::Tensor(const at::Tensor& output, const at::Tensor& target)>;

struct NamedLoss {
  std::string name;
  Loss loss;
};

std::vector<NamedLoss> losses() {
  return {
      {"mse", [](const at::Tensor& r, const at::Tensor& y) { return F::mse_loss(r, y); }},
      {"cross_entropy",
       [](const at::Tensor& r, const at::Tensor& y) {
         return F::cross_entropy(r, y.argmax(1));
       }},
      {"smooth_l1", [](const at::Tensor& r, const at::Tensor& y) { return F::smooth_l1_loss(r, y); }},
      {"sum_of_cubes", [](const at::Tensor& r, const at::Tensor&) { return r.pow(3).sum(); }},
  };
}

std::vector<at::Tensor> leaves_of(LayeredCircuit& circuit) {
  std::vector<at::Tensor> leaves{circuit.input.requires_grad_(true)};
  for (auto& weight : circuit.weights) leaves.push_back(weight.requires_grad_(true));
  for (auto& bias : circuit.biases) {
    if (bias.has_value()) leaves.push_back(bias->requires_grad_(true));
  }
  return leaves;
}

TEST(AutogradBridge, GradientsEqualAutogradForSeveralLossesAndMethods) {
  for (const auto& method : kMethods) {
    for (const auto& [name, loss] : losses()) {
      auto circuit = make_circuit({7, 12, 9, 5}, 11, {"tanh", "softplus", "identity"}, true,
                                  at::kDouble, 4);
      circuit.biases[1] = c10::nullopt;
      const auto leaves = leaves_of(circuit);
      RelaxationOptions options(method);
      if (method == "euler") options.dt(0.5).tol(1e-14);
      const auto rule_output =
          eiprop::circuit(circuit.input, circuit.weights, circuit.biases, circuit.activations,
                          options);
      EXPECT_NE(rule_output.grad_fn(), nullptr);
      const auto rule_grads = torch::autograd::grad({loss(rule_output, circuit.target)}, leaves);
      const auto reference_output = autograd_forward(circuit.input, circuit.weights,
                                                     circuit.biases, circuit.activations);
      const auto reference_grads =
          torch::autograd::grad({loss(reference_output, circuit.target)}, leaves);
      const double tol = method == "euler" ? 1e-8 : 1e-10;
      for (size_t i = 0; i < leaves.size(); ++i) {
        EXPECT_LE(relative_error(rule_grads[i], reference_grads[i]), tol)
            << name << " " << method << " leaf " << i;
      }
    }
  }
}

TEST(AutogradBridge, InputCreditFlowsIntoLayersTrainedByAutograd) {
  torch::manual_seed(3);
  torch::nn::Linear encoder(torch::nn::LinearOptions(6, 8));
  encoder->to(at::kDouble);
  auto circuit = make_circuit({8, 10, 4}, 9, {"sigmoid", "identity"}, true, at::kDouble, 5);
  const auto x = torch::randn({9, 6}, at::kDouble);
  const auto labels = torch::randint(0, 4, {9}, at::kLong);
  for (auto& weight : circuit.weights) weight.requires_grad_(true);

  auto rule_loss = F::cross_entropy(
      eiprop::circuit(torch::tanh(encoder(x)), circuit.weights, circuit.biases,
                      circuit.activations),
      labels);
  const auto rule_grads = torch::autograd::grad(
      {rule_loss}, {encoder->weight, encoder->bias, circuit.weights[0], circuit.weights[1]});
  auto reference_loss = F::cross_entropy(
      autograd_forward(torch::tanh(encoder(x)), circuit.weights, circuit.biases,
                       circuit.activations),
      labels);
  const auto reference_grads = torch::autograd::grad(
      {reference_loss}, {encoder->weight, encoder->bias, circuit.weights[0], circuit.weights[1]});
  for (size_t i = 0; i < rule_grads.size(); ++i) {
    EXPECT_LE(relative_error(rule_grads[i], reference_grads[i]), 1e-10) << i;
  }
}

TEST(AutogradBridge, NoGradAndInferenceModeRunTheForwardOnly) {
  const auto circuit = make_circuit({3, 4, 2}, 5, {"elu", "identity"}, true, at::kDouble, 6);
  const auto reference = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                        circuit.activations);
  {
    torch::NoGradGuard no_grad;
    const auto output =
        eiprop::circuit(circuit.input, circuit.weights, circuit.biases, circuit.activations);
    EXPECT_TRUE(at::equal(output, reference.rates.back()));
  }
  {
    c10::InferenceMode inference;
    const auto output =
        eiprop::circuit(circuit.input, circuit.weights, circuit.biases, circuit.activations);
    EXPECT_TRUE(at::equal(output, reference.rates.back()));
  }
}

// Double backward: create_graph=True still gives the first-order gradients (equal to the plain
// backward's), and differentiating them again raises naming the op, for the layered and the
// graph operator; nothing returns a silently wrong second derivative.
TEST(AutogradBridge, DoubleBackwardIsRefusedNamingTheOp) {
  auto circuit = make_circuit({4, 6, 3}, 5, {"tanh", "identity"}, true, at::kDouble, 8);
  const auto leaves = leaves_of(circuit);
  const auto loss = [&] {
    return eiprop::circuit(circuit.input, circuit.weights, circuit.biases, circuit.activations)
        .pow(2)
        .sum();
  };
  const auto plain = torch::autograd::grad({loss()}, leaves);
  const auto first = torch::autograd::grad({loss()}, leaves, {}, /*retain_graph=*/true,
                                           /*create_graph=*/true);
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_TRUE(at::equal(first[i].detach(), plain[i])) << "leaf " << i;
    EXPECT_TRUE(first[i].requires_grad()) << "leaf " << i;
  }
  expect_error([&] { torch::autograd::grad({first[1].pow(2).sum()}, {circuit.weights[0]}); },
               {"eiprop::circuit", "double backward is not supported"});

  auto graph = make_graph_circuit(Graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2},
                                  {3, 5, 2}, 4, at::kDouble, 9, 0.3);
  graph.weights[1].requires_grad_(true);
  const auto output = eiprop::graph_circuit(graph.input, graph.weights, graph.biases, graph.graph);
  const auto gradient = torch::autograd::grad({output.pow(2).sum()}, {graph.weights[1]}, {},
                                              /*retain_graph=*/true, /*create_graph=*/true);
  expect_error([&] { torch::autograd::grad({gradient[0].sum()}, {graph.weights[1]}); },
               {"eiprop::graph_circuit", "double backward is not supported"});
}

// The operators without a derivative refuse tensors that require grad (with grad mode on),
// naming the op and the argument, instead of running through autograd's not-implemented
// fallback (a warning, or "modified by an inplace operation" under anderson); under NoGradGuard
// they run as before.
TEST(AutogradBridge, NonDifferentiableOperatorsRefuseTensorsThatRequireGrad) {
  auto circuit = make_circuit({4, 6, 3}, 5, {"tanh", "identity"}, true, at::kDouble, 8);
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  circuit.weights[1].requires_grad_(true);
  expect_error([&] { ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations); },
               {"eiprop::ei_equilibrium: weights requires grad",
                "this operator is not differentiable", "eiprop::circuit"});
  expect_error([&] { credit_relaxation(circuit.target, equilibrium.drives, circuit.weights,
                                       circuit.activations); },
               {"eiprop::credit_relaxation: weights requires grad"});
  expect_error([&] { ei_currents(circuit.input, circuit.weights[0].detach().requires_grad_()); },
               {"eiprop::ei_currents: weight requires grad"});
  const Graph graph{{0, 1}, {1, 2}, circuit.activations, 2};
  expect_error([&] { graph_equilibrium(circuit.input, circuit.weights, circuit.biases, graph,
                                       RelaxationOptions("anderson")); },
               {"eiprop::graph_equilibrium: weights requires grad"});
  auto rates = equilibrium.rates;
  rates[0] = rates[0].detach().requires_grad_(true);
  expect_error([&] { plasticity(circuit.input, rates, equilibrium.drives, equilibrium.rates,
                                circuit.activations, 0.1); },
               {"eiprop::plasticity: rates requires grad"});
  torch::NoGradGuard no_grad;
  const auto again =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  EXPECT_TRUE(at::equal(again.rates.back(), equilibrium.rates.back()));
}

TEST(AutogradBridge, BadInputIsRefusedWithTheOpName) {
  auto circuit = make_circuit({3, 4, 2}, 5, {"elu", "identity"}, true, at::kDouble, 6);
  circuit.weights[0].requires_grad_(true);
  circuit.activations[1] = "softmax";
  expect_error(
      [&] {
        eiprop::circuit(circuit.input, circuit.weights, circuit.biases, circuit.activations);
      },
      {"eiprop::circuit", "activations[1] (layer 1)", "'softmax'"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
