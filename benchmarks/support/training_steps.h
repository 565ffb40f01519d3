// One training step on a layered circuit, three ways, from the same initial weights and on the
// same batches:
//   rule:     eiprop::PlasticityRule — equilibrium, credit relaxation, plasticity applied in place
//   module:   eiprop::BalancedMLP (credit learning) + loss.backward() + torch::optim::SGD
//   autograd: a torch::nn::Linear/Tanh stack + loss.backward() + torch::optim::SGD
// All three take exactly one SGD step on Loss = 1/(2B) sum ||target - r_L||^2 (tanh hidden
// populations, identity output), so their weights stay equal step after step.
#pragma once

#include "support/layered_shape.h"

#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <memory>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

enum class StepPath { rule, module, autograd };
const char* path_name(StepPath path);
// "rule", "module" or "autograd"; throws std::invalid_argument otherwise.
StepPath parse_path(const std::string& name);

struct ProblemOptions {
  LayeredShape shape;
  std::string method = "sweep";  // the rule's relaxation method
  torch::Dtype dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  double lr = 1e-3;
  uint64_t seed = 0;
  int64_t batches = 4;  // the steps cycle through this many random batches
};

// The initial weights and the batches every path starts from.
struct LayeredProblem {
  explicit LayeredProblem(ProblemOptions options);
  ProblemOptions options;
  std::vector<torch::Tensor> weights;  // [N_{l+1}, N_l]
  std::vector<torch::Tensor> biases;   // [N_{l+1}]
  std::vector<torch::Tensor> inputs;   // [B, N_0]
  std::vector<torch::Tensor> targets;  // [B, N_L]
};

class TrainingStep {
 public:
  virtual ~TrainingStep() = default;
  // One step on the next batch (asynchronous on CUDA; synchronize to time it).
  virtual void run() = 0;
  // The current weights, layer by layer.
  virtual std::vector<torch::Tensor> weights() const = 0;
};

// A path with its own copy of the problem's initial weights.
std::unique_ptr<TrainingStep> make_training_step(StepPath path, const LayeredProblem& problem);

// Largest relative difference (eiprop::relative_error) between two paths' weights over the layers.
double weight_difference(const TrainingStep& a, const TrainingStep& b);

}  // namespace bench
}  // namespace eiprop
