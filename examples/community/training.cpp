#include "community/training.h"

#include <eiprop/eiprop.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <functional>
#include <memory>

namespace eiprop {
namespace examples {
namespace {

// A circuit under training, whatever its kind and learner.
struct Network {
  std::function<torch::Tensor(const torch::Tensor&)> output;  // equilibrium output rates
  // One learning step on a batch; returns the batch loss before the step.
  std::function<double(const torch::Tensor&, const torch::Tensor&)> step;
  std::function<analysis::CircuitConnectivity()> wiring;
};

analysis::CircuitConnectivity detached(analysis::CircuitConnectivity circuit) {
  for (auto& weight : circuit.weights) weight = weight.detach().clone();
  return circuit;
}

Network layered_network(const Task& task, Learner learner, double lr,
                        const TrainingSettings& settings) {
  BalancedMLP mlp(BalancedMLPOptions({task.inputs, settings.hidden, task.outputs})
                      .activation(settings.activation));
  Network network;
  network.output = [mlp](const torch::Tensor& x) mutable {
    torch::NoGradGuard no_grad;
    return mlp->forward(x);
  };
  network.wiring = [mlp]() { return analysis::layered_connectivity(mlp->weights()); };
  if (learner == Learner::rule) {
    auto rule = std::make_shared<PlasticityRule>(mlp, lr);
    network.step = [rule, &task](const torch::Tensor& x, const torch::Tensor& target) {
      double loss = 0.0;
      rule->step(x, [&](const torch::Tensor& output) {
        loss = task.loss_value(output, target).item<double>();
        return task.output_imbalance(output, target);
      });
      return loss;
    };
  } else {
    mlp->set_learning(Learning::autograd);
    auto optimizer =
        std::make_shared<torch::optim::SGD>(mlp->parameters(), torch::optim::SGDOptions(lr));
    network.step = [mlp, optimizer, &task](const torch::Tensor& x,
                                           const torch::Tensor& target) mutable {
      optimizer->zero_grad();
      const auto loss = task.loss_value(mlp->forward(x), target);
      loss.backward();
      optimizer->step();
      return loss.item<double>();
    };
  }
  return network;
}

bool finite(const analysis::CircuitConnectivity& circuit) {
  for (const auto& weight : circuit.weights) {
    if (!weight.isfinite().all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

const char* circuit_kind_name(CircuitKind kind) {
  switch (kind) {
    case CircuitKind::layered:
      return "layered";
  }
  return "unknown";
}

const char* learner_name(Learner learner) {
  return learner == Learner::rule ? "rule" : "autograd";
}

TrainedCircuit train_circuit(const Task& task, CircuitKind kind, Learner learner, double lr,
                             uint64_t seed, const TrainingSettings& settings) {
  torch::manual_seed(seed);
  Network network = layered_network(task, learner, lr, settings);
  TrainedCircuit result;
  result.initial = detached(network.wiring());
  auto order_generator = at::make_generator<at::CPUGeneratorImpl>(seed + 1000003);
  const int64_t n = task.train_input.size(0);
  try {
    for (int epoch = 0; epoch < settings.epochs && !result.diverged; ++epoch) {
      const auto order = torch::randperm(n, order_generator, torch::kLong);
      double loss_sum = 0.0;
      for (int64_t start = 0; start < n; start += settings.batch) {
        const auto index = order.narrow(0, start, std::min(settings.batch, n - start));
        const double loss = network.step(task.train_input.index_select(0, index),
                                         task.train_target.index_select(0, index));
        if (!std::isfinite(loss)) {
          result.diverged = true;
          result.failure = "non-finite training loss";
          break;
        }
        loss_sum += loss * static_cast<double>(index.size(0));
      }
      result.train_loss = loss_sum / static_cast<double>(n);
    }
    result.trained = detached(network.wiring());
    if (!result.diverged && !finite(result.trained)) {
      result.diverged = true;
      result.failure = "non-finite weights";
    }
    if (!result.diverged) {
      const auto output = network.output(task.test_input);
      result.test_loss = task.loss_value(output, task.test_target).item<double>();
      result.test_score = task.score(output, task.test_target);
      if (!std::isfinite(result.test_loss)) {
        result.diverged = true;
        result.failure = "non-finite test loss";
      }
    }
  } catch (const c10::Error& error) {
    result.diverged = true;
    result.failure = error.what_without_backtrace();
  }
  return result;
}

}  // namespace examples
}  // namespace eiprop
