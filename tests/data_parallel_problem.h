// The training problem of the data-parallel tests, shared by the test (one process, whole
// batches) and the worker program (one rank, its shard of each batch): a small float64 circuit,
// fixed data, and four ways to learn — the rule on the squared error, the rule on
// cross-entropy, and the autograd bridge with SGD (momentum) or Adam.
#pragma once

#include <eiprop/eiprop.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace eiprop {
namespace testing {

inline const std::vector<std::string> kTrainingModes = {"rule", "rule_ce", "sgd", "adam"};

inline BalancedMLP make_problem_module() {
  torch::manual_seed(7);
  BalancedMLP module(BalancedMLPOptions({12, 16, 10, 4}).activation("tanh"));
  module->to(at::kDouble);
  return module;
}

struct ProblemBatch {
  at::Tensor input;   // [B, 12]
  at::Tensor target;  // [B, 4], for the squared error
  at::Tensor labels;  // [B], for cross-entropy
};

inline ProblemBatch problem_batch(int64_t step, int64_t batch) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1000 + step);
  const auto options = at::TensorOptions().dtype(at::kDouble);
  return {at::randn({batch, 12}, generator, options),
          at::rand({batch, 4}, generator, options),
          at::randint(0, 4, {batch}, generator, at::TensorOptions().dtype(at::kLong))};
}

// A training step on one batch (the whole batch in one process, a shard in a rank). `finish`
// turns the local gradients into the ones to apply (identity in one process; the ranks'
// average in data-parallel training); `rule_step` does the same for the rule's updates.
struct Trainer {
  using RuleStep = std::function<void(PlasticityRule&, const at::Tensor& input,
                                      const std::function<at::Tensor(const at::Tensor&)>&)>;
  Trainer(BalancedMLP module, std::string mode) : module(module), mode(std::move(mode)) {
    if (this->mode == "sgd") {
      optimizer = std::make_unique<torch::optim::SGD>(
          module->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    } else if (this->mode == "adam") {
      optimizer = std::make_unique<torch::optim::Adam>(module->parameters(),
                                                       torch::optim::AdamOptions(0.01));
    } else {
      TORCH_CHECK(this->mode == "rule" || this->mode == "rule_ce", "unknown mode ", this->mode);
      rule = std::make_unique<PlasticityRule>(module, 0.2);
    }
  }

  void step(const ProblemBatch& batch, const RuleStep& rule_step,
            const std::function<void(int64_t samples)>& finish) {
    if (rule) {
      if (mode == "rule") {
        const auto target = batch.target;
        rule_step(*rule, batch.input, [target](const at::Tensor& output) { return target - output; });
      } else {
        const auto labels = batch.labels;
        rule_step(*rule, batch.input, [labels](const at::Tensor& output) {
          return torch::one_hot(labels, output.size(1)).to(output.dtype()) - output.softmax(1);
        });
      }
      return;
    }
    optimizer->zero_grad();
    if (batch.input.size(0) > 0) {
      torch::nn::functional::cross_entropy(module->forward(batch.input), batch.labels).backward();
    }
    finish(batch.input.size(0));
    optimizer->step();
  }

  BalancedMLP module;
  std::string mode;
  std::unique_ptr<PlasticityRule> rule;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

// The reference: one process, the whole batch of every step.
inline std::vector<at::Tensor> train_single_process(const std::string& mode, int64_t steps,
                                                    int64_t batch) {
  auto module = make_problem_module();
  Trainer trainer(module, mode);
  for (int64_t s = 0; s < steps; ++s) {
    trainer.step(
        problem_batch(s, batch),
        [](PlasticityRule& rule, const at::Tensor& input,
           const std::function<at::Tensor(const at::Tensor&)>& imbalance) { rule.step(input, imbalance); },
        [](int64_t) {});
  }
  return module->parameters();
}

}  // namespace testing
}  // namespace eiprop
