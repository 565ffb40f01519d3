// The validated circuit graph shared by the graph operators, which take
// (weights, biases, pre, post, activations): population 0 is the input, populations 1..P have
// activations[p-1] and biases[p-1]; projection k runs from pre[k] to post[k] with weights[k] of
// shape [N_post, N_pre]. Cycles and self-projections are allowed.
#pragma once

#include "kernels/circuit.h"
#include "ops/signatures.h"
#include "solvers/options.h"

#include <vector>

namespace eiprop {
namespace ops {

struct GraphCircuit {
  kernels::Circuit circuit;
  std::vector<int64_t> widths;  // N_0 (input) .. N_P
};

// Validates the graph (TORCH_CHECK errors name `op`, the argument, the projection and the
// population) and builds its circuit. `input_width` is N_0 when the caller has the input, or -1
// to take it from the projections leaving population 0. `biases` may be empty (no biases).
// Refused: an empty graph, list lengths that disagree, indices out of range, a population that
// receives no projection, an input that sends none, two projections between the same pair of
// populations, widths that disagree between projections and biases, dtype/device mismatches.
GraphCircuit parse_graph(const char* op, int64_t input_width, const at::Tensor& reference,
                         at::TensorList weights, const OptionalTensorList& biases,
                         at::IntArrayRef pre, at::IntArrayRef post,
                         const std::vector<std::string>& activations);

// The graph's shape without its weights: list lengths, index ranges, no duplicate projection,
// every population 1..P receives a projection and the input sends one.
void check_graph_structure(const char* op, int64_t populations, at::IntArrayRef pre,
                           at::IntArrayRef post);

// "population 3" / "the input population 0".
std::string population(int64_t p);

// What a solve relaxes: the firing rates (forward) or the credits.
enum class Relaxed { rates, credits };

// parse_solver_options, refusing sweep on a circuit with a cycle and a max_iters below an
// acyclic circuit's depth for the waves of what is relaxed.
solvers::SolverOptions parse_graph_solver_options(const char* op, const GraphCircuit& graph,
                                                  Relaxed relaxed, c10::string_view method,
                                                  int64_t max_iters, double tol, double dt,
                                                  c10::ScalarType dtype);

// The population whose imbalance drives credit: 1..P.
void check_output_population(const char* op, int64_t output, int64_t populations);

// A per-population list (rates, drives, credits) of P tensors shaped [batch, N_p]; widths holds
// N_0..N_P.
void check_population_tensors(const char* op, const char* list, at::TensorList tensors,
                              const std::vector<int64_t>& widths, int64_t batch,
                              const at::Tensor& reference);

}  // namespace ops
}  // namespace eiprop
