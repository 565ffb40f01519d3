// Trains one circuit on one task, by the plasticity rule or by autograd-SGD at the same learning
// rate, and returns its wiring before and after (as a graph of populations and projections).
#pragma once

#include "community/tasks.h"

#include <eiprop/analysis/connectivity.h>

#include <cstdint>
#include <string>

namespace eiprop {
namespace examples {

enum class CircuitKind {
  layered,  // input -> hidden -> output
};
const char* circuit_kind_name(CircuitKind kind);

enum class Learner {
  rule,      // eiprop::PlasticityRule: equilibrium, credit relaxation, Hebbian update in place
  autograd,  // the same circuit with LibTorch autograd and torch::optim::SGD (no momentum)
};
const char* learner_name(Learner learner);

struct TrainingSettings {
  int64_t hidden = 64;
  std::string activation = "tanh";
  int epochs = 1;
  int64_t batch = 32;
};

struct TrainedCircuit {
  analysis::CircuitConnectivity initial;  // the wiring before training
  analysis::CircuitConnectivity trained;  // and after
  double train_loss = 0.0;  // mean loss over the last epoch
  double test_loss = 0.0;
  double test_score = 0.0;  // Task::score on the test set
  bool diverged = false;    // a non-finite loss or weight, or a relaxation that failed
  std::string failure;      // why, when diverged
};

// The initial weights depend only on `seed` (same for both learners); so does the batch order.
TrainedCircuit train_circuit(const Task& task, CircuitKind kind, Learner learner, double lr,
                             uint64_t seed, const TrainingSettings& settings);

}  // namespace examples
}  // namespace eiprop
