// The options of RecurrentCircuit (eiprop/nn/recurrent_circuit.h).
#pragma once

#include "eiprop/nn/options/learning.h"
#include "eiprop/ops/graph.h"

#include <torch/arg.h>

#include <vector>

namespace eiprop {

struct RecurrentCircuitOptions {
  RecurrentCircuitOptions(std::vector<int64_t> widths, Graph graph)
      : widths_(std::move(widths)), graph_(std::move(graph)) {}

  // Population widths N_0 (input), N_1, ..., N_P.
  TORCH_ARG(std::vector<int64_t>, widths);
  // Projections pre[k] -> post[k], the populations' activations and the output population.
  TORCH_ARG(Graph, graph);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Learning, learning) = Learning::credit;
  TORCH_ARG(RelaxationOptions, relaxation) = graph_relaxation();
};

}  // namespace eiprop
