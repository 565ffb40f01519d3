// eiprop::circuit — the output population's equilibrium rates; differentiable, with a backward
// that is credit relaxation (ops/autograd/circuit_autograd.cpp). This file holds the schemas and
// kernels of the op (the kernel used below autograd: no_grad, inference mode) and of the two
// passes its autograd kernel calls (ops/circuit_call.h).
#include "ops/circuit_call.h"
#include "ops/layered.h"
#include "ops/timescales.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::circuit";
}

at::Tensor circuit(const at::Tensor& input, at::TensorList weights,
                   const OptionalTensorList& biases, std::vector<std::string> activations,
                   c10::string_view method, int64_t max_iters, double tol, double dt,
                   const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto call = parse_circuit(kOp, input, weights, biases, activations, method, max_iters, tol,
                                  dt, projections);
  return forward_equilibrium(call, input).rates.back();
}

CircuitStates circuit_forward(const at::Tensor& input, at::TensorList weights,
                              const OptionalTensorList& biases,
                              std::vector<std::string> activations, c10::string_view method,
                              int64_t max_iters, double tol, double dt,
                              const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  return circuit_states(parse_circuit(kOp, input, weights, biases, activations, method, max_iters,
                                      tol, dt, projections),
                        input);
}

CircuitGradients circuit_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                  at::TensorList weights, at::TensorList rates,
                                  at::TensorList drives, std::vector<std::string> activations,
                                  c10::string_view method, int64_t max_iters, double tol, double dt,
                                  c10::List<bool> output_mask,
                                  const OptionalStrings& projection_list,
                                  const OptionalTensors& winners, bool states_checked) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto layers = static_cast<int64_t>(weights.size());
  return circuit_gradients(kOp, "eiprop::_circuit_backward", grad_output, input, weights, rates,
                           drives, chain_pre(layers), chain_post(layers), activations, layers,
                           method, max_iters, tol, dt, output_mask, projections, winners,
                           states_checked);
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "circuit(Tensor input, Tensor[] weights, Tensor?[] biases, str[] activations, "
      "str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0, "
      "str[]? projections=None) -> Tensor");
  m.def(
      "_circuit_forward(Tensor input, Tensor[] weights, Tensor?[] biases, str[] activations, "
      "str method, int max_iters, float tol, float dt, str[]? projections=None) "
      "-> (Tensor[] rates, Tensor[] drives, Tensor[] winners)");
  m.def(
      "_circuit_backward(Tensor grad_output, Tensor input, Tensor[] weights, Tensor[] rates, "
      "Tensor[] drives, str[] activations, str method, int max_iters, float tol, float dt, "
      "bool[] output_mask, str[]? projections=None, Tensor[]? winners=None, "
      "bool states_checked=False) -> (Tensor input_grad, Tensor[] weight_grads, "
      "Tensor[] bias_grads)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("circuit", TORCH_FN(eiprop::ops::circuit));
  m.impl("_circuit_forward", TORCH_FN(eiprop::ops::circuit_forward));
  m.impl("_circuit_backward", TORCH_FN(eiprop::ops::circuit_backward));
}
