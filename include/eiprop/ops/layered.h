// Typed C++ entry points to the eiprop operators. Each call goes through the PyTorch dispatcher,
// exactly as TorchScript and torch.ops.eiprop see the op; the schemas are the contract.
#pragma once

#include "eiprop/ops/relaxation.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <string>
#include <vector>

namespace eiprop {

struct EICurrents {
  at::Tensor excitatory;  // [B, N_post], >= 0
  at::Tensor inhibitory;  // [B, N_post], >= 0; excitatory - inhibitory = rates @ weight^T
};

// eiprop::ei_equilibrium. With options.strict(false) the call goes to eiprop::graph_equilibrium on
// the chain (the layered op's schema has no converged flag to return).
Equilibrium ei_equilibrium(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                           const std::vector<c10::optional<at::Tensor>>& biases,
                           const std::vector<std::string>& activations,
                           const RelaxationOptions& options = {},
                           const std::vector<std::string>& projections = {});

// eiprop::credit_relaxation; strict(false) as for ei_equilibrium, through
// eiprop::graph_credit_relaxation. input_credit = false skips the input credit (one GEMM with the
// widest weight when the input is wide); Credits::input_credit is then undefined.
Credits credit_relaxation(const at::Tensor& output_error, const std::vector<at::Tensor>& drives,
                          const std::vector<at::Tensor>& weights,
                          const std::vector<std::string>& activations,
                          const RelaxationOptions& options = {}, bool input_credit = true,
                          const std::vector<std::string>& projections = {});

// eiprop::plasticity
Updates plasticity(const at::Tensor& input, const std::vector<at::Tensor>& rates,
                   const std::vector<at::Tensor>& drives, const std::vector<at::Tensor>& credits,
                   const std::vector<std::string>& activations, double lr,
                   const std::vector<std::string>& projections = {});

// eiprop::learning_step: one step of the rule on the loss ("squared_error" or "cross_entropy", see
// the README) with the updates added into `weights` and `biases` in place (no input credit, no
// update tensors). The solves are strict: strict(false) is refused.
LearningStep learning_step(const at::Tensor& input, const at::Tensor& target,
                           const std::vector<at::Tensor>& weights,
                           const std::vector<c10::optional<at::Tensor>>& biases,
                           const std::vector<std::string>& activations, double lr,
                           const std::string& loss, const RelaxationOptions& options = {},
                           const std::vector<std::string>& projections = {});

// eiprop::circuit: the output population's equilibrium rates, differentiable. Its backward is
// credit relaxation with output_error = -grad_output (not autograd through the relaxation).
at::Tensor circuit(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                   const std::vector<c10::optional<at::Tensor>>& biases,
                   const std::vector<std::string>& activations,
                   const RelaxationOptions& options = {},
                   const std::vector<std::string>& projections = {});

// eiprop::ei_currents
EICurrents ei_currents(const at::Tensor& presynaptic_rates, const at::Tensor& weight);

}  // namespace eiprop
