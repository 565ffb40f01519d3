// The Autograd-key kernels of eiprop::circuit and eiprop::graph_circuit: both are the
// differentiable equilibrium of ops/autograd/circuit_function.h, whose backward is credit
// relaxation.
#include "ops/autograd/circuit_function.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {

namespace {

// The call's solver settings, as both operators take them.
CircuitArguments arguments_of(std::vector<std::string> activations, c10::string_view method,
                              int64_t max_iters, double tol, double dt) {
  CircuitArguments call;
  call.activations = std::move(activations);
  call.method = std::string(method.data(), method.size());
  call.max_iters = max_iters;
  call.tol = tol;
  call.dt = dt;
  return call;
}

}  // namespace

at::Tensor circuit_autograd(const at::Tensor& input, at::TensorList weights,
                            const OptionalTensorList& biases, std::vector<std::string> activations,
                            c10::string_view method, int64_t max_iters, double tol, double dt) {
  auto call = arguments_of(std::move(activations), method, max_iters, tol, dt);
  call.layered = true;
  return differentiable_circuit(input, weights, biases, std::move(call));
}

at::Tensor graph_circuit_autograd(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, at::IntArrayRef pre,
                                  at::IntArrayRef post, std::vector<std::string> activations,
                                  int64_t output, c10::string_view method, int64_t max_iters,
                                  double tol, double dt) {
  auto call = arguments_of(std::move(activations), method, max_iters, tol, dt);
  call.pre = pre.vec();
  call.post = post.vec();
  call.output = output;
  return differentiable_circuit(input, weights, biases, std::move(call));
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_IMPL(eiprop, Autograd, m) {
  m.impl("circuit", TORCH_FN(eiprop::ops::circuit_autograd));
  m.impl("graph_circuit", TORCH_FN(eiprop::ops::graph_circuit_autograd));
}
