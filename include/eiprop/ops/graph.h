// Typed C++ entry points to the graph operators (circuits given by projections, recurrent or
// not). Each call goes through the PyTorch dispatcher, exactly as TorchScript and
// torch.ops.eiprop see the op; the schemas in extension/ops/graph_*.cpp are the contract.
#pragma once

#include "eiprop/ops/relaxation.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <vector>

namespace eiprop {

// A circuit graph as the graph operators take it (docs/theory.md §1): population 0 is the input;
// populations 1..P each have an activation; projection k runs from population pre[k] (0..P) to
// post[k] (1..P) with a weight of shape [N_post, N_pre]. Projections into one population add;
// self-projections and cycles are allowed.
struct Graph {
  std::vector<int64_t> pre;              // projection k leaves population pre[k]
  std::vector<int64_t> post;             // ... and arrives at population post[k]
  std::vector<std::string> activations;  // activations[p-1]: population p's activation
  int64_t output = 0;                    // the population whose imbalance drives credit
  // projection_kinds[k]: what projection k's synapses compute, the operators' `projections`
  // argument (eiprop/ops/projections.h); empty: all dense.
  std::vector<std::string> projection_kinds{};

  // The layered circuit 0 -> 1 -> ... -> L (layer l = population l+1) as a graph: projection l
  // runs from population l to l+1, and the output is population L.
  static Graph chain(std::vector<std::string> activations,
                     std::vector<std::string> projections = {}) {
    Graph graph;
    const auto layers = static_cast<int64_t>(activations.size());
    for (int64_t l = 0; l < layers; ++l) {
      graph.pre.push_back(l);
      graph.post.push_back(l + 1);
    }
    graph.activations = std::move(activations);
    graph.output = layers;
    graph.projection_kinds = std::move(projections);
    return graph;
  }

  int64_t populations() const { return static_cast<int64_t>(activations.size()); }
  int64_t projections() const { return static_cast<int64_t>(pre.size()); }
};

// The solver used when none is given: jacobi (exact wavefront on acyclic graphs).
inline RelaxationOptions graph_relaxation() { return RelaxationOptions("jacobi"); }

// eiprop::graph_equilibrium. biases: one per population 1..P (nullopt: none), or empty.
Equilibrium graph_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                              const std::vector<c10::optional<at::Tensor>>& biases,
                              const Graph& graph,
                              const RelaxationOptions& options = graph_relaxation());

// eiprop::graph_credit_relaxation, with e at population graph.output; input_credit as for
// credit_relaxation.
Credits graph_credit_relaxation(const at::Tensor& output_error,
                                const std::vector<at::Tensor>& drives,
                                const std::vector<at::Tensor>& weights, const Graph& graph,
                                const RelaxationOptions& options = graph_relaxation(),
                                bool input_credit = true);

// eiprop::graph_plasticity: weight_updates[k] for projection k, bias_updates[p-1] for population p.
Updates graph_plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                         const std::vector<at::Tensor>& drives,
                         const std::vector<at::Tensor>& credits, const Graph& graph, double lr);

// eiprop::graph_learning_step: learning_step on a circuit graph, the loss read at population
// graph.output.
LearningStep graph_learning_step(const at::Tensor& input, const at::Tensor& target,
                                 const std::vector<at::Tensor>& weights,
                                 const std::vector<c10::optional<at::Tensor>>& biases,
                                 const Graph& graph, double lr, const std::string& loss,
                                 const RelaxationOptions& options = graph_relaxation());

// eiprop::graph_circuit: population graph.output's equilibrium rates, differentiable; its
// backward is credit relaxation (the exact implicit gradient on a recurrent circuit).
at::Tensor graph_circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                         const std::vector<c10::optional<at::Tensor>>& biases, const Graph& graph,
                         const RelaxationOptions& options = graph_relaxation());

}  // namespace eiprop
