// The options of BalancedMLP (eiprop/nn/balanced_mlp.h), as torch/nn/options/linear.h holds
// LinearOptions.
#pragma once

#include "eiprop/nn/options/learning.h"
#include "eiprop/ops/relaxation.h"

#include <torch/arg.h>

#include <string>
#include <vector>

namespace eiprop {

struct BalancedMLPOptions {
  /* implicit */ BalancedMLPOptions(std::vector<int64_t> widths) : widths_(std::move(widths)) {}
  // The activation of each layer, as the ops take them.
  std::vector<std::string> layer_activations() const;

  // Population widths N_0 (input), N_1, ..., N_L (output).
  TORCH_ARG(std::vector<int64_t>, widths);
  // Activation of every hidden population, and of the output population.
  TORCH_ARG(std::string, activation) = "tanh";
  TORCH_ARG(std::string, output_activation) = "identity";
  // One activation per layer; when not empty it replaces activation/output_activation.
  TORCH_ARG(std::vector<std::string>, activations) = {};
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Learning, learning) = Learning::credit;
  TORCH_ARG(RelaxationOptions, relaxation) = RelaxationOptions("sweep");
};

}  // namespace eiprop
