#include "community/training.h"

#include <eiprop/eiprop.h>
#include <eiprop/train/simulator.h>

#include <ATen/CPUGeneratorImpl.h>

#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

namespace eiprop {
namespace examples {
namespace {

// A circuit under training, whatever its kind and learner.
struct Network {
  std::function<torch::Tensor(const torch::Tensor&)> output;  // equilibrium output rates
  // One learning step on a batch; returns the batch loss before the step.
  std::function<double(const torch::Tensor&, const torch::Tensor&)> step;
  std::function<analysis::CircuitConnectivity()> wiring;
  // Brings the trained weights into the module wiring and output read (the simulator's copies).
  std::function<void()> sync = [] {};
};

analysis::CircuitConnectivity detached(analysis::CircuitConnectivity circuit) {
  for (auto& weight : circuit.weights) weight = weight.detach().clone();
  return circuit;
}

// input (0) -> hidden (1) -> output (2), and hidden -> hidden for a recurrent circuit.
Graph circuit_graph(CircuitKind kind, const TrainingSettings& settings) {
  Graph graph;
  graph.pre = {0, 1};
  graph.post = {1, 2};
  if (kind == CircuitKind::recurrent) {
    graph.pre = {0, 1, 1};
    graph.post = {1, 1, 2};
  }
  graph.activations = {settings.activation, "identity"};
  graph.output = 2;
  return graph;
}

// A learning step by SGD on the module's gradients: the rule's (credit relaxation) or autograd's.
// With a connection cost lambda > 0 (autograd only), lambda sum |W| over `weights` joins the loss
// (the returned loss is the task's alone).
std::function<double(const torch::Tensor&, const torch::Tensor&)> sgd_step(
    const Task& task, torch::nn::Module& module,
    std::function<torch::Tensor(const torch::Tensor&)> forward, double lr,
    std::vector<torch::Tensor> weights = {}, double connection_cost = 0.0) {
  auto optimizer =
      std::make_shared<torch::optim::SGD>(module.parameters(), torch::optim::SGDOptions(lr));
  return [forward, optimizer, &task, weights, connection_cost](const torch::Tensor& x,
                                                              const torch::Tensor& target) {
    optimizer->zero_grad();
    const auto loss = task.loss_value(forward(x), target);
    auto objective = loss;
    for (const auto& weight : weights) objective = objective + connection_cost * weight.abs().sum();
    objective.backward();
    optimizer->step();
    return loss.item<double>();
  };
}

// The simulator trains copies of a module's initial weights and biases (its parameters); sync
// copies the trained values back into them, for the wiring and the test (the module's forward:
// the equilibrium of the trained circuit). The loss is the squared error at the end of each
// presentation.
Network simulated_network(std::vector<torch::Tensor> weights,
                          std::vector<c10::optional<torch::Tensor>> biases, Graph graph, double lr,
                          const TrainingSettings& settings) {
  auto options = SimulatorOptions()
                     .tau_r(1.0)
                     .tau_c(settings.tau_c)
                     .dt(settings.dt)
                     .steps_per_presentation(std::max<int64_t>(
                         1, std::llround(settings.presentation / settings.dt)))
                     .eta(1.0);
  // One presentation is one SGD step of lr in the separated limit: lr = eta T / tau_W.
  options.tau_W(options.presentation_time() / lr);
  auto simulator = std::make_shared<Simulator>(weights, biases, std::move(graph), options);
  auto batch = std::make_shared<int64_t>(0);
  Network network;
  network.step = [simulator, batch](const torch::Tensor& x, const torch::Tensor& target) {
    if (x.size(0) != *batch) {  // a new batch size (the last, smaller batch): fresh state
      simulator->reset_state();
      *batch = x.size(0);
    }
    const auto recording = simulator->run(x.unsqueeze(0), target.unsqueeze(0));
    return recording.loss[-1].item<double>();  // at the end of the presentation
  };
  network.sync = [simulator, weights, biases]() {
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < weights.size(); ++k) weights[k].copy_(simulator->weights()[k]);
    for (size_t p = 0; p < biases.size(); ++p) {
      if (biases[p].has_value()) biases[p]->copy_(*simulator->biases()[p]);
    }
  };
  return network;
}

Network layered_network(const Task& task, Learner learner, double lr,
                        const TrainingSettings& settings) {
  BalancedMLP mlp(BalancedMLPOptions({task.inputs, settings.hidden, task.outputs})
                      .activation(settings.activation));
  Network network;
  if (learner == Learner::simulated) {
    network = simulated_network(mlp->weights(), mlp->biases(),
                                circuit_graph(CircuitKind::layered, settings), lr, settings);
  }
  network.output = [mlp](const torch::Tensor& x) mutable {
    torch::NoGradGuard no_grad;
    return mlp->forward(x);
  };
  network.wiring = [mlp]() { return analysis::layered_connectivity(mlp->weights()); };
  if (learner == Learner::simulated) {
    return network;
  } else if (learner == Learner::rule) {
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
    network.step =
        sgd_step(task, *mlp, [mlp](const torch::Tensor& x) mutable { return mlp->forward(x); }, lr,
                 mlp->weights(), settings.connection_cost);
  }
  return network;
}

// The rule on a recurrent circuit: graph_circuit's backward is credit relaxation (the exact
// implicit gradient at the equilibrium), applied by SGD; the control unrolls the iterations.
Network recurrent_network(const Task& task, Learner learner, double lr,
                          const TrainingSettings& settings) {
  const auto graph = circuit_graph(CircuitKind::recurrent, settings);
  RecurrentCircuit circuit(
      RecurrentCircuitOptions({task.inputs, settings.hidden, task.outputs}, graph)
          .learning(learner == Learner::autograd ? Learning::autograd : Learning::credit));
  auto forward = [circuit](const torch::Tensor& x) mutable { return circuit->forward(x); };
  Network network;
  if (learner == Learner::simulated) {
    network = simulated_network(circuit->weights(), circuit->biases(), graph, lr, settings);
  } else {
    network.step = sgd_step(task, *circuit, forward, lr);
  }
  network.output = [forward](const torch::Tensor& x) mutable {
    torch::NoGradGuard no_grad;
    return forward(x);
  };
  network.wiring = [circuit, graph]() {
    analysis::CircuitConnectivity wiring;
    wiring.sizes = circuit->options.widths();
    wiring.pre = graph.pre;
    wiring.post = graph.post;
    wiring.weights = circuit->weights();
    return wiring;
  };
  return network;
}

bool finite(const analysis::CircuitConnectivity& circuit) {
  for (const auto& weight : circuit.weights) {
    if (!weight.isfinite().all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

constexpr std::array<std::pair<const char*, Schedule>, 3> kSchedules{
    {{"fixed_epochs", Schedule::fixed_epochs},
     {"equal_distance", Schedule::equal_distance},
     {"criterion", Schedule::criterion}}};

const char* schedule_name(Schedule schedule) {
  for (const auto& [name, value] : kSchedules) {
    if (value == schedule) return name;
  }
  return "unknown";
}

Schedule parse_schedule(const std::string& name) {
  for (const auto& [known, value] : kSchedules) {
    if (name == known) return value;
  }
  TORCH_CHECK(false, "community: --schedules: unknown schedule '", name,
              "'; expected fixed_epochs, equal_distance or criterion");
  return Schedule::fixed_epochs;
}

const char* circuit_kind_name(CircuitKind kind) {
  switch (kind) {
    case CircuitKind::layered:
      return "layered";
    case CircuitKind::recurrent:
      return "recurrent";
  }
  return "unknown";
}

const char* learner_name(Learner learner) {
  switch (learner) {
    case Learner::rule:
      return "rule";
    case Learner::autograd:
      return "autograd";
    case Learner::simulated:
      return "simulated";
  }
  return "unknown";
}

bool learner_applies(Learner learner, const Task& task) {
  return learner != Learner::simulated || task.loss == Loss::squared_error;
}

namespace {

// The steps a schedule plans at learning rate lr on n training samples (before the cap).
int64_t planned_steps(const TrainingSettings& settings, double lr, int64_t n) {
  switch (settings.schedule) {
    case Schedule::fixed_epochs:
      return settings.epochs * ((n + settings.batch - 1) / settings.batch);
    case Schedule::equal_distance:
      return std::max<int64_t>(1, std::llround(settings.distance / lr));
    case Schedule::criterion:
      return settings.max_steps;
  }
  return 0;
}

}  // namespace

TrainedCircuit train_circuit(const Task& task, CircuitKind kind, Learner learner, double lr,
                             uint64_t seed, const TrainingSettings& settings) {
  torch::manual_seed(seed);
  TORCH_CHECK(learner_applies(learner, task), "community: the ", learner_name(learner),
              " learner needs a squared-error task, not ", task.name);
  TORCH_CHECK(settings.connection_cost == 0.0 ||
                  (learner == Learner::autograd && kind == CircuitKind::layered),
              "community: a connection cost needs the autograd learner on a layered circuit");
  Network network = kind == CircuitKind::layered ? layered_network(task, learner, lr, settings)
                                                 : recurrent_network(task, learner, lr, settings);
  TrainedCircuit result;
  result.initial = detached(network.wiring());
  auto order_generator = at::make_generator<at::CPUGeneratorImpl>(seed + 1000003);
  const int64_t n = task.train_input.size(0);
  const int64_t planned = planned_steps(settings, lr, n);
  TORCH_CHECK(settings.schedule != Schedule::equal_distance || planned <= settings.max_steps,
              "community: equal distance ", settings.distance, " at lr ", lr, " takes ", planned,
              " steps, more than --max-steps ", settings.max_steps,
              "; lower --distance, raise --max-steps or leave out the smallest --lrs");
  const int64_t steps = std::min(planned, settings.max_steps);
  const bool to_criterion = settings.schedule == Schedule::criterion;
  const int64_t check_every =
      std::max<int64_t>(1, std::llround(settings.check_distance / lr));
  try {
    torch::Tensor order;
    int64_t position = n, epoch_samples = 0;
    double epoch_loss = 0.0;
    while (result.steps < steps) {
      if (position >= n) {  // a new epoch
        order = torch::randperm(n, order_generator, torch::kLong);
        position = 0;
        epoch_loss = 0.0;
        epoch_samples = 0;
      }
      const auto index = order.narrow(0, position, std::min(settings.batch, n - position));
      position += index.size(0);
      const double loss = network.step(task.train_input.index_select(0, index),
                                       task.train_target.index_select(0, index));
      ++result.steps;
      if (!std::isfinite(loss)) {
        result.diverged = true;
        result.failure = "non-finite training loss";
        break;
      }
      epoch_loss += loss * static_cast<double>(index.size(0));
      epoch_samples += index.size(0);
      result.train_loss = epoch_loss / static_cast<double>(epoch_samples);
      if (to_criterion && result.steps % check_every == 0) {
        network.sync();
        const double score =
            task.score(network.output(task.train_input), task.train_target);
        if (score >= settings.criterion) {
          result.reached = true;
          break;
        }
      }
    }
    network.sync();
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
