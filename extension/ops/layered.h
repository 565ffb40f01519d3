// The validated forward problem of a layered circuit, shared by the ops that take
// (input, weights, biases, activations, method, max_iters, tol, dt).
#pragma once

#include "kernels/circuit.h"
#include "ops/signatures.h"
#include "solvers/options.h"

namespace eiprop {
namespace ops {

struct LayeredForward {
  kernels::Circuit circuit;
  solvers::SolverOptions options;
};

// Validates every argument (TORCH_CHECK errors name `op`, the argument and the layer) and builds
// the chain circuit with resolved solver options.
LayeredForward parse_layered_forward(const char* op, const at::Tensor& input,
                                     at::TensorList weights, const OptionalTensorList& biases,
                                     const std::vector<std::string>& activations,
                                     c10::string_view method, int64_t max_iters, double tol,
                                     double dt);

}  // namespace ops
}  // namespace eiprop
