// A null model for modularity: the same circuit with the weights of every projection shuffled
// among that projection's synapses. Each projection keeps its weight distribution (and the
// graph its size, density and population structure); only the arrangement of the weights -- who
// connects strongly to whom -- is random. Q of a trained circuit means something only against
// the Q that community detection finds in such shuffled copies.
#pragma once

#include "eiprop/analysis/community.h"
#include "eiprop/analysis/connectivity.h"

#include <ATen/core/Generator.h>

#include <cstdint>
#include <vector>

namespace eiprop {
namespace analysis {

// A copy of `circuit` whose weights[k] holds the entries of the original weights[k] in a
// uniformly random order (same shape). The original is not changed.
CircuitConnectivity shuffle_within_projections(const CircuitConnectivity& circuit,
                                               at::Generator generator);

struct NullModularity {
  std::vector<double> samples;  // Q of the communities detected in each shuffled copy
  double mean = 0.0;
  double sd = 0.0;  // sample standard deviation (0 for a single sample)
};

// Detects communities in `samples` shuffled copies; shuffle s uses seed + s, for both the
// shuffle and the detection.
NullModularity null_modularity(const CircuitConnectivity& circuit, CommunityMethod method,
                               int64_t samples, uint64_t seed = 0, double resolution = 1.0);

}  // namespace analysis
}  // namespace eiprop
