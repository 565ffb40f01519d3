// Trains one circuit on one task, by the plasticity rule, by autograd-SGD at the same learning
// rate, or by the three-timescale simulator (finite timescale separation), and returns its wiring
// before and after (as a graph of populations and projections).
#pragma once

#include "community/tasks.h"

#include <eiprop/analysis/connectivity.h>

#include <cstdint>
#include <string>
#include <torch/optim/sgd.h>

namespace eiprop {
namespace examples {

enum class CircuitKind {
  layered,    // input -> hidden -> output
  recurrent,  // input -> hidden -> output, and hidden -> hidden
};
const char* circuit_kind_name(CircuitKind kind);

enum class Learner {
  rule,      // eiprop::PlasticityRule: equilibrium, credit relaxation, Hebbian update in place
  autograd,  // the same circuit with LibTorch autograd and torch::optim::SGD (no momentum);
             // recurrent circuits: backprop through the unrolled firing iterations
  // eiprop::Simulator: rates, credits and weights evolve together with finite time constants
  // (squared-error tasks only); each batch is presented for a time T with tau_W = T / lr, which
  // is one SGD step of lr per batch only in the limit tau_r, tau_c << T.
  simulated,
};
const char* learner_name(Learner learner);

// How long a circuit trains: the schedules that separate the learning rate from how far training
// goes.
enum class Schedule {
  fixed_epochs,    // a fixed number of epochs, whatever the learning rate
  equal_distance,  // lr x steps held constant: every learning rate travels the same SGD "time"
                   // (an error when that takes more than max_steps steps)
  criterion,       // until the training score reaches a criterion (capped at max_steps)
};
const char* schedule_name(Schedule schedule);
// "fixed_epochs", "equal_distance" or "criterion"; anything else is an error naming the flag.
Schedule parse_schedule(const std::string& name);

struct TrainingSettings {
  int64_t hidden = 64;
  std::string activation = "tanh";
  int64_t batch = 32;
  Schedule schedule = Schedule::fixed_epochs;
  int epochs = 1;              // fixed_epochs
  double distance = 10.0;      // equal_distance: lr x steps
  double criterion = 0.8;      // criterion: the training score to reach (R^2 or accuracy in %)
  // criterion: lr x steps between two checks of the training score (every max(1, round(
  // check_distance / lr)) steps), so that every learning rate is checked at the same distances.
  double check_distance = 0.1;
  int64_t max_steps = 3000;    // fixed_epochs and criterion stop here
  double connection_cost = 0.0;  // autograd only: lambda, lambda sum |W| added to the loss (L1)
  // The simulated learner's timescales, in units of tau_r = 1.
  double tau_c = 1.0;         // credit
  double presentation = 5.0;  // T, the time each batch is presented
  double dt = 0.1;            // Euler step
};

struct TrainedCircuit {
  analysis::CircuitConnectivity initial;  // the wiring before training
  analysis::CircuitConnectivity trained;  // and after
  int64_t steps = 0;         // learning steps taken
  bool reached = false;      // criterion schedule: the criterion was met within max_steps
  double train_loss = 0.0;  // mean loss over the last epoch
  double test_loss = 0.0;
  double test_score = 0.0;  // Task::score on the test set
  bool diverged = false;    // a non-finite loss or weight, or a relaxation that failed
  std::string failure;      // why, when diverged
};

// The simulated learner's presentation time T for a timescale separation tau_W / tau_c at a
// learning rate (tau_W = T / lr), and back.
inline double simulator_presentation(double separation, double lr, double tau_c) {
  return separation * lr * tau_c;
}
inline double simulator_separation(double presentation, double lr, double tau_c) {
  return presentation / (lr * tau_c);
}

// Whether a learner applies to a task (the simulator integrates squared-error imbalances only).
bool learner_applies(Learner learner, const Task& task);

// The initial weights depend only on `seed` (same for every learner); so does the batch order.
TrainedCircuit train_circuit(const Task& task, CircuitKind kind, Learner learner, double lr,
                             uint64_t seed, const TrainingSettings& settings);

}  // namespace examples
}  // namespace eiprop
