// The differentiable equilibrium shared by eiprop::circuit (a layered chain) and
// eiprop::graph_circuit: forward relaxes the rates to the E-I equilibrium; backward relaxes the
// credits with output_error = -grad_output and returns (docs/theory.md §7)
//   dLoss/dW_k = -delta_{post[k]}^T r_{pre[k]},  dLoss/db_p = -sum_batch delta_p,
//   dLoss/dinput = -input_credit.
// Nothing inside is differentiated by autograd; on a recurrent circuit the credits solve the
// adjoint equation, so the gradient is the exact implicit gradient at the equilibrium.
#pragma once

#include "ops/signatures.h"

#include <string>
#include <vector>

namespace eiprop {
namespace ops {

struct CircuitCall {
  const char* op = "";
  bool layered = false;          // validate as a layered chain (errors name layers)
  std::vector<int64_t> pre;      // graph only: projection k runs pre[k] -> post[k]
  std::vector<int64_t> post;
  int64_t output = -1;           // graph only; a chain's output is its last layer
  std::vector<std::string> activations;
  std::string method;
  int64_t max_iters = 0;
  double tol = 0.0;
  double dt = 1.0;
};

at::Tensor differentiable_circuit(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, CircuitCall call);

}  // namespace ops
}  // namespace eiprop
