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

}  // namespace analysis
}  // namespace eiprop
