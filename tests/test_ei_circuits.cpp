// E/I circuits: Dale's law (sign-typed populations, the projection rule under plasticity) and the
// E/I balance statistics of eiprop::analysis::ei_balance.
#include "reference.h"

#include <eiprop/analysis/ei_balance.h>
#include <eiprop/train/dale.h>
#include <eiprop/train/simulator.h>

#include <cmath>

namespace eiprop {
namespace testing {
namespace {

// Feed-forward inhibition: the input (E) drives an inhibitory population 1 and an excitatory
// population 2; population 1 inhibits 2 and the output 3, which 2 excites.
struct DaleCircuit {
  Graph graph{{0, 0, 1, 1, 2}, {1, 2, 2, 3, 3}, {"relu", "relu", "identity"}, 3};
  std::vector<Sign> signs{Sign::excitatory, Sign::inhibitory, Sign::excitatory,
                          Sign::excitatory};
  std::vector<at::Tensor> weights;
  DaleCircuit() {
    torch::manual_seed(5);
    weights = {torch::randn({4, 6}, at::kDouble), torch::randn({8, 6}, at::kDouble),
               torch::randn({8, 4}, at::kDouble), torch::randn({3, 4}, at::kDouble),
               torch::randn({3, 8}, at::kDouble)};
    for (auto& w : weights) w.mul_(0.3);
  }
};

TEST(Dale, ProjectionIsMaxZeroForExcitatoryAndMinZeroForInhibitoryPresynapticPopulations) {
  DaleCircuit circuit;
  std::vector<at::Tensor> projected;
  for (const auto& w : circuit.weights) projected.push_back(w.clone());
  dale_project_(projected, circuit.graph, circuit.signs);
  for (size_t k = 0; k < projected.size(); ++k) {
    const auto& w = circuit.weights[k];
    const bool excitatory = circuit.signs[circuit.graph.pre[k]] == Sign::excitatory;
    // Elementwise, written out: keep the weight when its sign is allowed, else 0.
    const auto allowed = excitatory ? w >= 0 : w <= 0;
    const auto expected = torch::where(allowed, w, torch::zeros_like(w));
    EXPECT_TRUE(projected[k].equal(expected)) << "projection " << k;
    EXPECT_GT(allowed.logical_not().sum().item<int64_t>(), 0) << "projection " << k;
  }
  for (auto count : dale_violations(projected, circuit.graph, circuit.signs)) EXPECT_EQ(count, 0);
  // Projecting again changes nothing.
  std::vector<at::Tensor> twice;
  for (const auto& w : projected) twice.push_back(w.clone());
  dale_project_(twice, circuit.graph, circuit.signs);
  for (size_t k = 0; k < twice.size(); ++k) EXPECT_TRUE(twice[k].equal(projected[k]));
}

TEST(Dale, InitialiserKeepsMagnitudesAndGivesThePresynapticSign) {
  DaleCircuit circuit;
  const auto initial = dale_initialise(circuit.weights, circuit.graph, circuit.signs);
  for (size_t k = 0; k < initial.size(); ++k) {
    EXPECT_TRUE(initial[k].abs().equal(circuit.weights[k].abs())) << k;
    const double sign = circuit.signs[circuit.graph.pre[k]] == Sign::excitatory ? 1.0 : -1.0;
    EXPECT_TRUE((initial[k] * sign >= 0).all().item<bool>()) << k;
  }
  check_dale("test", initial, circuit.graph, circuit.signs);
  expect_error([&] { check_dale("my_function", circuit.weights, circuit.graph, circuit.signs); },
               {"my_function", "projection 0", "population 0", "excitatory", ">= 0"});
  expect_error([&] { dale_initialise(circuit.weights, circuit.graph, {Sign::excitatory}); },
               {"eiprop::dale_initialise", "signs", "4 populations"});
}

TEST(Dale, SignsSurviveManyPlasticityStepsWhileTheConstraintIsActive) {
  DaleCircuit circuit;
  const auto initial = dale_initialise(circuit.weights, circuit.graph, circuit.signs);
  torch::manual_seed(11);
  // Targets that the sign-free gradient reaches only by flipping signs: a teacher with the
  // opposite signs on the output projections.
  const auto inputs = torch::rand({40, 8, 6}, at::kDouble);
  const auto targets = -inputs.sum(2, true).expand({40, 8, 3}) * 0.5;
  auto options = SimulatorOptions().tau_r(1).tau_c(1).tau_W(20).eta(1).dt(1)
      .steps_per_presentation(10).record_every(1).record(RecordOptions().weights(true));

  Simulator free_circuit(initial, {}, circuit.graph, options);
  free_circuit.run(inputs, targets);
  const auto free_violations = dale_violations(free_circuit.weights(), circuit.graph, circuit.signs);
  int64_t flipped = 0;
  for (auto count : free_violations) flipped += count;
  ASSERT_GT(flipped, 0) << "the task must push weights across zero for this test to mean anything";

  Simulator dale(initial, {}, circuit.graph, options.signs(circuit.signs));
  const auto recording = dale.run(inputs, targets);
  ASSERT_EQ(recording.records(), 400);
  int64_t pinned = 0;
  for (size_t k = 0; k < recording.weights.size(); ++k) {
    const bool excitatory = circuit.signs[circuit.graph.pre[k]] == Sign::excitatory;
    const auto& history = recording.weights[k];  // every step
    EXPECT_TRUE((excitatory ? history >= 0 : history <= 0).all().item<bool>()) << "projection " << k;
    pinned += dale.weights()[k].eq(0).sum().item<int64_t>();
  }
  EXPECT_GT(pinned, 0) << "the projection rule never had to act";
}

TEST(EIBalance, CurrentsRatioAndIndexFollowTheirDefinitions) {
  auto circuit = make_circuit({6, 5, 3}, 7, {"tanh", "identity"}, true, at::kDouble, 21);
  const auto equilibrium = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                          circuit.activations);
  std::vector<at::Tensor> rates{circuit.input};
  rates.insert(rates.end(), equilibrium.rates.begin(), equilibrium.rates.end());
  const auto balance = analysis::ei_balance(rates, circuit.weights,
                                            analysis::layered_graph(circuit.activations));
  ASSERT_EQ(balance.size(), 2u);
  for (int64_t l = 0; l < 2; ++l) {
    const auto& b = balance[l];
    EXPECT_EQ(b.population, l + 1);
    // Per synapse contribution W_ij r_j, split by sign and averaged over the batch.
    const auto contributions = rates[l].unsqueeze(1) * circuit.weights[l].unsqueeze(0);
    const auto e = contributions.clamp_min(0).sum(2).mean(0);
    const auto i = (-contributions).clamp_min(0).sum(2).mean(0);
    EXPECT_LE(relative_error(b.excitatory, e), 1e-13);
    EXPECT_LE(relative_error(b.inhibitory, i), 1e-13);
    EXPECT_LE(relative_error(b.ratio, i / e), 1e-13);
    EXPECT_LE(relative_error(b.balance_index, (e - i).abs() / (e + i)), 1e-13);
    EXPECT_NEAR(b.mean_excitatory, e.mean().item<double>(), 1e-14);
    EXPECT_NEAR(b.ratio_of_means, i.mean().item<double>() / e.mean().item<double>(), 1e-13);
    EXPECT_NEAR(b.mean_balance_index, ((e - i).abs() / (e + i)).mean().item<double>(), 1e-14);
    EXPECT_EQ(b.silent, 0);
  }
}

TEST(EIBalance, SilentAndOneSidedNeurons) {
  // Neuron 0 only excited, neuron 1 only inhibited, neuron 2 balanced, neuron 3 silent.
  const auto rates = torch::ones({2, 2}, at::kDouble);
  const auto weight = torch::tensor({{1.0, 0.5}, {-1.0, -1.0}, {1.0, -1.0}, {0.0, 0.0}},
                                    at::kDouble);
  Graph graph{{0}, {1}, {"identity"}, 1};
  const auto b = analysis::ei_balance({rates, weight.matmul(rates.t()).t()}, {weight}, graph)[0];
  EXPECT_DOUBLE_EQ(b.balance_index[0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(b.ratio[0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(b.balance_index[1].item<double>(), 1.0);
  EXPECT_TRUE(std::isinf(b.ratio[1].item<double>()));
  EXPECT_DOUBLE_EQ(b.balance_index[2].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(b.ratio[2].item<double>(), 1.0);
  EXPECT_TRUE(std::isnan(b.balance_index[3].item<double>()));
  EXPECT_EQ(b.silent, 1);
  EXPECT_DOUBLE_EQ(b.mean_balance_index, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(b.mean_excitatory, (1.5 + 0 + 1 + 0) / 4);
  expect_error([&] { analysis::ei_balance({rates}, {weight}, graph); },
               {"eiprop::analysis::ei_balance", "rates"});
  expect_error([&] { analysis::ei_balance({torch::ones({2, 3}, at::kDouble), rates}, {weight}, graph); },
               {"eiprop::analysis::ei_balance", "weights[0]"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
