// Numerical faults and edge cases at the operator and module boundaries: non-finite inputs,
// weights and errors are reported with the population; the plasticity rule never writes a
// non-finite update (the step is refused, the weights stay bitwise unchanged); non-contiguous
// and zero-size tensors are accepted with the documented result; unsupported dtypes are refused.
#include "graph_reference.h"

#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <limits>

namespace eiprop {
namespace testing {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

LayeredCircuit small_circuit() {
  return make_circuit({4, 5, 3}, 6, {"tanh", "identity"}, true, at::kDouble, 1);
}

TEST(Faults, NaNInputIsReportedWithThePopulation) {
  auto circuit = small_circuit();
  circuit.input[2][1] = kNaN;
  for (const std::string method : {"sweep", "jacobi", "euler"}) {
    expect_error([&] { ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                      circuit.activations, RelaxationOptions(method)); },
                 {"eiprop::ei_equilibrium", "the input (population 0) holds NaN or Inf"});
  }
}

TEST(Faults, InfiniteWeightIsReportedWithThePopulation) {
  auto circuit = small_circuit();
  circuit.weights[1][0][0] = kInf;
  expect_error([&] { ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations); },
               {"eiprop::ei_equilibrium", "population 2", "not finite"});
  expect_error([&] { eiprop::circuit(circuit.input, circuit.weights, circuit.biases,
                                     circuit.activations); },
               {"eiprop::circuit", "population 2", "not finite"});
}

TEST(Faults, NaNBiasIsReportedWithThePopulation) {
  auto circuit = small_circuit();
  (*circuit.biases[0])[3] = kNaN;
  expect_error([&] { ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations); },
               {"population 1", "not finite"});
}

TEST(Faults, NaNOutputErrorIsReportedWithThePopulation) {
  const auto circuit = small_circuit();
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  auto error = circuit.target - equilibrium.rates.back();
  error[0][0] = kNaN;
  expect_error([&] { credit_relaxation(error, equilibrium.drives, circuit.weights,
                                       circuit.activations); },
               {"eiprop::credit_relaxation", "the credits of population 2", "not finite"});
}

TEST(Faults, RecurrentNaNIsReportedByEveryMethod) {
  const Graph graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};
  auto circuit = make_graph_circuit(graph, {3, 5, 2}, 4, at::kDouble, 2, 0.5);
  circuit.input[0][0] = kNaN;
  for (const std::string method : {"jacobi", "euler", "anderson"}) {
    expect_error([&] { graph_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                         circuit.graph, RelaxationOptions(method)); },
                 {"eiprop::graph_equilibrium", "the input (population 0) holds NaN or Inf"});
  }
}

BalancedMLP make_mlp() {
  torch::manual_seed(5);
  BalancedMLP mlp(BalancedMLPOptions({4, 6, 3}));
  mlp->to(torch::kDouble);
  return mlp;
}

std::vector<at::Tensor> snapshot(const torch::nn::Module& module) {
  std::vector<at::Tensor> copies;
  for (const auto& parameter : module.parameters()) copies.push_back(parameter.detach().clone());
  return copies;
}

void expect_bitwise_unchanged(const torch::nn::Module& module,
                              const std::vector<at::Tensor>& before) {
  const auto after = module.parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(torch::equal(after[i], before[i])) << "parameter " << i << " changed";
  }
}

TEST(Faults, PlasticityRuleRefusesANonFiniteStepAndLeavesTheWeightsBitwiseUnchanged) {
  auto mlp = make_mlp();
  PlasticityRule rule(mlp, 0.1);
  const auto before = snapshot(*mlp);
  const auto input = torch::randn({5, 4}, torch::kDouble);
  auto target = torch::randn({5, 3}, torch::kDouble);
  target[1][2] = kNaN;
  expect_error([&] { rule.step(input, target); },
               {"eiprop::PlasticityRule", "the credits of population 2", "not finite"});
  expect_bitwise_unchanged(*mlp, before);
  auto bad_input = input.clone();
  bad_input[0][0] = kInf;
  expect_error([&] { rule.step(bad_input, torch::zeros({5, 3}, torch::kDouble)); },
               {"eiprop::PlasticityRule", "the input (population 0) holds NaN or Inf"});
  expect_bitwise_unchanged(*mlp, before);
  // A good step still works afterwards.
  rule.step(input, torch::zeros({5, 3}, torch::kDouble));
  EXPECT_FALSE(torch::equal(mlp->parameters()[0], before[0]));
}

TEST(Faults, ModulesRefuseNonFiniteInputBeforeAnyOptimizerStep) {
  auto mlp = make_mlp();
  torch::optim::SGD optimizer(mlp->parameters(), torch::optim::SGDOptions(0.1));
  const auto before = snapshot(*mlp);
  auto input = torch::randn({5, 4}, torch::kDouble);
  input[4][3] = kNaN;
  expect_error([&] { mlp->forward(input).sum().backward(); },
               {"eiprop::circuit", "the input (population 0)"});
  expect_bitwise_unchanged(*mlp, before);

  torch::manual_seed(3);
  RecurrentCircuit recurrent(
      RecurrentCircuitOptions({4, 6, 3}, Graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2}));
  recurrent->to(torch::kDouble);
  const auto recurrent_before = snapshot(*recurrent);
  expect_error([&] { recurrent->forward(input).sum().backward(); },
               {"eiprop::graph_circuit", "the input (population 0)"});
  expect_bitwise_unchanged(*recurrent, recurrent_before);
}

TEST(Faults, NaNGradientIsRefusedInTheBackward) {
  auto mlp = make_mlp();
  const auto input = torch::randn({5, 4}, torch::kDouble);
  const auto output = mlp->forward(input);
  expect_error([&] { (output * kNaN).sum().backward(); },
               {"eiprop::circuit", "the credits (backward) of population 2", "not finite"});
  for (const auto& parameter : mlp->parameters()) EXPECT_FALSE(parameter.grad().defined());
}

TEST(Faults, PlasticityOperatorsRefuseNonFiniteUpdates) {
  const auto circuit = small_circuit();
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  const auto credits = credit_relaxation(circuit.target - equilibrium.rates.back(),
                                         equilibrium.drives, circuit.weights, circuit.activations);
  auto rates = equilibrium.rates;
  rates[0] = rates[0].clone();
  rates[0][1][1] = kInf;  // layer 0's rate: its own gate and layer 1's presynaptic rate
  expect_error([&] { plasticity(circuit.input, rates, equilibrium.drives, credits.credits,
                                circuit.activations, 0.1); },
               {"eiprop::plasticity", "rates[0] (layer 0) holds NaN or Inf; refused"});
  const Graph graph{{0, 1}, {1, 2}, circuit.activations, 2};
  expect_error([&] { graph_plasticity(circuit.input, rates, equilibrium.drives, credits.credits,
                                      graph, 0.1); },
               {"eiprop::graph_plasticity", "rates[0] (population 1) holds NaN or Inf; refused"});
}

// NaN or Inf where the op does not read it, or where the result would hide it, is refused naming
// the argument: a relu layer's drive in the credit relaxations (relu's gate reads NaN as
// active), the output layer's rates and an identity layer's drives in plasticity (not read),
// and +inf * 0 in ei_currents.
TEST(Faults, NonFiniteInputsTheResultWouldHideAreRefusedNamingThem) {
  const auto circuit = make_circuit({4, 5, 3}, 6, {"relu", "identity"}, true, at::kDouble, 1);
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  const auto error = circuit.target - equilibrium.rates.back();
  const auto credits =
      credit_relaxation(error, equilibrium.drives, circuit.weights, circuit.activations);
  const Graph graph{{0, 1}, {1, 2}, circuit.activations, 2};
  const auto with_nan = [](std::vector<at::Tensor> tensors, size_t entry) {
    tensors[entry] = tensors[entry].clone();
    tensors[entry][1][2] = kNaN;
    return tensors;
  };

  const auto nan_relu_drive = with_nan(equilibrium.drives, 0);
  expect_error([&] { credit_relaxation(error, nan_relu_drive, circuit.weights,
                                       circuit.activations); },
               {"eiprop::credit_relaxation", "drives[0] (layer 0) holds NaN or Inf; refused"});
  expect_error([&] { graph_credit_relaxation(error, nan_relu_drive, circuit.weights, graph); },
               {"eiprop::graph_credit_relaxation",
                "drives[0] (population 1) holds NaN or Inf; refused"});

  const auto nan_output_rate = with_nan(equilibrium.rates, 1);
  expect_error([&] { plasticity(circuit.input, nan_output_rate, equilibrium.drives,
                                credits.credits, circuit.activations, 0.1); },
               {"eiprop::plasticity", "rates[1] (layer 1) holds NaN or Inf; refused"});
  expect_error([&] { graph_plasticity(circuit.input, nan_output_rate, equilibrium.drives,
                                      credits.credits, graph, 0.1); },
               {"eiprop::graph_plasticity", "rates[1] (population 2) holds NaN or Inf; refused"});
  const auto nan_identity_drive = with_nan(equilibrium.drives, 1);
  expect_error([&] { plasticity(circuit.input, equilibrium.rates, nan_identity_drive,
                                credits.credits, circuit.activations, 0.1); },
               {"eiprop::plasticity", "drives[1] (layer 1) holds NaN or Inf; refused"});

  auto rates = torch::zeros({2, 3}, at::kDouble);
  rates[0][1] = kInf;
  const auto weight = torch::zeros({4, 3}, at::kDouble);
  expect_error([&] { ei_currents(rates, weight); },
               {"eiprop::ei_currents", "presynaptic_rates holds NaN or Inf; refused"});
}

// Updates that overflow the dtype although every input is finite name lr as the cause.
TEST(Faults, UpdatesThatOverflowTheDtypeNameTheLearningRate) {
  const auto circuit = make_circuit({4, 5, 3}, 6, {"tanh", "identity"}, true, at::kFloat, 1);
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  std::vector<at::Tensor> credits;
  for (const auto& rate : equilibrium.rates) credits.push_back(torch::full_like(rate, 1e3));
  expect_error([&] { plasticity(circuit.input, equilibrium.rates, equilibrium.drives, credits,
                                circuit.activations, 1e38); },
               {"eiprop::plasticity", "weight_updates[0] (layer 0)",
                "although every input is finite: the updates overflow Float", "lower lr, now 1e+38"});
}

// Found by the fuzz target (tests/fuzz/findings/plasticity_rule_lr_overflows_float32): a finite
// lr whose scale overflows float32 is refused with the op's name, not a foreign exception.
TEST(Faults, LearningRateOverflowingFloat32IsRefused) {
  torch::manual_seed(2);
  BalancedMLP mlp(BalancedMLPOptions({3, 3, 1}));
  const auto before = snapshot(*mlp);
  PlasticityRule rule(mlp, 1e300);
  expect_error([&] { rule.step(torch::randn({5, 3}), torch::randn({5, 1})); },
               {"eiprop::PlasticityRule", "overflows the dtype Float"});
  expect_bitwise_unchanged(*mlp, before);
  const auto circuit = make_circuit({4, 5, 3}, 6, {"tanh", "identity"}, true, at::kFloat, 1);
  const auto equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  expect_error([&] { plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                equilibrium.rates, circuit.activations, 1e300); },
               {"eiprop::plasticity", "overflows the dtype Float"});
}

TEST(Faults, NonContiguousTensorsAreAcceptedWithTheSameResult) {
  const auto circuit = small_circuit();
  const auto expected =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  // Transposed storage and a strided slice.
  const auto input = circuit.input.t().contiguous().t();
  std::vector<at::Tensor> weights{circuit.weights[0].t().contiguous().t(),
                                  torch::cat({circuit.weights[1], circuit.weights[1]}, 1)
                                      .narrow(1, 0, 5)};
  ASSERT_FALSE(input.is_contiguous());
  ASSERT_FALSE(weights[0].is_contiguous());
  const auto actual = ei_equilibrium(input, weights, circuit.biases, circuit.activations);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_LE(relative_error(actual.rates[l], expected.rates[l]), 1e-15) << l;
  }
}

TEST(Faults, ZeroSizeBatchIsAcceptedByTheEquilibriumAndRefusedByPlasticity) {
  const auto circuit = small_circuit();
  const auto empty = circuit.input.narrow(0, 0, 0);
  const auto equilibrium =
      ei_equilibrium(empty, circuit.weights, circuit.biases, circuit.activations);
  ASSERT_EQ(equilibrium.rates.size(), 2u);
  EXPECT_EQ(equilibrium.rates[1].sizes(), (std::vector<int64_t>{0, 3}));
  const auto credits = credit_relaxation(torch::zeros({0, 3}, torch::kDouble), equilibrium.drives,
                                         circuit.weights, circuit.activations);
  EXPECT_EQ(credits.input_credit.sizes(), (std::vector<int64_t>{0, 4}));
  expect_error([&] { plasticity(empty, equilibrium.rates, equilibrium.drives, credits.credits,
                                circuit.activations, 0.1); },
               {"eiprop::plasticity", "empty batch"});
}

TEST(Faults, LowPrecisionDtypesAreRefused) {
  const auto circuit = small_circuit();
  for (const auto dtype : {at::kHalf, at::kBFloat16}) {
    std::vector<at::Tensor> weights;
    for (const auto& w : circuit.weights) weights.push_back(w.to(dtype));
    expect_error([&] { ei_equilibrium(circuit.input.to(dtype), weights, {c10::nullopt, c10::nullopt},
                                      circuit.activations); },
                 {"eiprop::ei_equilibrium", "input must be float32 or float64"});
    const Graph graph{{0, 1}, {1, 2}, circuit.activations, 2};
    expect_error([&] { graph_equilibrium(circuit.input.to(dtype), weights, {}, graph); },
                 {"eiprop::graph_equilibrium", "float32 or float64"});
  }
}

TEST(Faults, BadModuleOptionsAreRefused) {
  expect_error([] { BalancedMLP(BalancedMLPOptions({4})); },
               {"eiprop::BalancedMLP", "options.widths"});
  expect_error([] { BalancedMLP(BalancedMLPOptions({4, 0, 2})); },
               {"eiprop::BalancedMLP", "options.widths[1] must be positive"});
  expect_error(
      [] { RecurrentCircuit(RecurrentCircuitOptions({4, 3}, Graph{{0}, {1}, {"tanh"}, 1})
                                .relaxation(RelaxationOptions("newton"))); },
      {"eiprop::RecurrentCircuit", "method is 'newton'"});
  expect_error([] { RecurrentCircuit(RecurrentCircuitOptions({4, 3, 2},
                                                             Graph{{0}, {1}, {"tanh"}, 1})); },
               {"eiprop::RecurrentCircuit", "options.widths has 3 entries"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
