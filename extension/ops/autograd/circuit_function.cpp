#include "ops/autograd/circuit_function.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>

namespace eiprop {
namespace ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The four passes, called through the dispatcher (so that a tracer sees the ops).
template <typename Signature>
c10::TypedOperatorHandle<Signature> operator_handle(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}
const auto& circuit_forward_op() {
  static const auto op = operator_handle<decltype(circuit_forward)>("eiprop::_circuit_forward");
  return op;
}
const auto& graph_circuit_forward_op() {
  static const auto op =
      operator_handle<decltype(graph_circuit_forward)>("eiprop::_graph_circuit_forward");
  return op;
}
const auto& circuit_backward_op() {
  static const auto op = operator_handle<decltype(circuit_backward)>("eiprop::_circuit_backward");
  return op;
}
const auto& graph_circuit_backward_op() {
  static const auto op =
      operator_handle<decltype(graph_circuit_backward)>("eiprop::_graph_circuit_backward");
  return op;
}

// The gradients this backward returns are not differentiable again: credit relaxation gives the
// first derivative only. Under create_graph=True they are returned as outputs of PyTorch's Error
// node, whose edges lead to everything they depend on (the forward's inputs and grad_output), so
// the first-order gradients stay usable while any gradient of them, by backward() or by grad()
// with respect to any of those tensors, raises instead of returning a wrong second derivative.
variable_list once_differentiable(const std::string& op, const variable_list& grads,
                                  const variable_list& sources) {
  torch::autograd::tensor_list values;
  values.reserve(grads.size());
  for (const auto& grad : grads) values.push_back(grad.defined() ? grad.detach() : at::Tensor());
  auto message =
      op + ": double backward is not supported: its backward (credit relaxation) gives first "
           "derivatives only, and they cannot be differentiated again (create_graph=True, then a "
           "gradient of the gradient). For second derivatives use autograd through the plain "
           "operations (a BalancedMLP or RecurrentCircuit with learning = autograd).";
  return torch::autograd::wrap_outputs(
      sources, std::move(values), [&](torch::autograd::edge_list&& next_edges) {
        return std::make_shared<torch::autograd::Error>(std::move(message), std::move(next_edges));
      });
}

std::vector<std::string> strings(const c10::IValue& list) {
  std::vector<std::string> values;
  for (const auto& value : list.toListRef()) values.push_back(value.toStringRef());
  return values;
}

class CircuitFunction : public torch::autograd::Function<CircuitFunction> {
 public:
  // biases: the populations' biases as given; present_biases: the defined ones, in population
  // order (the only ones autograd sees as inputs). Only list lengths are read here, never a
  // tensor's sizes: the forward op validates the call (and a tracer's sizes may be symbolic).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, at::TensorList weights,
                            at::TensorList present_biases, const OptionalTensorList& biases,
                            CircuitArguments arguments) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const auto& a = arguments;
    const auto states =
        a.layered ? circuit_forward_op().call(input, weights, biases, a.activations, a.method,
                                              a.max_iters, a.tol, a.dt, a.projections)
                  : graph_circuit_forward_op().call(input, weights, biases, a.pre, a.post,
                                                    a.activations, a.output, a.method, a.max_iters,
                                                    a.tol, a.dt, a.projections);
    const auto& rates = std::get<0>(states);
    const auto& drives = std::get<1>(states);
    const auto& winners = std::get<2>(states);
    const auto populations = static_cast<int64_t>(rates.size());
    const int64_t output = arguments.layered ? populations : arguments.output;
    TORCH_INTERNAL_ASSERT(output >= 1 && output <= populations && drives.size() == rates.size() &&
                          winners.size() == weights.size());

    // Saved: input, weights, the rates and drives of populations 1..P, the present biases (read
    // only to connect a double backward's error to them), then each projection's window winners.
    std::vector<at::Tensor> saved{input};
    saved.insert(saved.end(), weights.begin(), weights.end());
    saved.insert(saved.end(), rates.begin(), rates.end());
    saved.insert(saved.end(), drives.begin(), drives.end());
    saved.insert(saved.end(), present_biases.begin(), present_biases.end());
    saved.insert(saved.end(), winners.begin(), winners.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["layered"] = arguments.layered;
    ctx->saved_data["activations"] = c10::List<std::string>(arguments.activations);
    ctx->saved_data["pre"] = c10::List<int64_t>(arguments.pre);
    ctx->saved_data["post"] = c10::List<int64_t>(arguments.post);
    ctx->saved_data["output"] = output;
    ctx->saved_data["method"] = arguments.method;
    ctx->saved_data["max_iters"] = arguments.max_iters;
    ctx->saved_data["tol"] = arguments.tol;
    ctx->saved_data["dt"] = arguments.dt;
    ctx->saved_data["kinds"] = c10::List<std::string>(arguments.projections);
    ctx->saved_data["projections"] = static_cast<int64_t>(weights.size());
    c10::List<bool> has_bias;
    for (int64_t p = 0; p < populations; ++p) {
      const bool present = p < static_cast<int64_t>(biases.size()) && biases.get(p).has_value() &&
                           biases.get(p)->defined();
      has_bias.push_back(present);
    }
    ctx->saved_data["has_bias"] = has_bias;
    return rates[output - 1];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    if (!at::GradMode::is_enabled()) return gradients(ctx, grad_outputs);
    variable_list grads;
    {
      at::NoGradGuard no_grad;
      grads = gradients(ctx, grad_outputs);
    }
    // The forward's inputs (input, weights, present biases) and grad_output.
    const auto saved = ctx->get_saved_variables();
    const auto projections = ctx->saved_data["projections"].toInt();
    const auto populations = static_cast<int64_t>(ctx->saved_data["has_bias"].toBoolList().size());
    variable_list sources(saved.begin(), saved.begin() + 1 + projections);
    sources.insert(sources.end(), saved.begin() + 1 + projections + 2 * populations,
                   saved.end() - projections);
    sources.push_back(grad_outputs[0]);
    const bool layered = ctx->saved_data["layered"].toBool();
    return once_differentiable(layered ? "eiprop::circuit" : "eiprop::graph_circuit", grads,
                               sources);
  }

 private:
  static variable_list gradients(AutogradContext* ctx, const variable_list& grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto has_bias = ctx->saved_data["has_bias"].toBoolList();
    const auto projections = ctx->saved_data["projections"].toInt();
    const auto populations = static_cast<int64_t>(has_bias.size());
    const at::Tensor& input = saved[0];
    const std::vector<at::Tensor> weights(saved.begin() + 1, saved.begin() + 1 + projections);
    const auto rates_begin = saved.begin() + 1 + projections;
    const std::vector<at::Tensor> rates(rates_begin, rates_begin + populations);
    const std::vector<at::Tensor> drives(rates_begin + populations,
                                         rates_begin + 2 * populations);
    const std::vector<at::Tensor> winners(saved.end() - projections, saved.end());

    // What autograd wants: the input, each weight, each present bias (in population order).
    c10::List<bool> output_mask;
    output_mask.push_back(ctx->needs_input_grad(0));
    for (int64_t k = 0; k < projections; ++k) output_mask.push_back(ctx->needs_input_grad(1 + k));
    int64_t slot = 1 + projections;
    for (int64_t p = 0; p < populations; ++p) {
      output_mask.push_back(has_bias[p] && ctx->needs_input_grad(slot));
      slot += has_bias[p] ? 1 : 0;
    }

    const auto activations = strings(ctx->saved_data["activations"]);
    const auto method = ctx->saved_data["method"].toStringRef();
    const auto max_iters = ctx->saved_data["max_iters"].toInt();
    const auto tol = ctx->saved_data["tol"].toDouble();
    const auto dt = ctx->saved_data["dt"].toDouble();
    const auto kinds = strings(ctx->saved_data["kinds"]);
    const auto computed =
        ctx->saved_data["layered"].toBool()
            ? circuit_backward_op().call(grad_outputs[0], input, weights, rates, drives,
                                         activations, method, max_iters, tol, dt, output_mask,
                                         kinds, winners, /*states_checked=*/true)
            : graph_circuit_backward_op().call(grad_outputs[0], input, weights, rates, drives,
                                               ctx->saved_data["pre"].toIntVector(),
                                               ctx->saved_data["post"].toIntVector(), activations,
                                               ctx->saved_data["output"].toInt(), method, max_iters,
                                               tol, dt, output_mask, kinds, winners,
                                               /*states_checked=*/true);

    // One gradient per forward argument: input, weights..., present biases..., then the 2
    // non-differentiable arguments.
    variable_list grads(slot + 2);
    grads[0] = std::get<0>(computed);
    const auto asked = [&](int64_t begin, int64_t count) {
      int64_t n = 0;
      for (int64_t i = begin; i < begin + count; ++i) n += output_mask.get(i) ? 1 : 0;
      return static_cast<size_t>(n);
    };
    TORCH_CHECK(std::get<1>(computed).size() == asked(1, projections) &&
                    std::get<2>(computed).size() == asked(1 + projections, populations),
                "eiprop: the circuit's backward op returned ", std::get<1>(computed).size(),
                " weight and ", std::get<2>(computed).size(),
                " bias gradients, not the ones output_mask asked for");
    auto weight_grad = std::get<1>(computed).begin();
    for (int64_t k = 0; k < projections; ++k) {
      if (output_mask.get(1 + k)) grads[1 + k] = *weight_grad++;
    }
    auto bias_grad = std::get<2>(computed).begin();
    slot = 1 + projections;
    for (int64_t p = 0; p < populations; ++p) {
      if (output_mask.get(1 + projections + p)) grads[slot] = *bias_grad++;
      slot += has_bias[p] ? 1 : 0;
    }
    return grads;
  }
};

}  // namespace

at::Tensor differentiable_circuit(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, CircuitArguments arguments) {
  std::vector<at::Tensor> present_biases;
  for (size_t p = 0; p < biases.size(); ++p) {
    const c10::optional<at::Tensor> bias = biases.get(p);
    if (bias.has_value() && bias->defined()) present_biases.push_back(*bias);
  }
  return CircuitFunction::apply(input, weights, at::TensorList(present_biases), biases,
                                std::move(arguments));
}

}  // namespace ops
}  // namespace eiprop
