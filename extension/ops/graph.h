// The validated circuit graph shared by the graph operators, which take
// (weights, biases, pre, post, activations): population 0 is the input, populations 1..P have
// activations[p-1] and biases[p-1]; projection k runs from pre[k] to post[k] with weights[k] of
// shape [N_post, N_pre]. Cycles and self-projections are allowed.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/circuit.h"
#include "ops/signatures.h"
#include "solvers/options.h"

namespace eiprop {
namespace ops {

struct GraphCircuit {
  kernels::Circuit circuit;
  // Each population's rates per sample, 0 (input) .. P: [N] or [C, H, W]. Population 0's is empty
  // when no argument fixes it (a credit relaxation whose input sits behind a spatial projection).
  std::vector<std::vector<int64_t>> shapes;
};

// Per-sample shapes that the caller's tensors give (population -> (shape, the argument that gives
// it)). They fix a population only where the weights and projections leave it open.
using GivenShapes = std::map<int64_t, std::pair<std::vector<int64_t>, std::string>>;

// How messages name projection k: "weights[k] (projection k: population a -> b)" for the graph
// operators, "weights[l] (layer l)" for the layered ones.
using ProjectionName = std::function<std::string(size_t k)>;
ProjectionName graph_projection_names(at::IntArrayRef pre, at::IntArrayRef post);

// Validates the graph (TORCH_CHECK errors name `op`, the argument, the projection and the
// population) and builds its circuit. `input_shape` is population 0's per-sample shape when the
// caller has the input, or empty to take it from the projections leaving population 0. `biases` may
// be empty (no biases); `projections` (ops/projections.h) may be empty (all dense). Refused: an
// empty graph, list lengths that disagree, indices out of range, a population that receives no
// projection, an input that sends none, two projections between the same pair of populations,
// shapes that disagree between projections and biases, a weight that does not fit its projection's
// kind, dtype/device mismatches.
GraphCircuit parse_graph(const char* op, const std::vector<int64_t>& input_shape,
                         const at::Tensor& reference, at::TensorList weights,
                         const OptionalTensorList& biases, at::IntArrayRef pre,
                         at::IntArrayRef post, const std::vector<std::string>& activations,
                         const std::vector<std::string>& projections, const GivenShapes& given = {},
                         const ProjectionName& name = {});

// The graph's shape without its weights: list lengths, index ranges, no duplicate projection, every
// population 1..P receives a projection and the input sends one.
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

// A credit relaxation asked for the input credit needs the input population's shape, which spatial
// projections leaving it do not fix (a stride rounds down).
void check_input_credit_shape(const char* op, const GraphCircuit& graph, bool input_credit);

// The population whose imbalance drives credit: 1..P.
void check_output_population(const char* op, int64_t output, int64_t populations);

// A per-population list (rates, drives, credits) of P tensors shaped [batch, shapes[p]...]; shapes
// holds populations 0..P.
void check_population_tensors(const char* op, const char* list, at::TensorList tensors,
                              const std::vector<std::vector<int64_t>>& shapes, int64_t batch,
                              const at::Tensor& reference);

// The per-sample shape of a rates tensor: its sizes after the batch.
std::vector<int64_t> sample_shape(const at::Tensor& rates);

}  // namespace ops
}  // namespace eiprop
