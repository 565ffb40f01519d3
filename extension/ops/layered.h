// The layered operators' front door: a chain 0 -> 1 -> ... -> L is the graph operators' circuit
// with projection l running from population l to l+1 (pre = 0..L-1, post = 1..L). These parses
// validate a layered call with messages that name layers (a chain with spatial `projections` goes
// through parse_graph, its projections named as layers) (TORCH_CHECK errors name `op`, the argument
// and the layer) and hand back the same GraphCircuit the graph operators use.
#pragma once

#include "ops/graph.h"
#include "ops/signatures.h"

#include <string>
#include <vector>

namespace eiprop {
namespace ops {

// (input, weights, biases, activations): the forward problem of ei_equilibrium and circuit.
GraphCircuit parse_layered(const char* op, const at::Tensor& input, at::TensorList weights,
                           const OptionalTensorList& biases,
                           const std::vector<std::string>& activations,
                           const std::vector<std::string>& projections);

// (output_error, drives, weights, activations): the credit problem of credit_relaxation.
GraphCircuit parse_layered_credit(const char* op, const at::Tensor& output_error,
                                  at::TensorList drives, at::TensorList weights,
                                  const std::vector<std::string>& activations,
                                  const std::vector<std::string>& projections);

// The chain's projections: pre = 0..L-1, post = 1..L.
std::vector<int64_t> chain_pre(int64_t layers);
std::vector<int64_t> chain_post(int64_t layers);

}  // namespace ops
}  // namespace eiprop
