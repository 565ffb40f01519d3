// How the relaxation operators reach an equilibrium, and what they return: the options and result
// types shared by the layered operators (eiprop/ops/layered.h), the graph operators
// (eiprop/ops/graph.h) and the modules.
#pragma once

#include <ATen/ATen.h>
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
  at::Tensor input_credit;          // [B, N_0]; undefined when the call skipped it
  int64_t iterations = 0;
  double residual = 0.0;
  bool converged = true;
};

// What a learning step (learning_step, graph_learning_step) returns; the weights and biases it
// was given have been updated in place.
struct LearningStep {
  at::Tensor output;  // the output population's rates before the update, [B, N_output]
  int64_t rate_iterations = 0;
  double rate_residual = 0.0;
  int64_t credit_iterations = 0;
  double credit_residual = 0.0;
};

struct Updates {
  std::vector<at::Tensor> weight_updates;  // lr/B * delta_l^T pre_l, [N_{l+1}, N_l]
  std::vector<at::Tensor> bias_updates;    // lr/B * sum_batch delta_l, [N_{l+1}]
};

}  // namespace eiprop
