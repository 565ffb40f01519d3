// The typed wrappers: one dispatcher handle per op, looked up once.
#include "eiprop/ops/layered.h"

#include "eiprop/ops/graph.h"
#include "ops/signatures.h"

#include "api/ops/dispatch.h"
#include "api/ops/strict.h"

namespace eiprop {
using api::find_op;

Equilibrium ei_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                           const std::vector<c10::optional<at::Tensor>>& biases,
                           const std::vector<std::string>& activations,
                           const RelaxationOptions& options,
                           const std::vector<std::string>& projections) {
  if (!options.strict()) {
    return graph_equilibrium(input, weights, biases, Graph::chain(activations, projections),
                             options);
  }
  static const auto op = find_op<decltype(ops::ei_equilibrium)>("eiprop::ei_equilibrium");
  const auto bias_list = ops::optional_tensor_list(biases);
  auto result = op.call(input, weights, bias_list, activations, options.method(),
                        options.max_iters(), options.tol(), options.dt(), projections);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result)), std::get<2>(result),
          std::get<3>(result)};
}

Credits credit_relaxation(const at::Tensor& output_error, const std::vector<at::Tensor>& drives,
                          const std::vector<at::Tensor>& weights,
                          const std::vector<std::string>& activations,
                          const RelaxationOptions& options, bool input_credit,
                          const std::vector<std::string>& projections) {
  if (!options.strict()) {
    return graph_credit_relaxation(output_error, drives, weights,
                                   Graph::chain(activations, projections), options, input_credit);
  }
  static const auto op = find_op<decltype(ops::credit_relaxation)>("eiprop::credit_relaxation");
  auto result =
      op.call(output_error, drives, weights, activations, options.method(), options.max_iters(),
              options.tol(), options.dt(), input_credit, projections);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result)), std::get<2>(result),
          std::get<3>(result)};
}

Updates plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                   const std::vector<at::Tensor>& drives, const std::vector<at::Tensor>& credits,
                   const std::vector<std::string>& activations, double lr,
                   const std::vector<std::string>& projections) {
  static const auto op = find_op<decltype(ops::plasticity)>("eiprop::plasticity");
  auto result = op.call(input, rates, drives, credits, activations, lr, projections);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result))};
}

LearningStep learning_step(const at::Tensor& input, const at::Tensor& target,
                           const std::vector<at::Tensor>& weights,
                           const std::vector<c10::optional<at::Tensor>>& biases,
                           const std::vector<std::string>& activations, double lr,
                           const std::string& loss, const RelaxationOptions& options,
                           const std::vector<std::string>& projections) {
  api::require_strict("eiprop::learning_step", options);
  static const auto op = find_op<decltype(ops::learning_step)>("eiprop::learning_step");
  auto result =
      op.call(input, target, weights, ops::optional_tensor_list(biases), activations, lr, loss,
              options.method(), options.max_iters(), options.tol(), options.dt(), projections);
  return api::learning_step_result(std::move(result));
}

at::Tensor circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                   const std::vector<c10::optional<at::Tensor>>& biases,
                   const std::vector<std::string>& activations, const RelaxationOptions& options,
                   const std::vector<std::string>& projections) {
  api::require_strict("eiprop::circuit", options);
  static const auto op = find_op<decltype(ops::circuit)>("eiprop::circuit");
  const auto bias_list = ops::optional_tensor_list(biases);
  return op.call(input, weights, bias_list, activations, options.method(), options.max_iters(),
                 options.tol(), options.dt(), projections);
}

EICurrents ei_currents(const at::Tensor& presynaptic_rates, const at::Tensor& weight) {
  static const auto op = find_op<decltype(ops::ei_currents)>("eiprop::ei_currents");
  auto result = op.call(presynaptic_rates, weight);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result))};
}

}  // namespace eiprop
