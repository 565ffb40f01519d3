// The autograd bridge of eiprop::circuit: forward relaxes the rates to the E-I equilibrium;
// backward relaxes the credits with output_error = -grad_output and returns
//   dLoss/dW_l = -delta_l^T pre_l,  dLoss/db_l = -sum_batch delta_l,  dLoss/dinput = -input_credit
// (THEORY §7). Nothing inside is differentiated by autograd.
#include "kernels/synapses.h"
#include "ops/layered.h"
#include "ops/validate.h"
#include "solvers/credit.h"
#include "solvers/firing.h"

#include <torch/autograd.h>
#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {

constexpr const char* kOp = "eiprop::circuit";
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class CircuitFunction : public torch::autograd::Function<CircuitFunction> {
 public:
  // biases: the layers' biases as given; present_biases: the defined ones, in layer order (the
  // only ones autograd sees as inputs).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, at::TensorList weights,
                            at::TensorList present_biases, const OptionalTensorList& bias_list,
                            const std::vector<std::string>& activations,
                            const std::string& method, int64_t max_iters, double tol, double dt) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const auto layered = parse_layered_forward(kOp, input, weights, bias_list, activations,
                                               method, max_iters, tol, dt);
    auto equilibrium = solvers::relax_rates(layered.circuit, input, layered.options);
    check_converged(kOp, "the firing rates", layered.options, equilibrium.stats);

    // Saved: input, weights, then per layer its rate and drive.
    std::vector<at::Tensor> saved{input};
    saved.insert(saved.end(), weights.begin(), weights.end());
    const auto layers = static_cast<int64_t>(weights.size());
    for (int64_t p = 1; p <= layers; ++p) {
      saved.push_back(equilibrium.rates[p]);
      saved.push_back(equilibrium.drives[p]);
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["activations"] = c10::List<std::string>(activations);
    ctx->saved_data["method"] = method;
    ctx->saved_data["max_iters"] = max_iters;
    ctx->saved_data["tol"] = tol;
    ctx->saved_data["dt"] = dt;
    c10::List<bool> has_bias;
    for (size_t l = 0; l < bias_list.size(); ++l) {
      const c10::optional<at::Tensor> bias = bias_list.get(l);
      has_bias.push_back(bias.has_value() && bias->defined());
    }
    ctx->saved_data["has_bias"] = has_bias;
    return equilibrium.rates.back();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto has_bias = ctx->saved_data["has_bias"].toBoolList();
    const auto layers = static_cast<int64_t>(has_bias.size());
    const at::Tensor& input = saved[0];
    std::vector<at::Tensor> weights(saved.begin() + 1, saved.begin() + 1 + layers);
    std::vector<at::Tensor> rates{input}, drives{at::Tensor()};
    for (int64_t p = 1; p <= layers; ++p) {
      rates.push_back(saved[1 + layers + 2 * (p - 1)]);
      drives.push_back(saved[2 + layers + 2 * (p - 1)]);
    }
    std::vector<std::string> activations;
    for (const auto& name : ctx->saved_data["activations"].toListRef()) {
      activations.push_back(name.toStringRef());
    }
    const auto options = parse_solver_options(
        kOp, ctx->saved_data["method"].toStringRef(), ctx->saved_data["max_iters"].toInt(),
        ctx->saved_data["tol"].toDouble(), ctx->saved_data["dt"].toDouble(),
        input.scalar_type());
    const auto circuit = kernels::Circuit::layered(
        weights, std::vector<c10::optional<at::Tensor>>(layers),
        parse_activations(kOp, activations));

    const bool input_needs_grad = ctx->needs_input_grad(0);
    const auto output_error = -grad_outputs[0];
    const auto credits = solvers::relax_credits(circuit, drives, rates, layers, output_error,
                                                options, input_needs_grad);
    check_converged(kOp, "the credits (backward)", options, credits.stats);

    // One gradient per forward argument: input, weights..., present biases..., then the 6
    // non-differentiable arguments.
    int64_t present = 0;
    for (int64_t l = 0; l < layers; ++l) present += has_bias[l] ? 1 : 0;
    variable_list grads(1 + layers + present + 6);
    if (input_needs_grad) grads[0] = credits.credits[0].neg();
    int64_t bias_slot = 1 + layers;
    for (int64_t l = 0; l < layers; ++l) {
      const auto& delta = credits.balance_credits[l + 1];
      if (ctx->needs_input_grad(1 + l)) {
        grads[1 + l] = kernels::weight_plasticity(delta, rates[l], -1.0);
      }
      if (has_bias[l]) {
        if (ctx->needs_input_grad(bias_slot)) grads[bias_slot] = kernels::bias_plasticity(delta, -1.0);
        ++bias_slot;
      }
    }
    return grads;
  }
};

}  // namespace

at::Tensor circuit_autograd(const at::Tensor& input, at::TensorList weights,
                            const OptionalTensorList& biases, std::vector<std::string> activations,
                            c10::string_view method, int64_t max_iters, double tol, double dt) {
  std::vector<at::Tensor> present_biases;
  for (size_t l = 0; l < biases.size(); ++l) {
    const c10::optional<at::Tensor> bias = biases.get(l);
    if (bias.has_value() && bias->defined()) present_biases.push_back(*bias);
  }
  return CircuitFunction::apply(input, weights, at::TensorList(present_biases), biases,
                                activations, std::string(method.data(), method.size()), max_iters,
                                tol, dt);
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_IMPL(eiprop, Autograd, m) {
  m.impl("circuit", TORCH_FN(eiprop::ops::circuit_autograd));
}
