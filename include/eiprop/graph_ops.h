// Typed C++ entry points to the graph operators (circuits given by projections, recurrent or
// not). Each call goes through the PyTorch dispatcher, exactly as TorchScript and
// torch.ops.eiprop see the op; the schemas in extension/ops/graph_*.cpp are the contract.
#pragma once

#include "eiprop/graph.h"
#include "eiprop/ops.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <vector>

namespace eiprop {

// The solver used when none is given: jacobi (exact wavefront on acyclic graphs).
inline RelaxationOptions graph_relaxation() { return RelaxationOptions("jacobi"); }

// eiprop::graph_equilibrium. biases: one per population 1..P (nullopt: none), or empty.
Equilibrium graph_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                              const std::vector<c10::optional<at::Tensor>>& biases,
                              const Graph& graph,
                              const RelaxationOptions& options = graph_relaxation());

// eiprop::graph_credit_relaxation, with e at population graph.output.
Credits graph_credit_relaxation(const at::Tensor& output_error,
                                const std::vector<at::Tensor>& drives,
                                const std::vector<at::Tensor>& weights, const Graph& graph,
                                const RelaxationOptions& options = graph_relaxation());

// eiprop::graph_plasticity: weight_updates[k] for projection k, bias_updates[p-1] for population p.
Updates graph_plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                         const std::vector<at::Tensor>& drives,
                         const std::vector<at::Tensor>& credits, const Graph& graph, double lr);

// eiprop::graph_circuit: population graph.output's equilibrium rates, differentiable; its
// backward is credit relaxation (the exact implicit gradient on a recurrent circuit).
at::Tensor graph_circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                         const std::vector<c10::optional<at::Tensor>>& biases, const Graph& graph,
                         const RelaxationOptions& options = graph_relaxation());

}  // namespace eiprop
