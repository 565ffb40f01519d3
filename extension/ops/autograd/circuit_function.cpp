#include "ops/autograd/circuit_function.h"

#include "ops/graph.h"
#include "ops/layered.h"
#include "ops/learning_step.h"
#include "ops/validate.h"

#include <torch/autograd.h>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>


namespace eiprop {
namespace ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

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

// Validates the call as its op does (a chain's errors name layers) and completes a chain's
// pre/post/output.
GraphCircuit parse_forward(const at::Tensor& input, at::TensorList weights,
                           const OptionalTensorList& biases, CircuitCall& call) {
  if (call.layered) {
    const auto layers = static_cast<int64_t>(weights.size());
    auto graph = parse_layered(call.op, input, weights, biases, call.activations);
    call.pre = chain_pre(layers);
    call.post = chain_post(layers);
    call.output = layers;
    return graph;
  }
  check_matrix(call.op, "input", input, at::Tensor());
  auto graph = parse_graph(call.op, input.size(1), input, weights, biases, call.pre, call.post,
                           call.activations);
  check_output_population(call.op, call.output, graph.circuit.populations());
  return graph;
}

class CircuitFunction : public torch::autograd::Function<CircuitFunction> {
 public:
  // biases: the populations' biases as given; present_biases: the defined ones, in population
  // order (the only ones autograd sees as inputs).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, at::TensorList weights,
                            at::TensorList present_biases, const OptionalTensorList& biases,
                            CircuitCall call) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const auto graph = parse_forward(input, weights, biases, call);
    const auto options =
        parse_graph_solver_options(call.op, graph, Relaxed::rates, call.method, call.max_iters,
                                   call.tol, call.dt, input.scalar_type());
    const auto solved = equilibrium(call.op, graph.circuit, input, options);

    // Saved: input, weights, then per population its rate and drive, then the present biases
    // (read only to connect a double backward's error to them).
    const int64_t populations = graph.circuit.populations();
    std::vector<at::Tensor> saved{input};
    saved.insert(saved.end(), weights.begin(), weights.end());
    for (int64_t p = 1; p <= populations; ++p) {
      saved.push_back(solved.rates[p]);
      saved.push_back(solved.drives[p]);
    }
    saved.insert(saved.end(), present_biases.begin(), present_biases.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["op"] = std::string(call.op);
    ctx->saved_data["activations"] = c10::List<std::string>(call.activations);
    ctx->saved_data["pre"] = c10::List<int64_t>(call.pre);
    ctx->saved_data["post"] = c10::List<int64_t>(call.post);
    ctx->saved_data["output"] = call.output;
    ctx->saved_data["method"] = call.method;
    ctx->saved_data["max_iters"] = call.max_iters;
    ctx->saved_data["tol"] = call.tol;
    ctx->saved_data["dt"] = call.dt;
    c10::List<bool> has_bias;
    for (int64_t p = 1; p <= populations; ++p) has_bias.push_back(graph.circuit.bias(p).has_value());
    ctx->saved_data["has_bias"] = has_bias;
    return solved.rates[call.output];
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto op = ctx->saved_data["op"].toStringRef();
    if (at::GradMode::is_enabled()) {
      variable_list grads;
      {
        at::NoGradGuard no_grad;
        grads = credit_gradients(ctx, grad_outputs);
      }
      // The forward's inputs (input, weights, present biases) and grad_output.
      const auto saved = ctx->get_saved_variables();
      const auto projections = static_cast<int64_t>(ctx->saved_data["pre"].toIntVector().size());
      const auto populations = static_cast<int64_t>(ctx->saved_data["has_bias"].toBoolList().size());
      variable_list sources(saved.begin(), saved.begin() + 1 + projections);
      sources.insert(sources.end(), saved.begin() + 1 + projections + 2 * populations, saved.end());
      sources.push_back(grad_outputs[0]);
      return once_differentiable(op, grads, sources);
    }
    return credit_gradients(ctx, grad_outputs);
  }

 private:
  static variable_list credit_gradients(AutogradContext* ctx, const variable_list& grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto has_bias = ctx->saved_data["has_bias"].toBoolList();
    const auto pre = ctx->saved_data["pre"].toIntVector();
    const auto post = ctx->saved_data["post"].toIntVector();
    const auto populations = static_cast<int64_t>(has_bias.size());
    const auto projections = static_cast<int64_t>(pre.size());
    const auto op = ctx->saved_data["op"].toStringRef();
    const at::Tensor& input = saved[0];
    std::vector<kernels::Projection> circuit_projections;
    for (int64_t k = 0; k < projections; ++k) {
      circuit_projections.push_back(kernels::Projection{pre[k], post[k], saved[1 + k]});
    }
    std::vector<at::Tensor> rates{input}, drives{at::Tensor()};
    for (int64_t p = 1; p <= populations; ++p) {
      rates.push_back(saved[1 + projections + 2 * (p - 1)]);
      drives.push_back(saved[2 + projections + 2 * (p - 1)]);
    }
    std::vector<std::string> activations;
    for (const auto& name : ctx->saved_data["activations"].toListRef()) {
      activations.push_back(name.toStringRef());
    }
    const auto options = parse_solver_options(
        op.c_str(), ctx->saved_data["method"].toStringRef(), ctx->saved_data["max_iters"].toInt(),
        ctx->saved_data["tol"].toDouble(), ctx->saved_data["dt"].toDouble(),
        input.scalar_type());
    const kernels::Circuit circuit(populations, std::move(circuit_projections),
                                   std::vector<c10::optional<at::Tensor>>(populations),
                                   parse_activations(op.c_str(), activations));

    // Credit is linear in the output imbalance e = -B dLoss/dr_o, and the gradients are minus
    // the plasticity per unit rate: relaxing the credit of e = grad_output (dLoss/dr_o, without
    // the minus sign) gives the gradients directly, with no negation pass over any tensor.
    // IEEE negation is exact, so the results are bitwise those of relaxing -grad_output.
    const bool input_needs_grad = ctx->needs_input_grad(0);
    const auto credits = credit(op.c_str(), "the credits (backward)", circuit, drives, rates,
                                ctx->saved_data["output"].toInt(), grad_outputs[0], options,
                                /*strict=*/true, input_needs_grad);

    // One gradient per forward argument: input, weights..., present biases..., then the 2
    // non-differentiable arguments.
    std::vector<bool> weight_wanted(projections), bias_wanted(populations);
    int64_t slot = 1 + projections;
    for (int64_t k = 0; k < projections; ++k) weight_wanted[k] = ctx->needs_input_grad(1 + k);
    for (int64_t p = 0; p < populations; ++p) {
      bias_wanted[p] = has_bias[p] && ctx->needs_input_grad(slot);
      slot += has_bias[p] ? 1 : 0;
    }
    auto gradients = plasticity_updates(pre, post, credits.balance_credits, rates, /*scale=*/1.0,
                                        weight_wanted, bias_wanted);
    variable_list grads(slot + 2);
    if (input_needs_grad) grads[0] = credits.credits[0];
    for (int64_t k = 0; k < projections; ++k) grads[1 + k] = gradients.weight_updates[k];
    slot = 1 + projections;
    for (int64_t p = 0; p < populations; ++p) {
      if (has_bias[p]) grads[slot++] = gradients.bias_updates[p];
    }
    return grads;
  }
};

}  // namespace

at::Tensor differentiable_circuit(const at::Tensor& input, at::TensorList weights,
                                  const OptionalTensorList& biases, CircuitCall call) {
  std::vector<at::Tensor> present_biases;
  for (size_t p = 0; p < biases.size(); ++p) {
    const c10::optional<at::Tensor> bias = biases.get(p);
    if (bias.has_value() && bias->defined()) present_biases.push_back(*bias);
  }
  return CircuitFunction::apply(input, weights, at::TensorList(present_biases), biases,
                                std::move(call));
}

}  // namespace ops
}  // namespace eiprop
