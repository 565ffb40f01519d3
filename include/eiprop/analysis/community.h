// Communities of a weighted graph and Newman's modularity Q, computed by igraph.
#pragma once

#include "eiprop/analysis/connectivity.h"

#include <cstdint>
#include <string>
#include <vector>

namespace eiprop {
namespace analysis {

enum class CommunityMethod {
  louvain,  // igraph_community_multilevel (Blondel et al. 2008)
  leiden,   // igraph_community_leiden with the modularity objective (Traag et al. 2019)
};
const char* community_method_name(CommunityMethod method);
// "louvain" or "leiden"; anything else is an error naming the function.
CommunityMethod parse_community_method(const std::string& name);

struct Communities {
  std::vector<int64_t> membership;  // community of each node, 0 .. count-1
  int64_t count = 0;
  double modularity = 0.0;  // Newman's Q of this partition (igraph_modularity)
};

// Weighted Newman modularity of a partition:
//   Q = 1/(2m) sum_ab [A_ab - gamma k_a k_b / (2m)] [c_a == c_b],
// with A the weighted adjacency, k the node strengths, m the total edge weight and gamma the
// resolution (1: Newman's Q).
double modularity(const WeightedGraph& graph, const std::vector<int64_t>& membership,
                  double resolution = 1.0);

// Communities that maximise Q (heuristically). Both methods are randomised (node order);
// `seed` seeds igraph's generator, so a call is reproducible.
Communities detect_communities(const WeightedGraph& graph, CommunityMethod method,
                               uint64_t seed = 0, double resolution = 1.0);

// Modularity of a partition of a circuit's neurons against a null that respects its wiring
// (Barber 2007's bipartite modularity, per projection): only pairs a projection joins can be
// connected, and within projection k (pre -> post, total |weight| w_k) the expected |W_k[i][j]|
// is s_i s_j / w_k with s_i post-neuron i's incoming and s_j pre-neuron j's outgoing strength
// in that projection:
//   Q_proj = 1/w sum_k sum_ij [|W_k[i][j]| - s_i s_j / w_k] [c_post(i) == c_pre(j)],  w = sum w_k.
// A layered circuit is k-partite, and Newman's Q (whose null joins any two neurons, two inputs
// included) then credits a partition for the pairs that cannot be wired at all.
double projection_modularity(const CircuitConnectivity& circuit,
                             const std::vector<int64_t>& membership);

// Signed modularity of a partition (Gomez, Jensen & Arenas 2009): the undirected graphs of the
// excitatory (W > 0) and the inhibitory (-W > 0) synapses, each with its own Newman null,
//   Q_signed = (w+ Q+ - w- Q-) / (w+ + w-),
// so that a community joined by inhibition counts against the partition. A sign with no synapse
// contributes 0.
double signed_modularity(const CircuitConnectivity& circuit,
                         const std::vector<int64_t>& membership);

// Normalised mutual information (Danon et al. 2005) of two partitions of the same nodes,
// igraph_compare_communities: 1 for identical partitions (up to labels), 0 for independent ones.
double normalized_mutual_information(const std::vector<int64_t>& a,
                                     const std::vector<int64_t>& b);

}  // namespace analysis
}  // namespace eiprop
