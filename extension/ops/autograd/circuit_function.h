// The autograd kernel shared by eiprop::circuit (a layered chain) and eiprop::graph_circuit: a
// torch::autograd::Function whose forward calls _circuit_forward / _graph_circuit_forward and
// whose backward calls _circuit_backward / _graph_circuit_backward, each through the dispatcher
// (ops/circuit_call.h), so that torch.compile and torch.export trace both passes as ops.
#pragma once

#include "ops/signatures.h"

#include <string>
#include <vector>

namespace eiprop {
namespace ops {

// The non-tensor arguments of one call.
struct CircuitArguments {
  bool layered = false;          // circuit (a chain) or graph_circuit
  std::vector<int64_t> pre;      // graph only: projection k runs pre[k] -> post[k]
  std::vector<int64_t> post;
  int64_t output = -1;           // graph only; a chain's output is its last layer
  std::vector<std::string> activations;
  std::string method;
  int64_t max_iters = 0;
  double tol = 0.0;
  double dt = 1.0;
  std::vector<std::string> projections;  // empty: all dense
};

at::Tensor differentiable_circuit(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, CircuitArguments arguments);

}  // namespace ops
}  // namespace eiprop
