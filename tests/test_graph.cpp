// The graph operators (docs/theory.md §1-4 on any circuit graph): a layered chain gives the
// layered ops' numbers; acyclic graphs equal autograd; recurrent circuits equal the
// implicit-differentiation gradient computed with a dense linear solve (float64); Anderson saves
// iterations near the edge of stability; unstable circuits are reported as diverged; the module's
// two learning modes agree.
#include "graph_reference.h"

#include <eiprop/analysis/ei_balance.h>

#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <iostream>
#include <limits>
#include <map>

namespace eiprop {
namespace testing {
namespace {

constexpr double kLr = 0.05;

// The layered chain 0 -> 1 -> ... -> L as a graph.
Graph chain(const std::vector<std::string>& activations) {
  return analysis::layered_graph(activations);
}

// 0 -> 1, 0 -> 2, 1 -> 2, 1 -> 3, 2 -> 3: skip connections, population 2 at depth 2.
Graph diamond(const std::string& activation) {
  return Graph{{0, 0, 1, 1, 2}, {1, 2, 2, 3, 3}, {activation, activation, "identity"}, 3};
}

// 0 -> 1, 1 -> 1 (recurrent), 1 -> 2, 2 -> 1 (feedback from the output), 2 -> 2.
Graph recurrent(const std::string& activation) {
  return Graph{{0, 1, 1, 2, 2}, {1, 1, 2, 1, 2}, {activation, activation}, 2};
}

RelaxationOptions tight(const std::string& method) {
  RelaxationOptions options(method);
  options.tol(1e-14).max_iters(20000);
  if (method == "euler") options.dt(0.5);
  return options;
}

struct RuleUpdates {
  Equilibrium equilibrium;
  Credits credits;
  Updates updates;
};

RuleUpdates run_rule(const GraphCircuit& circuit, const RelaxationOptions& options) {
  RuleUpdates rule;
  rule.equilibrium = graph_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                       circuit.graph, options);
  const auto output_error = circuit.target - rule.equilibrium.rates[circuit.graph.output - 1];
  rule.credits = graph_credit_relaxation(output_error, rule.equilibrium.drives, circuit.weights,
                                         circuit.graph, options);
  rule.updates = graph_plasticity(circuit.input, rule.equilibrium.rates, rule.equilibrium.drives,
                                  rule.credits.credits, circuit.graph, kLr);
  return rule;
}

// updates = -lr dLoss/dtheta; input_credit = -B dLoss/dinput.
// rate_tolerance: a solve stopped at relative residual tol is within about tol / (1 - rho) of the
// fixed point, rho being the iteration's contraction factor.
void expect_gradients(const GraphCircuit& circuit, const RuleUpdates& rule,
                      const ImplicitGradients& expected, double tolerance,
                      const std::string& label, double rate_tolerance = 1e-12) {
  for (size_t p = 0; p < expected.rates.size(); ++p) {
    EXPECT_LE(relative_error(rule.equilibrium.rates[p], expected.rates[p]), rate_tolerance)
        << label << ": rates of population " << p + 1;
  }
  for (size_t k = 0; k < expected.weight_grads.size(); ++k) {
    EXPECT_LE(relative_error(rule.updates.weight_updates[k], -kLr * expected.weight_grads[k]),
              tolerance)
        << label << ": weight update of projection " << k;
  }
  for (size_t p = 0; p < expected.bias_grads.size(); ++p) {
    if (!expected.bias_grads[p].defined()) continue;
    EXPECT_LE(relative_error(rule.updates.bias_updates[p], -kLr * expected.bias_grads[p]),
              tolerance)
        << label << ": bias update of population " << p + 1;
  }
  const double batch = static_cast<double>(circuit.input.size(0));
  EXPECT_LE(relative_error(rule.credits.input_credit, -batch * expected.input_grad), tolerance)
      << label << ": input credit";
  double worst = relative_error(rule.credits.input_credit, -batch * expected.input_grad);
  for (size_t k = 0; k < expected.weight_grads.size(); ++k) {
    worst = std::max(worst,
                     relative_error(rule.updates.weight_updates[k], -kLr * expected.weight_grads[k]));
  }
  std::cout << "[ worst relative error ] " << label << ": " << worst << "\n";
}

TEST(GraphOps, ChainGivesTheLayeredOperatorsNumbers) {
  for (const auto& activation : kActivations) {
    const std::vector<std::string> activations{activation, activation, "identity"};
    const auto layered = make_circuit({7, 9, 5, 3}, 6, activations, true, at::kDouble, 11);
    const auto graph = chain(activations);
    for (const std::string method : {"sweep", "jacobi", "euler"}) {
      auto options = RelaxationOptions(method);
      if (method == "euler") options.dt(0.5).tol(1e-14).max_iters(20000);
      const auto expected = ei_equilibrium(layered.input, layered.weights, layered.biases,
                                           activations, options);
      const auto actual =
          graph_equilibrium(layered.input, layered.weights, layered.biases, graph, options);
      const auto error = layered.target - expected.rates.back();
      const auto expected_credits =
          credit_relaxation(error, expected.drives, layered.weights, activations, options);
      const auto actual_credits =
          graph_credit_relaxation(error, actual.drives, layered.weights, graph, options);
      const auto expected_updates = plasticity(layered.input, expected.rates, expected.drives,
                                               expected_credits.credits, activations, kLr);
      const auto actual_updates = graph_plasticity(layered.input, actual.rates, actual.drives,
                                                   actual_credits.credits, graph, kLr);
      EXPECT_EQ(actual.iterations, expected.iterations) << activation << " " << method;
      EXPECT_TRUE(actual.converged);
      for (size_t l = 0; l < activations.size(); ++l) {
        EXPECT_TRUE(torch::equal(actual.rates[l], expected.rates[l])) << activation << method;
        EXPECT_TRUE(torch::equal(actual_credits.credits[l], expected_credits.credits[l]))
            << activation << " " << method << " layer " << l;
        EXPECT_TRUE(torch::equal(actual_updates.weight_updates[l], expected_updates.weight_updates[l]));
        EXPECT_TRUE(torch::equal(actual_updates.bias_updates[l], expected_updates.bias_updates[l]));
      }
      EXPECT_TRUE(torch::equal(actual_credits.input_credit, expected_credits.input_credit));
    }
  }
}

TEST(GraphOps, AcyclicGraphEqualsAutograd) {
  for (const auto& activation : kActivations) {
    const auto circuit =
        make_graph_circuit(diamond(activation), {6, 8, 7, 4}, 5, at::kDouble, 3, 1.0);
    // On an acyclic graph, 4 synchronous updates reach the feed-forward rates exactly, and
    // autograd through them is backprop.
    const auto expected = implicit_gradients(circuit, 4);
    for (const std::string method : {"sweep", "jacobi", "euler", "anderson"}) {
      const auto rule = run_rule(circuit, tight(method));
      expect_gradients(circuit, rule, expected, method == "euler" ? 1e-9 : 1e-10,
                       activation + " " + method);
    }
  }
}

TEST(GraphOps, RecurrentCircuitEqualsDenseImplicitGradient) {
  for (const std::string activation : {"tanh", "sigmoid", "softplus", "elu", "identity"}) {
    for (const bool with_bias : {true, false}) {
      const auto circuit = make_graph_circuit(recurrent(activation), {5, 12, 4}, 7, at::kDouble,
                                              17, /*recurrent_gain=*/0.4, with_bias);
      const auto expected = implicit_gradients(circuit, 3000);
      EXPECT_LT(jacobian_spectral_radius(circuit, expected.rates), 0.95) << activation;
      for (const std::string method : {"jacobi", "euler", "anderson"}) {
        const auto rule = run_rule(circuit, tight(method));
        EXPECT_TRUE(rule.equilibrium.converged);
        EXPECT_GT(rule.equilibrium.iterations, 4) << "a recurrent circuit needs iterations";
        expect_gradients(circuit, rule, expected, 1e-9,
                         activation + " " + method + (with_bias ? " bias" : " no bias"));
      }
    }
  }
}

TEST(GraphOps, SweepIsRefusedOnACycle) {
  const auto circuit = make_graph_circuit(recurrent("tanh"), {5, 6, 4}, 3, at::kDouble, 1, 0.5);
  expect_error([&] { graph_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                       circuit.graph, RelaxationOptions("sweep")); },
               {"eiprop::graph_equilibrium", "sweep", "acyclic", "jacobi"});
}

TEST(GraphCircuit, BackwardIsTheImplicitGradient) {
  for (const std::string method : {"jacobi", "anderson"}) {
    const auto circuit = make_graph_circuit(recurrent("tanh"), {5, 10, 3}, 6, at::kDouble, 5, 0.4);
    const auto expected = implicit_gradients(circuit, 3000);
    const auto input = circuit.input.clone().requires_grad_(true);
    std::vector<at::Tensor> weights;
    std::vector<c10::optional<at::Tensor>> biases;
    for (const auto& w : circuit.weights) weights.push_back(w.clone().requires_grad_(true));
    for (const auto& b : circuit.biases) biases.emplace_back(b->clone().requires_grad_(true));
    const auto output = graph_circuit(input, weights, biases, circuit.graph, tight(method));
    const auto loss = (circuit.target - output).pow(2).sum() / (2.0 * input.size(0));
    loss.backward();
    for (size_t k = 0; k < weights.size(); ++k) {
      EXPECT_LE(relative_error(weights[k].grad(), expected.weight_grads[k]), 1e-9)
          << method << " projection " << k;
    }
    for (size_t p = 0; p < biases.size(); ++p) {
      EXPECT_LE(relative_error(biases[p]->grad(), expected.bias_grads[p]), 1e-9) << method;
    }
    EXPECT_LE(relative_error(input.grad(), expected.input_grad), 1e-9) << method;
  }
}

// A recurrent population whose iteration map has spectral radius close to 1: jacobi contracts by
// about that factor per iteration, Anderson by far more.
TEST(GraphOps, AndersonNeedsFewerIterationsNearTheEdgeOfStability) {
  Graph graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};
  auto circuit = make_graph_circuit(graph, {4, 24, 3}, 8, at::kDouble, 23, 1.0);
  // Scale the recurrent weight to spectral radius 0.98 and keep the drives small, so that
  // f'(u) ~ 1 and the Jacobian's spectral radius sits just below 1.
  const auto radius = torch::linalg_eigvals(circuit.weights[1]).abs().max().item<double>();
  circuit.weights[1] = circuit.weights[1] * (0.98 / radius);
  circuit.input = circuit.input * 0.05;
  for (auto& b : circuit.biases) *b = *b * 0.05;
  const auto expected = implicit_gradients(circuit, 20000);
  const double spectral = jacobian_spectral_radius(circuit, expected.rates);
  EXPECT_GT(spectral, 0.95);
  EXPECT_LT(spectral, 1.0);

  std::map<std::string, int64_t> iterations;
  for (const std::string method : {"jacobi", "anderson"}) {
    auto options = tight(method);
    options.tol(1e-12);
    const auto rule = run_rule(circuit, options);
    iterations[method + " firing"] = rule.equilibrium.iterations;
    iterations[method + " credit"] = rule.credits.iterations;
    // tol 1e-12 at rho ~ 0.98: the rates are within ~5e-11 of the fixed point.
    expect_gradients(circuit, rule, expected, 1e-8, method, /*rate_tolerance=*/1e-10);
  }
  for (const auto& entry : iterations) {
    RecordProperty(entry.first, static_cast<int>(entry.second));
    std::cout << "[ iterations ] " << entry.first << ": " << entry.second
              << " (Jacobian spectral radius " << spectral << ")\n";
  }
  EXPECT_LT(3 * iterations["anderson firing"], iterations["jacobi firing"]);
  EXPECT_LT(3 * iterations["anderson credit"], iterations["jacobi credit"]);
}

TEST(GraphOps, UnstableCircuitIsReportedAsDiverged) {
  Graph graph{{0, 1, 1}, {1, 1, 2}, {"identity", "identity"}, 2};
  auto circuit = make_graph_circuit(graph, {4, 16, 3}, 4, at::kDouble, 29, 1.0);
  const auto radius = torch::linalg_eigvals(circuit.weights[1]).abs().max().item<double>();
  circuit.weights[1] = circuit.weights[1] * (1.5 / radius);
  for (const std::string method : {"jacobi", "anderson", "euler"}) {
    expect_error([&] { graph_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                         circuit.graph, RelaxationOptions(method)); },
                 {"eiprop::graph_equilibrium", "the firing rates diverged", method,
                  "contraction factor", "unstable"});
  }
  // strict = false: the results come back flagged instead.
  auto options = RelaxationOptions("jacobi");
  options.strict(false);
  const auto flagged =
      graph_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.graph, options);
  EXPECT_FALSE(flagged.converged);
  EXPECT_LT(flagged.iterations, 1000) << "divergence is detected, not looped on to max_iters";
  // A stable circuit that merely needs more iterations is flagged too, not refused.
  const auto stable = make_graph_circuit(recurrent("tanh"), {5, 6, 4}, 3, at::kDouble, 1, 0.5);
  options.max_iters(3);
  const auto unfinished =
      graph_equilibrium(stable.input, stable.weights, stable.biases, stable.graph, options);
  EXPECT_FALSE(unfinished.converged);
  EXPECT_EQ(unfinished.iterations, 3);
  expect_error([&] { graph_equilibrium(stable.input, stable.weights, stable.biases, stable.graph,
                                       RelaxationOptions("jacobi").max_iters(3)); },
               {"did not converge", "max_iters=3"});
}

// The layered relaxations are the graph ones on the chain 0 -> 1 -> ... -> L: strict(false)
// flags an unconverged solve there too, with the results of the graph op on Graph::chain.
TEST(LayeredOps, StrictFalseFlagsAnUnconvergedSolveAsTheGraphOpsDo) {
  const auto graph = Graph::chain({"tanh", "tanh", "identity"});
  const auto chain = make_graph_circuit(graph, {5, 7, 6, 3}, 4, at::kDouble, 11, 1.0);
  // euler does not take the exact wavefront: 3 steps leave it short of the equilibrium.
  const auto euler = RelaxationOptions("euler").dt(0.5).max_iters(3);
  expect_error([&] { ei_equilibrium(chain.input, chain.weights, chain.biases, graph.activations,
                                    euler); },
               {"eiprop::ei_equilibrium", "did not converge", "max_iters=3"});
  auto lenient = euler;
  lenient.strict(false);
  const auto flagged =
      ei_equilibrium(chain.input, chain.weights, chain.biases, graph.activations, lenient);
  EXPECT_FALSE(flagged.converged);
  EXPECT_EQ(flagged.iterations, 3);
  const auto as_graph = graph_equilibrium(chain.input, chain.weights, chain.biases, graph, lenient);
  ASSERT_EQ(flagged.rates.size(), as_graph.rates.size());
  for (size_t i = 0; i < flagged.rates.size(); ++i) {
    EXPECT_TRUE(torch::equal(flagged.rates[i], as_graph.rates[i])) << "population " << i + 1;
  }
  // A converged solve says so, strict or not.
  const auto solved = ei_equilibrium(chain.input, chain.weights, chain.biases, graph.activations);
  EXPECT_TRUE(solved.converged);

  const auto error = torch::randn({4, 3}, torch::kDouble);
  expect_error([&] { credit_relaxation(error, solved.drives, chain.weights, graph.activations,
                                       euler); },
               {"eiprop::credit_relaxation", "did not converge", "max_iters=3"});
  const auto credits =
      credit_relaxation(error, solved.drives, chain.weights, graph.activations, lenient);
  EXPECT_FALSE(credits.converged);
  EXPECT_EQ(credits.iterations, 3);
}

// Where only rates come back (the differentiable circuits, the modules), there is no flag to
// carry: strict(false) is refused, not ignored.
TEST(LayeredOps, StrictFalseIsRefusedWhereOnlyRatesComeBack) {
  const auto graph = Graph::chain({"tanh", "identity"});
  const auto chain = make_graph_circuit(graph, {5, 6, 3}, 4, at::kDouble, 12, 1.0);
  auto lenient = RelaxationOptions("sweep");
  lenient.strict(false);
  const std::vector<std::string> refused{"strict(false) is not available",
                                         "no converged flag"};
  auto expected = [&](const char* where) {
    auto pieces = refused;
    pieces.insert(pieces.begin(), where);
    return pieces;
  };
  expect_error([&] { circuit(chain.input, chain.weights, chain.biases, graph.activations,
                             lenient); },
               expected("eiprop::circuit"));
  expect_error([&] { graph_circuit(chain.input, chain.weights, chain.biases, graph, lenient); },
               expected("eiprop::graph_circuit"));
  expect_error([&] { BalancedMLP(BalancedMLPOptions({5, 6, 3}).relaxation(lenient)); },
               expected("eiprop::BalancedMLP"));
  expect_error([&] { RecurrentCircuit(RecurrentCircuitOptions({5, 6, 3}, graph)
                                          .relaxation(lenient)); },
               expected("eiprop::RecurrentCircuit"));
}

// A chain whose rates stay of order one all the way down (orthogonal weights of gain 1.5, tanh),
// so a change takes the chain's whole depth to cross it: populations 1..layers, biases
// N(0, 0.1^2).
struct DeepChain {
  at::Tensor input;
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
};

DeepChain deep_chain(int64_t layers, uint64_t seed) {
  torch::manual_seed(seed);
  DeepChain chain{torch::randn({2, 3}, torch::kDouble), {}, {}};
  for (int64_t l = 0; l < layers; ++l) {
    chain.weights.push_back(std::get<0>(at::linalg_qr(torch::randn({3, 3}, torch::kDouble))) * 1.5);
    chain.biases.push_back(torch::randn({3}, torch::kDouble) * 0.1);
  }
  return chain;
}

// Deep circuits are not refused for their transient: the stagnation test waits in proportion to
// the circuit's depth (with the old fixed 200-iteration window this chain was refused as
// diverged at iteration 204).
TEST(GraphOps, DeepChainByEulerConvergesInsteadOfBeingCalledDiverged) {
  std::vector<std::string> activations(300, "tanh");
  activations.back() = "identity";
  const auto chain = deep_chain(300, 0);
  const auto exact = ei_equilibrium(chain.input, chain.weights, chain.biases, activations);
  const auto euler = ei_equilibrium(chain.input, chain.weights, chain.biases, activations,
                                    RelaxationOptions("euler"));
  EXPECT_GT(euler.iterations, 250) << "the transient crosses the whole chain";
  EXPECT_LE(relative_error(euler.rates.back(), exact.rates.back()), 1e-10);
}

// A 250-population chain ending in a 0.1 I self-loop: jacobi waits out the chain's transient,
// and anderson's stability probe measures the recurrent part only, so its radius estimate is the
// loop's, not the chain's transient growth.
TEST(GraphOps, DeepChainIntoALoopConvergesByJacobiAndAnderson) {
  const auto chain = deep_chain(250, 4);
  Graph graph;
  for (int64_t p = 0; p < 250; ++p) {
    graph.pre.push_back(p);
    graph.post.push_back(p + 1);
  }
  graph.pre.push_back(250);
  graph.post.push_back(250);
  graph.activations.assign(250, "tanh");
  graph.output = 250;
  auto weights = chain.weights;
  weights.push_back(0.1 * torch::eye(3, torch::kDouble));
  std::vector<at::Tensor> outputs;
  for (const std::string method : {"jacobi", "anderson"}) {
    const auto equilibrium =
        graph_equilibrium(chain.input, weights, chain.biases, graph, tight(method));
    EXPECT_TRUE(equilibrium.converged) << method;
    outputs.push_back(equilibrium.rates.back());
  }
  EXPECT_LE(relative_error(outputs[1], outputs[0]), 1e-10);
}

// Anderson handles what jacobi and euler handle: a batch of 0 and a population of width 0 (its
// stability probe skips populations without entries).
TEST(GraphOps, AndersonAcceptsAnEmptyBatchAndAZeroWidthPopulation) {
  const auto circuit = make_graph_circuit(recurrent("tanh"), {5, 6, 4}, 3, at::kDouble, 1, 0.5);
  const auto empty_batch = circuit.input.narrow(0, 0, 0);
  for (const std::string method : {"jacobi", "euler", "anderson"}) {
    const auto equilibrium = graph_equilibrium(empty_batch, circuit.weights, circuit.biases,
                                               circuit.graph, tight(method));
    EXPECT_EQ(equilibrium.rates.back().sizes(), (at::IntArrayRef{0, 4})) << method;
  }
  // Population 1 (recurrent) of width 0: 0 -> 1 is [0, 5], 1 -> 1 [0, 0], 1 -> 2 [4, 0],
  // 2 -> 1 [0, 4]; population 2 then sees only its own recurrence and its bias.
  const std::vector<at::Tensor> weights{
      torch::zeros({0, 5}, torch::kDouble), torch::zeros({0, 0}, torch::kDouble),
      torch::zeros({4, 0}, torch::kDouble), torch::zeros({0, 4}, torch::kDouble),
      circuit.weights[4]};
  const std::vector<c10::optional<at::Tensor>> biases{torch::zeros({0}, torch::kDouble),
                                                      circuit.biases[1]};
  const auto reference = graph_equilibrium(circuit.input, weights, biases, circuit.graph,
                                           tight("jacobi"));
  const auto anderson = graph_equilibrium(circuit.input, weights, biases, circuit.graph,
                                          tight("anderson"));
  EXPECT_EQ(anderson.rates[0].sizes(), (at::IntArrayRef{3, 0}));
  EXPECT_LE(relative_error(anderson.rates[1], reference.rates[1]), 1e-10);
}

TEST(GraphOps, NonFiniteValuesNameThePopulation) {
  auto circuit = make_graph_circuit(recurrent("tanh"), {5, 6, 4}, 3, at::kDouble, 1, 0.5);
  auto weights = circuit.weights;
  weights[2] = weights[2].clone();
  weights[2][0][0] = std::numeric_limits<double>::infinity();  // 1 -> 2
  for (const std::string method : {"jacobi", "anderson"}) {
    expect_error([&] { graph_equilibrium(circuit.input, weights, circuit.biases, circuit.graph,
                                         RelaxationOptions(method)); },
                 {"eiprop::graph_equilibrium", "the firing rates of population 2",
                  "not finite"});
  }
  const auto layered = make_circuit({4, 5, 3}, 2, {"tanh", "identity"}, true, at::kDouble, 3);
  auto input = layered.input.clone();
  input[1][2] = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { ei_equilibrium(input, layered.weights, layered.biases, layered.activations); },
               {"eiprop::ei_equilibrium", "the input (population 0) holds NaN or Inf"});
}

TEST(GraphOps, MalformedGraphsAreRefused) {
  const auto c = make_graph_circuit(recurrent("tanh"), {5, 6, 4}, 3, at::kDouble, 1, 0.5);
  auto call = [&](Graph graph, std::vector<at::Tensor> weights) {
    graph_equilibrium(c.input, weights, c.biases, graph, RelaxationOptions("jacobi"));
  };
  auto graph = c.graph;
  graph.pre[1] = 3;
  expect_error([&] { call(graph, c.weights); }, {"pre[1] (projection 1) is 3", "0..2"});
  graph = c.graph;
  graph.post[0] = 0;
  expect_error([&] { call(graph, c.weights); }, {"post[0]", "clamped"});
  graph = c.graph;
  graph.pre[4] = 1;  // 1 -> 2 twice
  expect_error([&] { call(graph, c.weights); }, {"projections 2 and 4", "merge"});
  Graph orphan{{0, 1}, {1, 1}, {"tanh", "tanh"}, 2};
  expect_error([&] { call(orphan, {c.weights[0], c.weights[1]}); },
               {"population 2 receives no projection"});
  Graph deaf{{1, 2}, {2, 1}, {"tanh", "tanh"}, 2};
  expect_error([&] { call(deaf, {c.weights[2], c.weights[3]}); },
               {"no projection leaves the input population 0"});
  auto weights = c.weights;
  weights[3] = torch::zeros({6, 5}, torch::kDouble);  // 2 -> 1 must be [6, 4]
  expect_error([&] { call(c.graph, weights); },
               {"weights[3] (projection 3: population 2 -> 1) (its columns)", "population 2"});
  expect_error([&] { call(c.graph, {c.weights[0]}); }, {"pre has 5 entries but weights has 1"});
  expect_error(
      [&] {
        graph_credit_relaxation(torch::zeros({3, 4}, torch::kDouble), {}, c.weights,
                                Graph{c.graph.pre, c.graph.post, c.graph.activations, 3});
      },
      {"eiprop::graph_credit_relaxation", "output is 3", "1..2"});
}

RecurrentCircuit make_module(Learning learning, uint64_t seed) {
  torch::manual_seed(seed);
  RecurrentCircuit module(RecurrentCircuitOptions({6, 10, 3}, recurrent("tanh"))
                              .learning(learning)
                              .relaxation(RelaxationOptions("anderson").tol(1e-14)));
  module->to(torch::kDouble);
  return module;
}

TEST(RecurrentCircuitModule, CreditAndAutogradModesAgree) {
  auto credit = make_module(Learning::credit, 7);
  auto unrolled = make_module(Learning::autograd, 7);
  unrolled->options.relaxation(RelaxationOptions("jacobi").tol(1e-15).max_iters(5000));
  const auto input = torch::randn({9, 6}, torch::kDouble);
  const auto target = torch::randn({9, 3}, torch::kDouble);
  for (RecurrentCircuit module : {credit, unrolled}) {
    const auto loss = (target - module->forward(input)).pow(2).mean();
    loss.backward();
  }
  const auto credit_parameters = credit->named_parameters();
  const auto unrolled_parameters = unrolled->named_parameters();
  ASSERT_EQ(credit_parameters.size(), 7u);  // 5 projections, 2 biases
  for (const auto& entry : credit_parameters) {
    const auto& other = unrolled_parameters[entry.key()];
    EXPECT_TRUE(torch::equal(entry.value(), other)) << entry.key();
    EXPECT_LE(relative_error(entry.value().grad(), other.grad()), 1e-9) << entry.key();
  }
}

TEST(RecurrentCircuitModule, TrainsWithAnOptimizer) {
  auto module = make_module(Learning::credit, 3);
  torch::optim::SGD optimizer(module->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const auto input = torch::randn({32, 6}, torch::kDouble);
  const auto target = torch::tanh(input.narrow(1, 0, 3) - input.narrow(1, 3, 3));
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 200; ++step) {
    optimizer.zero_grad();
    const auto loss = (target - module->forward(input)).pow(2).mean();
    loss.backward();
    optimizer.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, 0.2 * first);
}

TEST(RecurrentCircuitModule, ParametersCloneAndPrint) {
  auto module = make_module(Learning::credit, 1);
  const auto names = module->named_parameters().keys();
  EXPECT_EQ(names, (std::vector<std::string>{"weight_0_1", "weight_1_1", "weight_1_2",
                                             "weight_2_1", "weight_2_2", "bias_1", "bias_2"}));
  auto copy = std::dynamic_pointer_cast<RecurrentCircuitImpl>(module->clone());
  ASSERT_TRUE(copy);
  const auto input = torch::randn({2, 6}, torch::kDouble);
  EXPECT_TRUE(torch::equal(copy->forward(input), module->forward(input)));
  std::ostringstream printed;
  printed << *module;
  EXPECT_NE(printed.str().find("projections=[0->1, 1->1, 1->2, 2->1, 2->2]"), std::string::npos)
      << printed.str();
  expect_error([] { RecurrentCircuit(RecurrentCircuitOptions({4, 3}, Graph{{0}, {1}, {"tanh"}, 2})); },
               {"eiprop::RecurrentCircuit", "output is 2"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
