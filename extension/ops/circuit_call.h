// The differentiable equilibrium of eiprop::circuit (a layered chain) and eiprop::graph_circuit,
// split into the registered operators its autograd kernel (ops/autograd/circuit_function.cpp)
// calls through the dispatcher, so that torch.compile and torch.export can trace both passes
// with fake kernels (as torchvision's ops do):
//   _circuit_forward / _graph_circuit_forward: every population's rate and drive at the E-I
//     equilibrium and every max_pool2d projection's window winners (what the backward needs),
//     validated exactly as circuit / graph_circuit;
//   _circuit_backward / _graph_circuit_backward: the gradients by credit relaxation
//     (docs/theory.md §7): dLoss/dW_k = -delta_{post[k]}^T r_{pre[k]},
//     dLoss/db_p = -sum_batch delta_p, dLoss/dinput = -input_credit.
// Nothing inside is differentiated by autograd; on a recurrent circuit the credits solve the
// adjoint equation, so the gradient is the exact implicit gradient at the equilibrium.
#pragma once

#include "ops/graph.h"
#include "ops/signatures.h"
#include "solvers/firing.h"
#include "solvers/options.h"

#include <string>
#include <vector>

namespace eiprop {
namespace ops {

// A validated call of circuit or graph_circuit (and of the learning-step ops, which take the same
// circuit and solver arguments).
struct CircuitCall {
  const char* op;
  GraphCircuit graph;
  solvers::SolverOptions options;
  int64_t output;  // the population whose rates the op returns (a chain's last layer)
};

// circuit's arguments, validated with messages that name layers.
CircuitCall parse_circuit(const char* op, const at::Tensor& input, at::TensorList weights,
                          const OptionalTensorList& biases,
                          const std::vector<std::string>& activations, c10::string_view method,
                          int64_t max_iters, double tol, double dt,
                          const std::vector<std::string>& projections);

// graph_circuit's arguments.
CircuitCall parse_graph_circuit(const char* op, const at::Tensor& input, at::TensorList weights,
                                const OptionalTensorList& biases, at::IntArrayRef pre,
                                at::IntArrayRef post, const std::vector<std::string>& activations,
                                int64_t output, c10::string_view method, int64_t max_iters,
                                double tol, double dt, const std::vector<std::string>& projections);

// The forward's equilibrium (raises when it is not reached or not finite). An exact schedule
// reads what the op returns to its caller, the input and the output population's rates, in one
// synchronisation: a non-finite hidden rate reaches the output (NaN passes every activation and
// projection, Inf every unbounded one) or hides behind a saturating activation (tanh(inf) = 1),
// where the output is what autograd's would be and the backward meets it in the gradients it
// reads. An iterative solve reads its residual every iteration.
solvers::FiringEquilibrium forward_equilibrium(const CircuitCall& call, const at::Tensor& input);

// Rates and drives of populations 1..P at the equilibrium (raises when it is not reached), and
// the max_pool2d projections' window winners at those rates, for the backward to reuse.
CircuitStates circuit_states(const CircuitCall& call, const at::Tensor& input);

// The backward of `op` (circuit or graph_circuit), called as `backward_op`: validates the saved
// states against the graph, relaxes the credits of e = grad_output and returns the gradients
// output_mask asks for (entries: input, weights[k]..., then biases of populations 1..P): the
// input's (undefined when not asked for), then the asked-for weights' and biases' in order.
// `winners`, when given, are the forward's (circuit_states); without them the backward finds the
// max_pool2d projections' winners from the rates. `states_checked` says that the rates, drives and
// winners are the forward's own: it refused rates that were not finite (a NaN drive gives a NaN
// rate, and an infinite drive that an activation saturates has a zero slope), and its winners
// come from ATen's max_pool2d_with_indices. The backward then reads only the balance credits for
// NaN/Inf, and not the winners' range. The autograd kernel passes true; by default both are read.
CircuitGradients circuit_gradients(const char* op, const char* backward_op,
                                   const at::Tensor& grad_output, const at::Tensor& input,
                                   at::TensorList weights, at::TensorList rates,
                                   at::TensorList drives, at::IntArrayRef pre, at::IntArrayRef post,
                                   const std::vector<std::string>& activations, int64_t output,
                                   c10::string_view method, int64_t max_iters, double tol,
                                   double dt, const c10::List<bool>& output_mask,
                                   const std::vector<std::string>& projections,
                                   const OptionalTensors& winners, bool states_checked);

}  // namespace ops
}  // namespace eiprop
