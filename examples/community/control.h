// What the pipeline can detect. The positive control: a circuit known to become modular (a
// hidden population narrower than the two teachers together, trained by autograd-SGD with an L1
// connection cost, which prunes the synapses one task does not need); its Q above the strength
// null and its NMI with the task partition measure the effect a real modular solution has. The
// sensitivity curve: a trained circuit's cross-task synapses scaled by (1 - epsilon), to see how
// much modularity it takes before Q above the null is told from zero.
#pragma once

#include "community/study.h"

#include <eiprop/analysis/connectivity.h>

#include <vector>

namespace eiprop {
namespace examples {

// One point of the sensitivity curve: mean over seeds with 95 % bootstrap intervals.
struct SensitivityRow {
  double epsilon = 0.0;
  analysis::Interval q_above, nmi;
};

// Each hidden neuron's task (0: a, 1: b): the task whose input and output neurons it is joined to
// by more |W| (inputs [x_a, x_b], outputs [y_a, y_b]; layered circuit input -> hidden -> output).
std::vector<int64_t> hidden_tasks(const analysis::CircuitConnectivity& circuit);

// The layered two-task circuit with every synapse joining neurons of different tasks (inputs and
// outputs by construction, hidden neurons by hidden_tasks of the unscaled circuit) scaled by
// (1 - epsilon), epsilon in [0, 1].
analysis::CircuitConnectivity scale_cross_task(const analysis::CircuitConnectivity& circuit,
                                               double epsilon);

}  // namespace examples
}  // namespace eiprop
