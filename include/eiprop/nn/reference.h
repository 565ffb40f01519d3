// LibTorch autograd as the reference the rule is A/B-tested against: the same layered network
// built from LibTorch's own functions, differentiated by autograd, and agreement metrics.
#pragma once

#include "eiprop/ops/graph.h"
#include "eiprop/ops/layered.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <string>
#include <vector>

namespace eiprop {

// f(u) computed with LibTorch's functions (autograd records them), for the activation names of
// the ops: identity, tanh, sigmoid, relu, leaky_relu (0.01), softplus (beta 1, threshold 20),
// elu (alpha 1).
at::Tensor autograd_rate(const std::string& activation, const at::Tensor& drive);

// The layered network r_L = f_L(... f_1(input W_1^T + b_1) ...) built from LibTorch functions,
// so that autograd differentiates it (the `autograd` side of every A/B comparison).
at::Tensor autograd_forward(const at::Tensor& input, const std::vector<at::Tensor>& weights,
                            const std::vector<c10::optional<at::Tensor>>& biases,
                            const std::vector<std::string>& activations);

// A circuit graph's rates built from LibTorch functions, so that autograd differentiates them:
// `iterations` synchronous updates r_p <- r_p + dt (f_p(u_p(r)) - r_p) from r = 0 (dt = 1:
// jacobi). Backpropagating through the result is backprop through the unrolled firing
// iterations. Returns every population's rates (index p-1). biases: one per population or empty.
std::vector<at::Tensor> autograd_unrolled(const at::Tensor& input,
                                          const std::vector<at::Tensor>& weights,
                                          const std::vector<c10::optional<at::Tensor>>& biases,
                                          const Graph& graph, int64_t iterations, double dt = 1.0);

struct UnrolledEquilibrium {
  std::vector<at::Tensor> rates;  // every population's rates (index p-1), autograd-tracked
  int64_t iterations = 0;
  double residual = 0.0;
};

// autograd_unrolled run until the relative residual (measured without autograd) is below tol:
// method euler unrolls euler steps of size dt, every other method unrolls jacobi updates
// (exact after the depth of an acyclic graph). Raises when max_iters is reached first.
UnrolledEquilibrium autograd_equilibrium(const at::Tensor& input,
                                         const std::vector<at::Tensor>& weights,
                                         const std::vector<c10::optional<at::Tensor>>& biases,
                                         const Graph& graph, const RelaxationOptions& options);

struct AutogradGradients {
  std::vector<at::Tensor> rates;         // the forward pass, layer by layer
  at::Tensor loss;                       // 1/(2B) sum ||target - r_L||^2
  std::vector<at::Tensor> weight_grads;  // dLoss/dW_l
  std::vector<at::Tensor> bias_grads;    // dLoss/db_l (undefined where the layer has no bias)
  at::Tensor input_grad;                 // dLoss/dinput
};

// Backpropagation through the layered circuit for the squared error of docs/theory.md §3. The
// drives use the same GEMM calls as the rule (addmm with a bias, mm without) so gates at u = 0
// agree.
AutogradGradients autograd_gradients(const at::Tensor& input,
                                     const std::vector<at::Tensor>& weights,
                                     const std::vector<c10::optional<at::Tensor>>& biases,
                                     const std::vector<std::string>& activations,
                                     const at::Tensor& target);

// max |actual - expected| / max |expected|; 0 when both are exactly zero.
double relative_error(const at::Tensor& actual, const at::Tensor& expected);
// <actual, expected> / (|actual| |expected|); 1 when both are exactly zero.
double cosine_similarity(const at::Tensor& actual, const at::Tensor& expected);

}  // namespace eiprop
