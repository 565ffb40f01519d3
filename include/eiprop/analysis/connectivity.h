// The connectivity of a circuit as a weighted, undirected graph for community detection.
//
// Nodes are neurons: every neuron of every population, population 0 (the input) first, then
// populations 1..P in order, so population p's neuron i is node offset[p] + i. A projection k
// (pre[k] -> post[k], weight W_k of shape [N_post, N_pre]) contributes |W_k[i][j]| between
// post-neuron i and pre-neuron j. Direction is dropped: the undirected weight between two
// neurons a and b is |W_ab| + |W_ba| (both directions summed, over every projection joining
// them), as Newman's modularity is defined on undirected graphs. Self-connections (the diagonal
// of a recurrent projection p -> p) are left out: they join no two neurons.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace eiprop {
namespace analysis {

// A circuit's wiring (docs/theory.md §1): population sizes N_0 (input), N_1, ..., N_P and the
// projections pre[k] -> post[k] with weights[k] of shape [N_post[k], N_pre[k]]. Cycles allowed.
struct CircuitConnectivity {
  std::vector<int64_t> sizes;
  std::vector<int64_t> pre;
  std::vector<int64_t> post;
  std::vector<at::Tensor> weights;
};

// The layered chain 0 -> 1 -> ... -> L of a BalancedMLP: weights[l] is [N_{l+1}, N_l].
CircuitConnectivity layered_connectivity(const std::vector<at::Tensor>& weights);

// Checks sizes, indices and shapes; errors name `function`, the argument and the projection.
void check_connectivity(const char* function, const CircuitConnectivity& circuit);

// First node of each population (size P + 2: the last entry is the number of nodes).
std::vector<int64_t> population_offsets(const CircuitConnectivity& circuit);

// The population of every node, [N_total] int64.
at::Tensor node_populations(const CircuitConnectivity& circuit);

// The symmetric adjacency A[a][b] = sum of |W| over the synapses a -> b and b -> a, zero
// diagonal; [N_total, N_total], float64, on the CPU.
at::Tensor adjacency(const CircuitConnectivity& circuit);

// An undirected weighted graph as an edge list (each pair once, from < to, weight > 0).
struct WeightedGraph {
  int64_t nodes = 0;
  std::vector<int64_t> from;
  std::vector<int64_t> to;
  std::vector<double> weight;
  double total_weight() const;
};

// The edges of a symmetric adjacency matrix (upper triangle, non-zero entries).
WeightedGraph weighted_graph(const at::Tensor& adjacency);

// weighted_graph(adjacency(circuit)).
WeightedGraph weighted_graph(const CircuitConnectivity& circuit);

}  // namespace analysis
}  // namespace eiprop
