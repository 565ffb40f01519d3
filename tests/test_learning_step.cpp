// The learning-step operators (eiprop::learning_step, eiprop::graph_learning_step) apply the
// rule in place and equal one torch::optim::SGD step on autograd's gradients (float64): layered
// circuits for every activation and method, both losses (squared error, cross-entropy with class
// indices or probabilities); recurrent graphs against the dense implicit gradient; PlasticityRule
// runs the same body. Bad input is refused naming the op and the argument, and a refused step
// leaves the weights bitwise unchanged.
#include "graph_reference.h"
#include "reference.h"

#include <torch/optim/sgd.h>

#include <limits>

namespace eiprop {
namespace testing {
namespace {

constexpr double kLr = 0.3;

std::vector<at::Tensor> copies(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> copied;
  for (const auto& tensor : tensors) copied.push_back(tensor.detach().clone());
  return copied;
}

std::vector<c10::optional<at::Tensor>> copies(const std::vector<c10::optional<at::Tensor>>& tensors) {
  std::vector<c10::optional<at::Tensor>> copied;
  for (const auto& tensor : tensors) {
    copied.push_back(tensor.has_value() ? c10::optional<at::Tensor>(tensor->detach().clone())
                                         : c10::nullopt);
  }
  return copied;
}

at::Tensor rate(const std::string& activation, const at::Tensor& drive) {
  if (activation == "identity") return drive;
  if (activation == "tanh") return drive.tanh();
  if (activation == "sigmoid") return drive.sigmoid();
  if (activation == "relu") return drive.relu();
  if (activation == "leaky_relu") return at::leaky_relu(drive, 0.01);
  if (activation == "softplus") return at::softplus(drive);
  if (activation == "elu") return at::elu(drive);
  throw std::runtime_error("no activation " + activation);
}

// The parameters after one torch::optim::SGD step with lr on autograd's gradient of the loss.
struct Parameters {
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
};
Parameters sgd_step(const LayeredCircuit& circuit, const std::string& loss,
                    const at::Tensor& target) {
  Parameters after{copies(circuit.weights), copies(circuit.biases)};
  std::vector<at::Tensor> parameters;
  for (auto& weight : after.weights) parameters.push_back(weight.requires_grad_());
  for (auto& bias : after.biases) {
    if (bias.has_value()) parameters.push_back(bias->requires_grad_());
  }
  at::Tensor r = circuit.input;
  for (size_t l = 0; l < after.weights.size(); ++l) {
    auto drive = at::matmul(r, after.weights[l].t());
    if (after.biases[l].has_value()) drive = drive + *after.biases[l];
    r = rate(circuit.activations[l], drive);
  }
  const double batch = static_cast<double>(r.size(0));
  const auto value = loss == "squared_error" ? (target - r).pow(2).sum() / (2 * batch)
                                             : at::cross_entropy_loss(r, target);
  value.backward();
  torch::optim::SGD sgd(parameters, torch::optim::SGDOptions(kLr));
  sgd.step();
  for (auto& parameter : parameters) parameter.detach_().requires_grad_(false);
  return after;
}

void expect_close(const Parameters& actual, const Parameters& expected, double tolerance,
                  const std::string& what) {
  for (size_t l = 0; l < actual.weights.size(); ++l) {
    EXPECT_LE(relative_error(actual.weights[l], expected.weights[l]), tolerance)
        << what << ": weights[" << l << "]";
    if (actual.biases[l].has_value()) {
      EXPECT_LE(relative_error(*actual.biases[l], *expected.biases[l]), tolerance)
          << what << ": biases[" << l << "]";
    }
  }
}

TEST(LearningStep, EqualsAnSgdStepOnAutogradsGradientForEveryActivationMethodAndLoss) {
  uint64_t seed = 1;
  for (const auto& activation : kActivations) {
    for (const std::string method : {"sweep", "jacobi", "anderson"}) {
      const auto circuit = make_circuit({6, 9, 7, 4}, 8, {activation, activation, "identity"},
                                        /*with_bias=*/seed % 2 == 0, at::kDouble, seed);
      ++seed;
      const auto labels = at::randint(4, {8}, at::TensorOptions().dtype(at::kLong));
      const auto probabilities = at::softmax(at::randn({8, 4}, at::kDouble), 1);
      const std::vector<std::pair<std::string, at::Tensor>> cases{
          {"squared_error", circuit.target},
          {"cross_entropy", labels},
          {"cross_entropy", probabilities},
          // PyTorch's soft targets need not sum to 1 per sample.
          {"cross_entropy", probabilities * 2.5}};
      for (const auto& [loss, target] : cases) {
        const auto what = activation + " " + method + " " + loss + " " +
                          c10::toString(target.scalar_type());
        Parameters stepped{copies(circuit.weights), copies(circuit.biases)};
        const auto result = learning_step(circuit.input, target, stepped.weights, stepped.biases,
                                          circuit.activations, kLr, loss,
                                          RelaxationOptions(method));
        expect_close(stepped, sgd_step(circuit, loss, target), 1e-12, what);
        // The output is the rates before the update.
        const auto rates = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                          circuit.activations);
        EXPECT_LE(relative_error(result.output, rates.rates.back()), 1e-14) << what;
      }
    }
  }
}

TEST(LearningStep, PlasticityRuleRunsTheSameStepBitwise) {
  auto mlp = BalancedMLP(BalancedMLPOptions({5, 8, 3}).activation("tanh"));
  mlp->to(at::kDouble);
  auto weights = copies(mlp->weights());
  auto biases = copies(mlp->biases());
  const auto input = at::randn({6, 5}, at::kDouble);
  const auto target = at::randn({6, 3}, at::kDouble);
  PlasticityRule(mlp, kLr).step(input, target);
  learning_step(input, target, weights, biases, mlp->activations(), kLr, "squared_error");
  for (size_t l = 0; l < weights.size(); ++l) {
    EXPECT_TRUE(at::equal(weights[l], mlp->weights()[l])) << l;
    EXPECT_TRUE(at::equal(*biases[l], *mlp->biases()[l])) << l;
  }
}

// A hidden population of width 0 is a valid circuit (the ops accept it): the output is its bias.
TEST(LearningStep, AHiddenPopulationOfWidthZeroIsLearnedThrough) {
  const auto input = at::randn({3, 4}, at::kDouble);
  const auto target = at::randn({3, 2}, at::kDouble);
  std::vector<at::Tensor> weights{at::randn({0, 4}, at::kDouble), at::randn({2, 0}, at::kDouble)};
  const auto bias = at::randn({2}, at::kDouble);
  std::vector<c10::optional<at::Tensor>> biases{c10::nullopt, bias.clone()};
  const auto result = learning_step(input, target, weights, biases, {"tanh", "identity"}, kLr,
                                    "squared_error");
  EXPECT_TRUE(at::allclose(result.output, bias.expand({3, 2})));
  const auto expected = bias + kLr * (target - bias).mean(0);
  EXPECT_LE(relative_error(*biases[1], expected), 1e-14);
}

TEST(GraphLearningStep, RecurrentCircuitStepEqualsTheDenseImplicitGradient) {
  const Graph graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};
  for (const std::string method : {"jacobi", "anderson"}) {
    const auto circuit = make_graph_circuit(graph, {5, 12, 4}, 7, at::kDouble, 17, 0.4);
    const auto expected = implicit_gradients(circuit, 3000);
    auto weights = copies(circuit.weights);
    auto biases = copies(circuit.biases);
    const auto result =
        graph_learning_step(circuit.input, circuit.target, weights, biases, graph, kLr,
                            "squared_error", RelaxationOptions(method).tol(1e-14));
    EXPECT_GT(result.rate_iterations, 4) << method;
    EXPECT_GT(result.credit_iterations, 4) << method;
    EXPECT_LE(relative_error(result.output, expected.rates.back()), 1e-12) << method;
    for (size_t k = 0; k < weights.size(); ++k) {
      EXPECT_LE(relative_error(weights[k], circuit.weights[k] - kLr * expected.weight_grads[k]),
                1e-10)
          << method << " weights[" << k << "]";
    }
    for (size_t p = 0; p < biases.size(); ++p) {
      EXPECT_LE(relative_error(*biases[p], *circuit.biases[p] - kLr * expected.bias_grads[p]),
                1e-10)
          << method << " biases[" << p << "]";
    }
  }
}

// Every refused call leaves the weights and biases bitwise as they were.
class LearningStepRefusals : public ::testing::Test {
 protected:
  LayeredCircuit circuit = make_circuit({5, 6, 3}, 4, {"tanh", "identity"}, true, at::kDouble, 9);
  std::vector<at::Tensor> weights = copies(circuit.weights);
  std::vector<c10::optional<at::Tensor>> biases = copies(circuit.biases);

  void expect_refused(const at::Tensor& input, const at::Tensor& target, const std::string& loss,
                      const std::vector<std::string>& fragments, double lr = kLr,
                      const RelaxationOptions& options = {}) {
    expect_error(
        [&] {
          learning_step(input, target, weights, biases, circuit.activations, lr, loss, options);
        },
        fragments);
    for (size_t l = 0; l < weights.size(); ++l) {
      EXPECT_TRUE(at::equal(weights[l], circuit.weights[l])) << l;
      EXPECT_TRUE(at::equal(*biases[l], *circuit.biases[l])) << l;
    }
  }
};

TEST_F(LearningStepRefusals, BadLossesAndTargets) {
  const auto& x = circuit.input;
  const auto labels = at::tensor({0, 2, 1, 0}, at::kLong);
  expect_refused(x, circuit.target, "mse",
                 {"eiprop::learning_step", "loss 'mse'", "squared_error, cross_entropy"});
  expect_refused(x, circuit.target.narrow(1, 0, 2), "squared_error",
                 {"eiprop::learning_step", "target", "[4, 2]", "output rates' shape"});
  expect_refused(x, labels, "squared_error",
                 {"eiprop::learning_step", "target has dtype Long", "expected Double"});
  expect_refused(x, circuit.target.to(at::kFloat), "squared_error",
                 {"eiprop::learning_step", "target", "Float"});
  expect_refused(x, labels.narrow(0, 0, 3), "cross_entropy",
                 {"eiprop::learning_step", "target has batch 3", "input has batch 4"});
  expect_refused(x, labels.view({2, 2}), "cross_entropy",
                 {"eiprop::learning_step", "class indices", "1-D"});
  expect_refused(x, at::tensor({0, 3, 1, 0}, at::kLong), "cross_entropy",
                 {"eiprop::learning_step", "target[1] = 3", "classes 0..2"});
  expect_refused(x, at::tensor({0, 1, -1, 0}, at::kLong), "cross_entropy",
                 {"eiprop::learning_step", "target[2] = -1"});
  auto nan_target = circuit.target.clone();
  nan_target[3][1] = std::numeric_limits<double>::quiet_NaN();
  expect_refused(x, nan_target, "squared_error",
                 {"eiprop::learning_step", "target holds NaN or Inf"});
}

// A NaN target where a relu output is silent for the whole sample: the imbalance there is
// dropped by the gate (every update stays finite), but the target is still refused.
TEST(LearningStep, RefusesANonFiniteTargetBehindASilentReluOutput) {
  auto circuit = make_circuit({5, 6, 3}, 4, {"tanh", "relu"}, true, at::kDouble, 11);
  circuit.biases[1]->fill_(-100.0);  // every output neuron silent for every sample
  auto weights = copies(circuit.weights);
  auto biases = copies(circuit.biases);
  auto target = circuit.target.clone();
  target[2][0] = std::numeric_limits<double>::quiet_NaN();
  expect_error(
      [&] {
        learning_step(circuit.input, target, weights, biases, circuit.activations, kLr,
                      "squared_error", {});
      },
      {"eiprop::learning_step", "target holds NaN or Inf"});
  for (size_t l = 0; l < weights.size(); ++l) {
    EXPECT_TRUE(at::equal(weights[l], circuit.weights[l])) << l;
    EXPECT_TRUE(at::equal(*biases[l], *circuit.biases[l])) << l;
  }
}

TEST_F(LearningStepRefusals, BadInputLearningRateAndOptions) {
  auto bad_input = circuit.input.clone();
  bad_input[0][0] = std::numeric_limits<double>::infinity();
  expect_refused(bad_input, circuit.target, "squared_error",
                 {"eiprop::learning_step", "the input (population 0) holds NaN or Inf"});
  expect_refused(circuit.input, circuit.target, "squared_error",
                 {"eiprop::learning_step", "lr must be finite"},
                 std::numeric_limits<double>::quiet_NaN());
  expect_refused(circuit.input.to(at::kFloat), circuit.target.to(at::kFloat), "squared_error",
                 {"eiprop::learning_step", "Float", "Double"});
  expect_refused(circuit.input, circuit.target, "squared_error",
                 {"eiprop::learning_step", "strict(false) is not available"}, kLr,
                 RelaxationOptions().strict(false));
  expect_refused(circuit.input.narrow(0, 0, 0), circuit.target.narrow(0, 0, 0), "squared_error",
                 {"eiprop::learning_step", "empty batch"});
  // lr / B is finite, but an update would overflow float64: refused before anything is written.
  expect_refused(circuit.input, circuit.target * 1e3, "squared_error",
                 {"eiprop::learning_step", "the updates would hold NaN or Inf", "lower lr"},
                 1e308);
}

TEST(GraphLearningStep, RefusesABadOutputPopulationANonConvergingSolveAndABadTarget) {
  const Graph graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};
  const auto circuit = make_graph_circuit(graph, {5, 12, 4}, 7, at::kDouble, 17, 0.4);
  auto weights = copies(circuit.weights);
  auto biases = copies(circuit.biases);
  auto other = graph;
  other.output = 3;
  expect_error(
      [&] {
        graph_learning_step(circuit.input, circuit.target, weights, biases, other, kLr,
                            "squared_error");
      },
      {"eiprop::graph_learning_step", "output is 3", "1..2"});
  expect_error(
      [&] {
        graph_learning_step(circuit.input, circuit.target, weights, biases, graph, kLr,
                            "squared_error", RelaxationOptions("jacobi").max_iters(3));
      },
      {"eiprop::graph_learning_step", "did not converge"});
  expect_error(
      [&] {
        graph_learning_step(circuit.input, circuit.target, weights, biases, graph, kLr,
                            "squared_error", RelaxationOptions("sweep"));
      },
      {"eiprop::graph_learning_step", "'sweep' needs an acyclic circuit"});
  // On a recurrent graph the credits relax by iteration, which meets the NaN of a bad class
  // index first: the target is still what is named.
  expect_error(
      [&] {
        graph_learning_step(circuit.input, at::full({7}, 4, at::kLong), weights, biases, graph,
                            kLr, "cross_entropy");
      },
      {"eiprop::graph_learning_step", "target[0] = 4", "classes 0..3"});
  auto nan_target = circuit.target.clone();
  nan_target[2][1] = std::numeric_limits<double>::quiet_NaN();
  expect_error(
      [&] {
        graph_learning_step(circuit.input, nan_target, weights, biases, graph, kLr,
                            "squared_error");
      },
      {"eiprop::graph_learning_step", "target holds NaN or Inf"});
  for (size_t k = 0; k < weights.size(); ++k) EXPECT_TRUE(at::equal(weights[k], circuit.weights[k]));
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
