// C++ signatures of the operators' kernels. Each op's schema string (in its own .cpp) is the
// source of truth; these declarations are what TORCH_FN infers it from and what the typed
// wrappers in include/eiprop/ops/layered.h call through the dispatcher with.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/List.h>
#include <c10/util/Optional.h>
#include <c10/util/string_view.h>

#include <string>
#include <tuple>
#include <vector>

namespace eiprop {
namespace ops {

using OptionalTensorList = c10::List<c10::optional<at::Tensor>>;
// `str[]? projections=None` (ops/projections.h): None or [] for all dense.
using OptionalStrings = c10::optional<std::vector<std::string>>;
using OptionalTensors = c10::optional<std::vector<at::Tensor>>;
// (rates, drives) of populations 1..P and the window winners of each projection (a max_pool2d
// projection's; an empty int64 tensor for every other kind); (input gradient, weight gradients,
// bias gradients).
using CircuitStates =
    std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, std::vector<at::Tensor>>;
using CircuitGradients = std::tuple<at::Tensor, std::vector<at::Tensor>, std::vector<at::Tensor>>;

inline OptionalTensorList optional_tensor_list(const std::vector<c10::optional<at::Tensor>>& tensors) {
  OptionalTensorList list;
  for (const auto& tensor : tensors) list.push_back(tensor);
  return list;
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, double> ei_equilibrium(
    const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt, const OptionalStrings& projections);

std::tuple<std::vector<at::Tensor>, at::Tensor, int64_t, double> credit_relaxation(
    const at::Tensor& output_error, at::TensorList drives, at::TensorList weights,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt, bool input_credit, const OptionalStrings& projections);

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    std::vector<std::string> activations, double lr, const OptionalStrings& projections);

at::Tensor circuit(const at::Tensor& input, at::TensorList weights,
                   const OptionalTensorList& biases, std::vector<std::string> activations,
                   c10::string_view method, int64_t max_iters, double tol, double dt,
                   const OptionalStrings& projections);

// The passes of circuit's autograd kernel (ops/circuit_call.h).
CircuitStates circuit_forward(const at::Tensor& input, at::TensorList weights,
                              const OptionalTensorList& biases,
                              std::vector<std::string> activations, c10::string_view method,
                              int64_t max_iters, double tol, double dt,
                              const OptionalStrings& projections);
CircuitGradients circuit_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                  at::TensorList weights, at::TensorList rates,
                                  at::TensorList drives, std::vector<std::string> activations,
                                  c10::string_view method, int64_t max_iters, double tol, double dt,
                                  c10::List<bool> output_mask,
                                  const OptionalStrings& projections,
                                  const OptionalTensors& winners, bool states_checked);

// The Autograd-key kernel of eiprop::circuit (ops/autograd/circuit_autograd.cpp).
at::Tensor circuit_autograd(const at::Tensor& input, at::TensorList weights,
                            const OptionalTensorList& biases, std::vector<std::string> activations,
                            c10::string_view method, int64_t max_iters, double tol, double dt,
                            const OptionalStrings& projections);

// The graph operators (ops/graph_*.cpp): circuits given by projections pre[k] -> post[k].
std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, double, bool>
graph_equilibrium(const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
                  at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations,
                  c10::string_view method, int64_t max_iters, double tol, double dt, bool strict,
                  const OptionalStrings& projections);

std::tuple<std::vector<at::Tensor>, at::Tensor, int64_t, double, bool> graph_credit_relaxation(
    const at::Tensor& output_error, int64_t output, at::TensorList drives, at::TensorList weights,
    at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations,
    c10::string_view method, int64_t max_iters, double tol, double dt, bool strict,
    bool input_credit, const OptionalStrings& projections);

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> graph_plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations, double lr,
    const OptionalStrings& projections);

at::Tensor graph_circuit(const at::Tensor& input, at::TensorList weights,
                         const OptionalTensorList& biases, at::IntArrayRef pre,
                         at::IntArrayRef post, std::vector<std::string> activations, int64_t output,
                         c10::string_view method, int64_t max_iters, double tol, double dt,
                         const OptionalStrings& projections);
CircuitStates graph_circuit_forward(const at::Tensor& input, at::TensorList weights,
                                    const OptionalTensorList& biases, at::IntArrayRef pre,
                                    at::IntArrayRef post, std::vector<std::string> activations,
                                    int64_t output, c10::string_view method, int64_t max_iters,
                                    double tol, double dt, const OptionalStrings& projections);
CircuitGradients graph_circuit_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                        at::TensorList weights, at::TensorList rates,
                                        at::TensorList drives, at::IntArrayRef pre,
                                        at::IntArrayRef post, std::vector<std::string> activations,
                                        int64_t output, c10::string_view method, int64_t max_iters,
                                        double tol, double dt, c10::List<bool> output_mask,
                                        const OptionalStrings& projections,
                                        const OptionalTensors& winners, bool states_checked);
at::Tensor graph_circuit_autograd(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, at::IntArrayRef pre,
                                  at::IntArrayRef post, std::vector<std::string> activations,
                                  int64_t output, c10::string_view method, int64_t max_iters,
                                  double tol, double dt, const OptionalStrings& projections);

// The learning-step operators (ops/learning_step.cpp, ops/graph_learning_step.cpp): the weights and
// biases are updated in place; (output rates, rate iterations, rate residual, credit iterations,
// credit residual) come back.
using LearningStepResult = std::tuple<at::Tensor, int64_t, double, int64_t, double>;
LearningStepResult learning_step(const at::Tensor& input, const at::Tensor& target,
                                 at::TensorList weights, const OptionalTensorList& biases,
                                 std::vector<std::string> activations, double lr,
                                 c10::string_view loss, c10::string_view method, int64_t max_iters,
                                 double tol, double dt, const OptionalStrings& projections);
LearningStepResult graph_learning_step(const at::Tensor& input, const at::Tensor& target,
                                       at::TensorList weights, const OptionalTensorList& biases,
                                       at::IntArrayRef pre, at::IntArrayRef post,
                                       std::vector<std::string> activations, int64_t output,
                                       double lr, c10::string_view loss, c10::string_view method,
                                       int64_t max_iters, double tol, double dt,
                                       const OptionalStrings& projections);

// eiprop::build_facts (ops/build_facts.cpp).
std::vector<int64_t> build_facts();

std::tuple<at::Tensor, at::Tensor> ei_currents(const at::Tensor& presynaptic_rates,
                                               const at::Tensor& weight);

}  // namespace ops
}  // namespace eiprop
