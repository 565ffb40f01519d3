// The typed wrappers of the graph operators: one dispatcher handle per op, looked up once.
#include "eiprop/ops/graph.h"

#include "ops/signatures.h"

#include "api/ops/dispatch.h"
#include "api/ops/strict.h"

namespace eiprop {
using api::find_op;

Equilibrium graph_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                              const std::vector<c10::optional<at::Tensor>>& biases,
                              const Graph& graph, const RelaxationOptions& options) {
  static const auto op = find_op<decltype(ops::graph_equilibrium)>("eiprop::graph_equilibrium");
  auto result = op.call(input, weights, ops::optional_tensor_list(biases), graph.pre, graph.post,
                        graph.activations, options.method(), options.max_iters(), options.tol(),
                        options.dt(), options.strict(), graph.projection_kinds);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result)), std::get<2>(result),
          std::get<3>(result), std::get<4>(result)};
}

Credits graph_credit_relaxation(const at::Tensor& output_error,
                                const std::vector<at::Tensor>& drives,
                                const std::vector<at::Tensor>& weights, const Graph& graph,
                                const RelaxationOptions& options, bool input_credit) {
  static const auto op =
      find_op<decltype(ops::graph_credit_relaxation)>("eiprop::graph_credit_relaxation");
  auto result = op.call(output_error, graph.output, drives, weights, graph.pre, graph.post,
                        graph.activations, options.method(), options.max_iters(), options.tol(),
                        options.dt(), options.strict(), input_credit, graph.projection_kinds);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result)), std::get<2>(result),
          std::get<3>(result), std::get<4>(result)};
}

Updates graph_plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                         const std::vector<at::Tensor>& drives,
                         const std::vector<at::Tensor>& credits, const Graph& graph, double lr) {
  static const auto op = find_op<decltype(ops::graph_plasticity)>("eiprop::graph_plasticity");
  auto result = op.call(input, rates, drives, credits, graph.pre, graph.post, graph.activations, lr,
                        graph.projection_kinds);
  return {std::move(std::get<0>(result)), std::move(std::get<1>(result))};
}

LearningStep graph_learning_step(const at::Tensor& input, const at::Tensor& target,
                                 const std::vector<at::Tensor>& weights,
                                 const std::vector<c10::optional<at::Tensor>>& biases,
                                 const Graph& graph, double lr, const std::string& loss,
                                 const RelaxationOptions& options) {
  api::require_strict("eiprop::graph_learning_step", options);
  static const auto op = find_op<decltype(ops::graph_learning_step)>("eiprop::graph_learning_step");
  auto result = op.call(input, target, weights, ops::optional_tensor_list(biases), graph.pre,
                        graph.post, graph.activations, graph.output, lr, loss, options.method(),
                        options.max_iters(), options.tol(), options.dt(), graph.projection_kinds);
  return api::learning_step_result(std::move(result));
}

at::Tensor graph_circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                         const std::vector<c10::optional<at::Tensor>>& biases, const Graph& graph,
                         const RelaxationOptions& options) {
  api::require_strict("eiprop::graph_circuit", options);
  static const auto op = find_op<decltype(ops::graph_circuit)>("eiprop::graph_circuit");
  return op.call(input, weights, ops::optional_tensor_list(biases), graph.pre, graph.post,
                 graph.activations, graph.output, options.method(), options.max_iters(),
                 options.tol(), options.dt(), graph.projection_kinds);
}

}  // namespace eiprop
