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
                              int64_t max_iters, double tol, double dt,
                              std::vector<std::string> projections) {
  CircuitArguments arguments;
  arguments.activations = std::move(activations);
  arguments.method = std::string(method.data(), method.size());
  arguments.max_iters = max_iters;
  arguments.tol = tol;
  arguments.dt = dt;
  arguments.projections = std::move(projections);
  return arguments;
}

}  // namespace

at::Tensor circuit_autograd(const at::Tensor& input, at::TensorList weights,
                            const OptionalTensorList& biases, std::vector<std::string> activations,
                            c10::string_view method, int64_t max_iters, double tol, double dt,
                            const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  auto arguments =
      arguments_of(std::move(activations), method, max_iters, tol, dt, std::move(projections));
  arguments.layered = true;
  return differentiable_circuit(input, weights, biases, std::move(arguments));
}

at::Tensor graph_circuit_autograd(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, at::IntArrayRef pre,
                                  at::IntArrayRef post, std::vector<std::string> activations,
                                  int64_t output, c10::string_view method, int64_t max_iters,
                                  double tol, double dt, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  auto arguments =
      arguments_of(std::move(activations), method, max_iters, tol, dt, std::move(projections));
  arguments.pre = pre.vec();
  arguments.post = post.vec();
  arguments.output = output;
  return differentiable_circuit(input, weights, biases, std::move(arguments));
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_IMPL(eiprop, Autograd, m) {
  m.impl("circuit", TORCH_FN(eiprop::ops::circuit_autograd));
  m.impl("graph_circuit", TORCH_FN(eiprop::ops::graph_circuit_autograd));
}
