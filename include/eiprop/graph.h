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

  // The layered circuit 0 -> 1 -> ... -> L (layer l = population l+1) as a graph: projection l
  // runs from population l to l+1, and the output is population L.
  static Graph chain(std::vector<std::string> activations) {
    Graph graph;
    const auto layers = static_cast<int64_t>(activations.size());
    for (int64_t l = 0; l < layers; ++l) {
      graph.pre.push_back(l);
      graph.post.push_back(l + 1);
    }
    graph.activations = std::move(activations);
    graph.output = layers;
    return graph;
  }

  int64_t populations() const { return static_cast<int64_t>(activations.size()); }
  int64_t projections() const { return static_cast<int64_t>(pre.size()); }
};

}  // namespace eiprop
