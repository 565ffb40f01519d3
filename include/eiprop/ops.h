// Typed C++ entry points to the eiprop operators. Each call goes through the PyTorch dispatcher,
// exactly as TorchScript and torch.ops.eiprop see the op; the schemas are the contract.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Optional.h>
#include <torch/arg.h>

#include <string>
#include <vector>

namespace eiprop {

// How an equilibrium is reached (docs/theory.md §2-3): "sweep", "jacobi", "euler" or "anderson".
struct RelaxationOptions {
  /* implicit */ RelaxationOptions(std::string method = "sweep") : method_(std::move(method)) {}
  TORCH_ARG(std::string, method);
  // 0: the method's default (10000 iterations for euler).
  TORCH_ARG(int64_t, max_iters) = 0;
  // 0: the dtype's default (1e-12 float64, 1e-6 float32): the largest change a step would make,
  // relative to each population's own scale.
  TORCH_ARG(double, tol) = 0.0;
  // euler step (anderson: mixing) as a fraction of the time constant, in (0, 1].
  TORCH_ARG(double, dt) = 1.0;
  // The relaxations (ei_equilibrium, credit_relaxation and their graph_ forms): raise when a
  // solve does not converge (true), or return its results with converged = false (false).
  // Non-finite results always raise. The differentiable circuits and the modules return rates
  // only, with no flag to carry: they raise, and refuse strict(false).
  TORCH_ARG(bool, strict) = true;
};

// A layered circuit is the graph 0 -> 1 -> ... -> L (layer l = population l+1), so both kinds of
// operator return the same results: entry i belongs to population i+1.
struct Equilibrium {
  std::vector<at::Tensor> rates;   // rates[i]: population i+1's rates, [B, N_{i+1}]
  std::vector<at::Tensor> drives;  // drives[i]: its drive u = sum of pre W^T, + b
  int64_t iterations = 0;
  double residual = 0.0;
  bool converged = true;
};

struct Credits {
  std::vector<at::Tensor> credits;  // credits[i]: population i+1's credit, [B, N_{i+1}]
  at::Tensor input_credit;          // [B, N_0]
  int64_t iterations = 0;
  double residual = 0.0;
  bool converged = true;
};

struct Updates {
  std::vector<at::Tensor> weight_updates;  // lr/B * delta_l^T pre_l, [N_{l+1}, N_l]
  std::vector<at::Tensor> bias_updates;    // lr/B * sum_batch delta_l, [N_{l+1}]
};

struct EICurrents {
  at::Tensor excitatory;  // [B, N_post], >= 0
  at::Tensor inhibitory;  // [B, N_post], >= 0; excitatory - inhibitory = rates @ weight^T
};

// eiprop::ei_equilibrium. With options.strict(false) the call goes to eiprop::graph_equilibrium
// on the chain (the layered op's schema has no converged flag to return).
Equilibrium ei_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                           const std::vector<c10::optional<at::Tensor>>& biases,
                           const std::vector<std::string>& activations,
                           const RelaxationOptions& options = {});

// eiprop::credit_relaxation; strict(false) as for ei_equilibrium, through
// eiprop::graph_credit_relaxation.
Credits credit_relaxation(const at::Tensor& output_error, const std::vector<at::Tensor>& drives,
                          const std::vector<at::Tensor>& weights,
                          const std::vector<std::string>& activations,
                          const RelaxationOptions& options = {});

// eiprop::plasticity
Updates plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                   const std::vector<at::Tensor>& drives, const std::vector<at::Tensor>& credits,
                   const std::vector<std::string>& activations, double lr);

// eiprop::circuit: the output population's equilibrium rates, differentiable. Its backward is
// credit relaxation with output_error = -grad_output (not autograd through the relaxation).
at::Tensor circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                   const std::vector<c10::optional<at::Tensor>>& biases,
                   const std::vector<std::string>& activations,
                   const RelaxationOptions& options = {});

// eiprop::ei_currents
EICurrents ei_currents(const at::Tensor& presynaptic_rates, const at::Tensor& weight);

}  // namespace eiprop
