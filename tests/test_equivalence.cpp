// The rule equals backpropagation (docs/theory.md §3-4): weight and bias updates equal -lr *
// dLoss/dW of Loss = 1/(2B) sum ||y - r_L||^2 computed by LibTorch autograd, for every activation,
// method, dtype, with and without biases, on random layered circuits (depth 1-8, widths 1-512,
// batch 1-64). input_credit equals -B * dLoss/dinput (the per-sample loss's input gradient).
#include "reference.h"

#include <random>
#include <tuple>

namespace eiprop {
namespace testing {
namespace {

constexpr double kLr = 0.05;

struct Tolerance {
  double value;
};

Tolerance tolerance(at::ScalarType dtype, const std::string& method) {
  if (dtype == at::kFloat) return {1e-4};
  return {method == "euler" ? 1e-8 : 1e-10};
}

RelaxationOptions relaxation(const std::string& method, at::ScalarType dtype) {
  RelaxationOptions options(method);
  if (method == "euler") {
    options.dt(0.5).max_iters(20000);
    // A tight tolerance: the fixed point is reached to round-off.
    options.tol(dtype == at::kDouble ? 1e-14 : 1e-6);
  }
  return options;
}

// Runs the three operators and checks them against autograd; returns the worst relative error.
double check_against_autograd(const LayeredCircuit& circuit, const std::string& method) {
  const auto dtype = circuit.input.scalar_type();
  const auto options = relaxation(method, dtype);
  const auto expected = autograd_gradients(circuit);

  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations, options);
  const auto output_error = circuit.target - equilibrium.rates.back();
  const auto credits = credit_relaxation(output_error, equilibrium.drives, circuit.weights,
                                         circuit.activations, options);
  const auto updates = plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                  credits.credits, circuit.activations, kLr);

  const double batch = static_cast<double>(circuit.input.size(0));
  double worst = 0.0;
  auto record = [&](const char* what, size_t layer, const at::Tensor& actual,
                    const at::Tensor& reference) {
    const double error = relative_error(actual, reference);
    worst = std::max(worst, error);
    EXPECT_LE(error, tolerance(dtype, method).value)
        << what << " of layer " << layer << " (" << circuit.activations[layer] << ", " << method
        << ", " << dtype << ")";
  };
  const size_t layers = circuit.weights.size();
  for (size_t l = 0; l < layers; ++l) {
    record("rates", l, equilibrium.rates[l], expected.rates[l]);
    record("weight update", l, updates.weight_updates[l], -kLr * expected.weight_grads[l]);
    if (expected.bias_grads[l].defined()) {
      record("bias update", l, updates.bias_updates[l], -kLr * expected.bias_grads[l]);
    }
  }
  record("input credit", 0, credits.input_credit, -batch * expected.input_grad);
  return worst;
}

std::vector<int64_t> random_widths(std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> depth(1, 8);
  // Mostly modest widths, with the extremes 1 and 512 drawn on purpose.
  std::uniform_int_distribution<int64_t> width(1, 96);
  std::uniform_int_distribution<int> extreme(0, 5);
  std::vector<int64_t> widths;
  const int64_t layers = depth(rng);
  for (int64_t l = 0; l <= layers; ++l) {
    const int pick = extreme(rng);
    widths.push_back(pick == 0 ? 1 : pick == 1 ? 512 : width(rng));
  }
  return widths;
}

using Case = std::tuple<std::string, std::string, at::ScalarType, bool>;

class EquivalenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(EquivalenceTest, UpdatesEqualAutogradGradients) {
  const auto& [activation, method, dtype, with_bias] = GetParam();
  std::mt19937_64 rng(std::hash<std::string>{}(activation + method) + (with_bias ? 7 : 0));
  std::uniform_int_distribution<int64_t> batch(1, 64);
  for (int trial = 0; trial < 3; ++trial) {
    const auto widths = random_widths(rng);
    const std::vector<std::string> activations(widths.size() - 1, activation);
    const auto circuit =
        make_circuit(widths, batch(rng), activations, with_bias, dtype, rng());
    check_against_autograd(circuit, method);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllActivationsMethodsDtypes, EquivalenceTest,
    ::testing::Combine(::testing::ValuesIn(kActivations), ::testing::ValuesIn(kMethods),
                       ::testing::Values(at::kDouble, at::kFloat), ::testing::Bool()),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" +
             (std::get<2>(info.param) == at::kDouble ? "float64" : "float32") +
             (std::get<3>(info.param) ? "_bias" : "_nobias");
    });

TEST(Equivalence, MixedActivationsDeepWideCircuit) {
  const std::vector<int64_t> widths = {512, 512, 256, 128, 64, 32, 16, 8, 3};
  std::vector<std::string> activations;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    activations.push_back(kActivations[l % kActivations.size()]);
  }
  const auto circuit = make_circuit(widths, 64, activations, true, at::kDouble, 11);
  for (const auto& method : kMethods) {
    EXPECT_LE(check_against_autograd(circuit, method), tolerance(at::kDouble, method).value)
        << method;
  }
}

TEST(Equivalence, SoftplusThresholdIsRespected) {
  // Drives beyond PyTorch's softplus threshold (20) take the linear branch in both.
  auto circuit = make_circuit({4, 5, 2}, 8, {"softplus", "softplus"}, true, at::kDouble, 3);
  circuit.input = circuit.input * 40.0;
  EXPECT_LE(check_against_autograd(circuit, "sweep"), 1e-10);
}

TEST(Equivalence, ReluGateAtExactlyZeroDrive) {
  // relu'(0) = 0 as in autograd: an all-zero input gives u = 0 without bias.
  auto circuit = make_circuit({3, 4, 2}, 5, {"relu", "identity"}, false, at::kDouble, 5);
  circuit.input.zero_();
  check_against_autograd(circuit, "sweep");
}

// credit_relaxation / graph_credit_relaxation with input_credit = false: the same credits, bitwise,
// and no input credit (the widest GEMM when the input is wide is skipped); the plasticity they
// feed equals autograd's SGD step.
TEST(Equivalence, SkippingTheInputCreditLeavesTheCreditsUnchanged) {
  const auto circuit =
      make_circuit({40, 12, 7, 3}, 6, {"tanh", "relu", "identity"}, true, at::kDouble, 31);
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  const auto output_error = circuit.target - equilibrium.rates.back();
  const auto all = credit_relaxation(output_error, equilibrium.drives, circuit.weights,
                                     circuit.activations);
  const auto skipped = credit_relaxation(output_error, equilibrium.drives, circuit.weights,
                                         circuit.activations, RelaxationOptions(), false);
  EXPECT_TRUE(all.input_credit.defined());
  EXPECT_FALSE(skipped.input_credit.defined());
  ASSERT_EQ(skipped.credits.size(), all.credits.size());
  for (size_t l = 0; l < all.credits.size(); ++l) {
    EXPECT_TRUE(at::equal(skipped.credits[l], all.credits[l])) << "layer " << l;
  }
  const auto updates = plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                  skipped.credits, circuit.activations, kLr);
  const auto expected = autograd_gradients(circuit);
  for (size_t l = 0; l < circuit.weights.size(); ++l) {
    EXPECT_LE(relative_error(updates.weight_updates[l], -kLr * expected.weight_grads[l]), 1e-12)
        << "layer " << l;
  }

  const auto graph = Graph::chain(circuit.activations);
  const auto graph_all = graph_credit_relaxation(output_error, equilibrium.drives,
                                                 circuit.weights, graph);
  const auto graph_skipped = graph_credit_relaxation(output_error, equilibrium.drives,
                                                     circuit.weights, graph, graph_relaxation(),
                                                     false);
  EXPECT_TRUE(graph_all.input_credit.defined());
  EXPECT_FALSE(graph_skipped.input_credit.defined());
  for (size_t p = 0; p < graph_all.credits.size(); ++p) {
    EXPECT_TRUE(at::equal(graph_skipped.credits[p], graph_all.credits[p])) << "population " << p;
  }
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
