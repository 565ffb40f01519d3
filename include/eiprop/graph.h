// A circuit graph as the graph operators take it (docs/theory.md §1): population 0 is the input;
// populations 1..P each have an activation; projection k runs from population pre[k] (0..P) to
// post[k] (1..P) with a weight of shape [N_post, N_pre]. Projections into one population add;
// self-projections and cycles are allowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eiprop {

struct Graph {
  std::vector<int64_t> pre;              // projection k leaves population pre[k]
  std::vector<int64_t> post;             // ... and arrives at population post[k]
  std::vector<std::string> activations;  // activations[p-1]: population p's activation
  int64_t output = 0;                    // the population whose imbalance drives credit

  int64_t populations() const { return static_cast<int64_t>(activations.size()); }
  int64_t projections() const { return static_cast<int64_t>(pre.size()); }
};

}  // namespace eiprop
