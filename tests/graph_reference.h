// Test oracles for circuit graphs: random graph circuits, and the implicit-differentiation
// gradient of the squared error at a recurrent circuit's firing equilibrium computed with a
// dense linear solve (docs/theory.md §3), independent of the rule's credit relaxation.
#pragma once

#include "reference.h"

namespace eiprop {
namespace testing {

struct GraphCircuit {
  Graph graph;
  std::vector<int64_t> widths;  // N_0 .. N_P
  at::Tensor input;             // [B, N_0]
  at::Tensor target;            // [B, N_output]
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
};

// Weights ~ N(0, gain^2 / N_pre) for feed-forward projections; a projection that closes a cycle
// (post <= pre) gets N(0, recurrent_gain^2 / N_pre). Biases ~ N(0, 0.1^2).
GraphCircuit make_graph_circuit(Graph graph, std::vector<int64_t> widths, int64_t batch,
                                at::ScalarType dtype, uint64_t seed, double recurrent_gain,
                                bool with_bias = true);

struct ImplicitGradients {
  std::vector<at::Tensor> rates;         // the fixed point, per population (index p-1)
  std::vector<at::Tensor> weight_grads;  // dLoss/dW_k
  std::vector<at::Tensor> bias_grads;    // dLoss/db_p (undefined without bias)
  at::Tensor input_grad;                 // dLoss/dinput
};

// Loss = 1/(2B) sum ||target - r_output||^2 at the fixed point r* = F(r*) (reached by `iterations`
// plain synchronous updates, float64). Per sample, the Jacobian J = dF/dr is built by autograd
// and lambda = (I - J)^-T dLoss/dr is a dense linear solve; the gradients are the vector-Jacobian
// products lambda^T dF/dtheta, again by autograd.
ImplicitGradients implicit_gradients(const GraphCircuit& circuit, int64_t iterations);

// Smallest spectral radius check: the largest |eigenvalue| of J = dF/dr at the fixed point over
// the batch (the jacobi iteration's contraction factor).
double jacobian_spectral_radius(const GraphCircuit& circuit, const std::vector<at::Tensor>& rates);

}  // namespace testing
}  // namespace eiprop
