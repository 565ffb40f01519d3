// The relaxation methods (docs/theory.md §2-3): sweep, jacobi and euler reach the same fixed
// point, with the iteration counts the theory predicts, and a solve that runs out of iterations is
// an error.
#include "reference.h"

#include <eiprop/analysis/ei_balance.h>

namespace eiprop {
namespace testing {
namespace {

LayeredCircuit five_layers() {
  return make_circuit({6, 7, 5, 4, 3, 2}, 9, {"tanh", "sigmoid", "elu", "softplus", "identity"},
                      true, at::kDouble, 21);
}

TEST(Methods, SweepIsOnePassAndJacobiIsExactAfterDepthIterations) {
  const auto circuit = five_layers();
  const auto sweep = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations, RelaxationOptions("sweep"));
  const auto jacobi = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                     circuit.activations, RelaxationOptions("jacobi"));
  EXPECT_EQ(sweep.iterations, 1);
  EXPECT_EQ(jacobi.iterations, 5);
  EXPECT_EQ(jacobi.residual, 0.0);
  for (size_t l = 0; l < 5; ++l) EXPECT_TRUE(at::equal(sweep.rates[l], jacobi.rates[l]));

  const auto error = circuit.target - sweep.rates.back();
  const auto credits_sweep = credit_relaxation(error, sweep.drives, circuit.weights,
                                               circuit.activations, RelaxationOptions("sweep"));
  const auto credits_jacobi = credit_relaxation(
      error, sweep.drives, circuit.weights, circuit.activations, RelaxationOptions("jacobi"));
  EXPECT_EQ(credits_sweep.iterations, 1);
  EXPECT_EQ(credits_jacobi.iterations, 5);
  EXPECT_TRUE(at::equal(credits_sweep.input_credit, credits_jacobi.input_credit));
  EXPECT_TRUE(at::equal(credits_sweep.credits.back(), error));
}

TEST(Methods, EulerConvergesGeometricallyToTheSameFixedPoint) {
  const auto circuit = five_layers();
  const auto sweep = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations);
  int64_t previous_iterations = 0;
  for (double dt : {1.0, 0.5, 0.2}) {
    const auto euler = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                      circuit.activations,
                                      RelaxationOptions("euler").dt(dt).tol(1e-13));
    EXPECT_LE(euler.residual, 1e-13);
    // Smaller steps need more iterations; dt = 1 is exact after depth + 1 checks.
    EXPECT_GT(euler.iterations, previous_iterations) << dt;
    previous_iterations = euler.iterations;
    for (size_t l = 0; l < 5; ++l) {
      EXPECT_LE(relative_error(euler.rates[l], sweep.rates[l]), 1e-11) << "dt " << dt;
    }
  }
}

TEST(Methods, EulerDefaultsConverge) {
  const auto circuit = five_layers();
  const auto euler = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations, RelaxationOptions("euler").dt(0.3));
  EXPECT_LE(euler.residual, 1e-12);
  EXPECT_GT(euler.iterations, 5);
}

TEST(Methods, EulerOutOfIterationsIsAnErrorNotAWrongAnswer) {
  const auto circuit = five_layers();
  expect_error(
      [&] {
        ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations,
                       RelaxationOptions("euler").dt(0.1).max_iters(3));
      },
      {"eiprop::ei_equilibrium", "did not converge", "max_iters=3", "euler"});
  const auto sweep = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations);
  expect_error(
      [&] {
        credit_relaxation(circuit.target, sweep.drives, circuit.weights, circuit.activations,
                          RelaxationOptions("euler").dt(0.1).max_iters(3));
      },
      {"eiprop::credit_relaxation", "did not converge", "max_iters=3"});
}

// jacobi and anderson take the exact wavefront on an acyclic circuit: a max_iters below the depth
// is refused naming it (not exceeded and reported as more iterations than allowed); the depth
// itself is enough.
TEST(Methods, MaxItersBelowAnAcyclicCircuitsDepthIsRefused) {
  const auto circuit = five_layers();
  for (const std::string method : {"jacobi", "anderson"}) {
    expect_error([&] { ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                      circuit.activations, RelaxationOptions(method).max_iters(1)); },
                 {"eiprop::ei_equilibrium", "max_iters=1 is below the circuit's depth 5"});
    const auto equilibrium = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                            circuit.activations,
                                            RelaxationOptions(method).max_iters(5));
    EXPECT_EQ(equilibrium.iterations, 5) << method;
    const auto error = circuit.target - equilibrium.rates.back();
    expect_error([&] { credit_relaxation(error, equilibrium.drives, circuit.weights,
                                         circuit.activations,
                                         RelaxationOptions(method).max_iters(4)); },
                 {"eiprop::credit_relaxation", "max_iters=4 is below the circuit's depth 5"});
    const Graph graph = analysis::layered_graph(circuit.activations);
    expect_error([&] { graph_equilibrium(circuit.input, circuit.weights, circuit.biases, graph,
                                         RelaxationOptions(method).max_iters(2)); },
                 {"eiprop::graph_equilibrium", "max_iters=2 is below the circuit's depth 5"});
  }
}

TEST(Methods, ZeroBatchGivesEmptyEquilibria) {
  auto circuit = five_layers();
  circuit.input = circuit.input.narrow(0, 0, 0);
  for (const auto& method : kMethods) {
    const auto equilibrium = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                            circuit.activations, RelaxationOptions(method));
    EXPECT_EQ(equilibrium.rates.back().sizes(), (at::IntArrayRef{0, 2})) << method;
  }
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
