// E/I balance statistics of a circuit at its E-I equilibrium (docs/theory.md §1, §6.3).
//
// For neuron i of population p, with the batch of rates at equilibrium:
//   E_i = batch mean of sum over incoming projections k of sum_j max(W_k,ij r_j, 0)
//   I_i = batch mean of sum over incoming projections k of sum_j max(-W_k,ij r_j, 0)
// (eiprop::ei_currents per projection; biases are not synaptic and are left out). Then
//   ratio_i = I_i / E_i                    (1 = the inhibition cancels the excitation)
//   balance index_i = |E_i - I_i| / (E_i + I_i)   in [0, 1]; 0 = perfectly balanced, 1 = one-sided
// A neuron with no synaptic current (E_i + I_i = 0) has an undefined ratio and index (NaN) and is
// left out of the population's mean index; ratio_i is +inf when only inhibition arrives.
// The population summary's ratio is that of its mean currents, mean I / mean E.
#pragma once

#include "eiprop/ops/graph.h"

#include <torch/types.h>

#include <vector>

namespace eiprop {
namespace analysis {

struct PopulationBalance {
  int64_t population = 0;
  torch::Tensor excitatory;     // [N_p] E_i
  torch::Tensor inhibitory;     // [N_p] I_i
  torch::Tensor ratio;          // [N_p] I_i / E_i
  torch::Tensor balance_index;  // [N_p] |E_i - I_i| / (E_i + I_i)
  double mean_excitatory = 0.0;     // over the population's neurons
  double mean_inhibitory = 0.0;
  double ratio_of_means = 0.0;      // mean_inhibitory / mean_excitatory
  double mean_balance_index = 0.0;  // over neurons with synaptic current (NaN when none has any)
  int64_t silent = 0;               // neurons with E_i + I_i = 0
};

// One entry per population 1..P. rates[p] holds population p's equilibrium rates [B, N_p] for
// p = 0..P (rates[0] is the input); weights[k] is projection k's [N_post, N_pre].
std::vector<PopulationBalance> ei_balance(const std::vector<torch::Tensor>& rates,
                                          const std::vector<torch::Tensor>& weights,
                                          const Graph& graph);

// The chain 0 -> 1 -> ... -> L as a Graph (projection l from population l to l+1); its output
// is population L. activations[l] belongs to population l+1.
Graph layered_graph(const std::vector<std::string>& activations);

}  // namespace analysis
}  // namespace eiprop
