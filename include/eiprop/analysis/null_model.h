// Null models for modularity: the same circuit with the weights of every projection rearranged
// among that projection's synapses. Q of a trained circuit means something only against the Q
// that community detection finds in such copies.
// - shuffle: a uniformly random arrangement. Each projection keeps its weight multiset (and the
//   graph its size, density and population structure), but not each neuron's total |weight|:
//   a trained circuit whose strong neurons are strong everywhere can then look *less* modular
//   than its shuffles.
// - strength: the multiset kept exactly and, besides, every neuron's strength within each
//   projection (the row and column sums of |W_k|) kept to a small residual, by simulated
//   annealing over swaps of two synapses' weights (Rubinov & Sporns 2011; Milisav et al. 2024).
//   Swapping keeps the multiset by construction; the annealing drives the strengths back (to
//   about 0.05 % on a circuit with hub neurons and 1 % on block-structured weights, the hard
//   case, in tests/test_community.cpp; each copy reports its residual).
#pragma once

#include "eiprop/analysis/community.h"
#include "eiprop/analysis/connectivity.h"

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>
#include <vector>

namespace eiprop {
namespace analysis {

// A copy of `circuit` whose weights[k] holds the entries of the original weights[k] in a
// uniformly random order (same shape). The original is not changed.
CircuitConnectivity shuffle_within_projections(const CircuitConnectivity& circuit,
                                               at::Generator generator);

enum class NullModel { shuffle, strength };
const char* null_model_name(NullModel model);
// "shuffle" or "strength"; anything else is an error naming the function.
NullModel parse_null_model(const std::string& name);

struct StrengthPreservingCopy {
  CircuitConnectivity circuit;
  // The largest, over projections, of |s - s0| / |s0| (Euclidean norms) with s the row and
  // column sums of |W_k| side by side: how far the strengths are from the original's.
  double strength_error = 0.0;
};

// A copy of `circuit` whose weights[k] holds the entries of the original weights[k], rearranged
// at random with every row and column sum of |weights[k]| kept (to `strength_error`):
// a uniform shuffle, then `sweeps` x (entries) annealed swap proposals per projection, each
// projection's stream seeded by (seed, k). Signs travel with their weights. A self-projection
// (pre == post) keeps its diagonal in place: the graph drops those self-connections, so moving
// weight onto or off them would change the graph's strengths.
StrengthPreservingCopy preserve_strengths(const CircuitConnectivity& circuit, uint64_t seed,
                                          int64_t sweeps = 300);

struct NullModularity {
  std::vector<double> samples;  // Q of the communities detected in each null copy
  double mean = 0.0;
  double sd = 0.0;  // sample standard deviation (0 for a single sample)
  double strength_error = 0.0;  // strength nulls: the largest strength_error of the copies
};

// Detects communities in `samples` null copies of `model`; copy s uses seed + s, for both the
// rearrangement and the detection.
NullModularity null_modularity(const CircuitConnectivity& circuit, CommunityMethod method,
                               int64_t samples, uint64_t seed = 0, double resolution = 1.0,
                               NullModel model = NullModel::shuffle);

}  // namespace analysis
}  // namespace eiprop
