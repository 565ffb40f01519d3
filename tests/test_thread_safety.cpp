// The operators and modules called concurrently from several threads, each on its own tensors
// and modules, give bitwise the results of the same calls made one after another.
//
// LibTorch's intra-op thread count is left at its default in both runs: every worker's kernels
// run with the same intra-op setting sequentially and concurrently, and ATen's CPU reductions
// and GEMMs are deterministic for a fixed thread count, so any difference is a data race.
#include "reference.h"

#include <thread>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

namespace eiprop {
namespace testing {
namespace {

namespace F = torch::nn::functional;

constexpr int kWorkers = 6;
constexpr int kRepeats = 3;

// Everything one worker computes: the three operators, the differentiable circuit with its
// backward, a BalancedMLP trained by the rule for a few SGD steps, and PlasticityRule steps.
std::vector<at::Tensor> work(int worker) {
  const auto& activation = kActivations[worker % kActivations.size()];
  const auto& method = kMethods[worker % kMethods.size()];
  const auto dtype = worker % 2 == 0 ? at::kDouble : at::kFloat;
  const auto circuit = make_circuit({9, 12, 7, 5}, 11, {activation, "tanh", "identity"}, true,
                                    dtype, 100 + worker);
  std::vector<at::Tensor> results;
  for (int repeat = 0; repeat < kRepeats; ++repeat) {
    const RelaxationOptions options =
        RelaxationOptions(method).dt(method == "euler" ? 0.5 : 1.0).max_iters(2000);
    const auto equilibrium =
        ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations,
                       options);
    const auto credits =
        credit_relaxation(circuit.target - equilibrium.rates.back(), equilibrium.drives,
                          circuit.weights, circuit.activations, options);
    const auto updates = plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                    credits.credits, circuit.activations, 0.1);
    for (const auto& tensors : {equilibrium.rates, credits.credits, updates.weight_updates,
                                updates.bias_updates}) {
      results.insert(results.end(), tensors.begin(), tensors.end());
    }
    results.push_back(credits.input_credit);
    const auto currents = ei_currents(circuit.input, circuit.weights[0]);
    results.push_back(currents.excitatory);
    results.push_back(currents.inhibitory);

    std::vector<at::Tensor> weights;
    for (const auto& weight : circuit.weights) weights.push_back(weight.clone().requires_grad_());
    const auto input = circuit.input.clone().requires_grad_();
    const auto output = eiprop::circuit(input, weights, circuit.biases, circuit.activations,
                                        options);
    output.pow(2).sum().backward();
    results.push_back(output.detach());
    results.push_back(input.grad());
    for (const auto& weight : weights) results.push_back(weight.grad());
  }

  // Module training: parameters drawn from a generator of the worker's own (manual_seed is
  // global and would be a race between the workers, not in the code under test).
  BalancedMLP net(BalancedMLPOptions({9, 16, 4}).activation(activation));
  net->to(dtype);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(500 + worker);
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : net->parameters()) {
      parameter.copy_(0.3 * at::randn(parameter.sizes(), generator, dtype));
    }
  }
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const auto x = at::randn({10, 9}, generator, dtype);
  const auto labels = at::randint(0, 4, {10}, generator, at::kLong);
  for (int step = 0; step < 4 * kRepeats; ++step) {
    optimizer.zero_grad();
    F::cross_entropy(net->forward(x), labels).backward();
    optimizer.step();
  }
  PlasticityRule rule(net, 0.05);
  const auto target = at::randn({10, 4}, generator, dtype);
  for (int step = 0; step < 4 * kRepeats; ++step) rule.step(x, target);
  for (const auto& parameter : net->parameters()) results.push_back(parameter.detach().clone());
  return results;
}

TEST(ThreadSafety, ConcurrentCallsOnSeparateModulesEqualSequentialCalls) {
  std::vector<std::vector<at::Tensor>> sequential(kWorkers);
  for (int worker = 0; worker < kWorkers; ++worker) sequential[worker] = work(worker);

  for (int round = 0; round < 2; ++round) {
    std::vector<std::vector<at::Tensor>> concurrent(kWorkers);
    std::vector<std::string> errors(kWorkers);
    std::vector<std::thread> threads;
    for (int worker = 0; worker < kWorkers; ++worker) {
      threads.emplace_back([&, worker] {
        try {
          concurrent[worker] = work(worker);
        } catch (const std::exception& error) {
          errors[worker] = error.what();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int worker = 0; worker < kWorkers; ++worker) {
      ASSERT_EQ(errors[worker], "") << "worker " << worker;
      ASSERT_EQ(concurrent[worker].size(), sequential[worker].size());
      for (size_t i = 0; i < sequential[worker].size(); ++i) {
        EXPECT_TRUE(torch::equal(concurrent[worker][i], sequential[worker][i]))
            << "round " << round << " worker " << worker << " result " << i;
      }
    }
  }
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
