// eiprop::graph_circuit — the output population's equilibrium rates of a circuit graph;
// differentiable, with a backward that is credit relaxation (ops/autograd/circuit_function.cpp).
// This file holds the schemas and kernels of the op (the kernel used below autograd: no_grad,
// inference mode) and of the two passes its autograd kernel calls (ops/circuit_call.h).
#include "ops/circuit_call.h"
#include "ops/timescales.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_circuit";
}

at::Tensor graph_circuit(const at::Tensor& input, at::TensorList weights,
                         const OptionalTensorList& biases, at::IntArrayRef pre,
                         at::IntArrayRef post, std::vector<std::string> activations, int64_t output,
                         c10::string_view method, int64_t max_iters, double tol, double dt,
                         const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto call = parse_graph_circuit(kOp, input, weights, biases, pre, post, activations, output,
                                        method, max_iters, tol, dt, projections);
  return forward_equilibrium(call, input).rates[output];
}

CircuitStates graph_circuit_forward(const at::Tensor& input, at::TensorList weights,
                                    const OptionalTensorList& biases, at::IntArrayRef pre,
                                    at::IntArrayRef post, std::vector<std::string> activations,
                                    int64_t output, c10::string_view method, int64_t max_iters,
                                    double tol, double dt, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  return circuit_states(parse_graph_circuit(kOp, input, weights, biases, pre, post, activations,
                                            output, method, max_iters, tol, dt, projections),
                        input);
}

CircuitGradients graph_circuit_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                        at::TensorList weights, at::TensorList rates,
                                        at::TensorList drives, at::IntArrayRef pre,
                                        at::IntArrayRef post, std::vector<std::string> activations,
                                        int64_t output, c10::string_view method, int64_t max_iters,
                                        double tol, double dt, c10::List<bool> output_mask,
                                        const OptionalStrings& projection_list,
                                        const OptionalTensors& winners, bool states_checked) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  return circuit_gradients(kOp, "eiprop::_graph_circuit_backward", grad_output, input, weights,
                           rates, drives, pre, post, activations, output, method, max_iters, tol,
                           dt, output_mask, projections, winners,
                           states_checked);
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_circuit(Tensor input, Tensor[] weights, Tensor?[] biases, int[] pre, int[] post, "
      "str[] activations, int output, str method=\"jacobi\", int max_iters=0, float tol=0.0, "
      "float dt=1.0, str[]? projections=None) -> Tensor");
  m.def(
      "_graph_circuit_forward(Tensor input, Tensor[] weights, Tensor?[] biases, int[] pre, "
      "int[] post, str[] activations, int output, str method, int max_iters, float tol, float dt, "
      "str[]? projections=None) -> (Tensor[] rates, Tensor[] drives, Tensor[] winners)");
  m.def(
      "_graph_circuit_backward(Tensor grad_output, Tensor input, Tensor[] weights, Tensor[] rates, "
      "Tensor[] drives, int[] pre, int[] post, str[] activations, int output, str method, "
      "int max_iters, float tol, float dt, bool[] output_mask, str[]? projections=None, "
      "Tensor[]? winners=None, bool states_checked=False) -> (Tensor input_grad, "
      "Tensor[] weight_grads, Tensor[] bias_grads)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_circuit", TORCH_FN(eiprop::ops::graph_circuit));
  m.impl("_graph_circuit_forward", TORCH_FN(eiprop::ops::graph_circuit_forward));
  m.impl("_graph_circuit_backward", TORCH_FN(eiprop::ops::graph_circuit_backward));
}
