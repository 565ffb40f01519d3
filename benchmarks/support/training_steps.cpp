#include "support/training_steps.h"

#include <eiprop/eiprop.h>

#include <algorithm>
#include <stdexcept>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

namespace eiprop {
namespace bench {
namespace {

torch::Tensor squared_error(const torch::Tensor& output, const torch::Tensor& target) {
  return torch::mse_loss(output, target, at::Reduction::Sum) * (0.5 / output.size(0));
}

// Cycles through the problem's batches.
class Batches {
 public:
  explicit Batches(const LayeredProblem& problem) : problem_(problem) {}
  int64_t next() {
    const int64_t index = cursor_;
    cursor_ = (cursor_ + 1) % static_cast<int64_t>(problem_.inputs.size());
    return index;
  }
  const torch::Tensor& input(int64_t i) const { return problem_.inputs[i]; }
  const torch::Tensor& target(int64_t i) const { return problem_.targets[i]; }

 private:
  const LayeredProblem& problem_;
  int64_t cursor_ = 0;
};

BalancedMLP balanced_mlp(const LayeredProblem& problem, Learning learning) {
  const auto& options = problem.options;
  BalancedMLP net(BalancedMLPOptions(options.shape.widths)
                      .activation("tanh")
                      .output_activation("identity")
                      .learning(learning)
                      .relaxation(RelaxationOptions(options.method)));
  net->to(options.device, options.dtype);
  torch::NoGradGuard no_grad;
  for (int64_t l = 0; l < net->layers(); ++l) {
    net->layer(l)->weight.copy_(problem.weights[l]);
    net->layer(l)->bias.copy_(problem.biases[l]);
  }
  return net;
}

class RuleStep : public TrainingStep {
 public:
  explicit RuleStep(const LayeredProblem& problem)
      : batches_(problem),
        net_(balanced_mlp(problem, Learning::credit)),
        rule_(net_, problem.options.lr) {}
  void run() override {
    const int64_t i = batches_.next();
    const auto& target = batches_.target(i);
    rule_.step(batches_.input(i), [&](const torch::Tensor& output) { return target - output; });
  }
  std::vector<torch::Tensor> weights() const override { return net_->weights(); }

 private:
  Batches batches_;
  BalancedMLP net_;
  PlasticityRule rule_;
};

class ModuleStep : public TrainingStep {
 public:
  explicit ModuleStep(const LayeredProblem& problem)
      : batches_(problem),
        net_(balanced_mlp(problem, Learning::credit)),
        optimizer_(net_->parameters(), torch::optim::SGDOptions(problem.options.lr)) {}
  void run() override {
    const int64_t i = batches_.next();
    optimizer_.zero_grad();
    squared_error(net_->forward(batches_.input(i)), batches_.target(i)).backward();
    optimizer_.step();
  }
  std::vector<torch::Tensor> weights() const override { return net_->weights(); }

 private:
  Batches batches_;
  BalancedMLP net_;
  torch::optim::SGD optimizer_;
};

torch::nn::Sequential linear_stack(const LayeredProblem& problem) {
  const auto& options = problem.options;
  torch::nn::Sequential stack;
  const auto& widths = options.shape.widths;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    stack->push_back(torch::nn::Linear(widths[l], widths[l + 1]));
    if (l + 2 < widths.size()) stack->push_back(torch::nn::Tanh());
  }
  stack->to(options.device, options.dtype);
  torch::NoGradGuard no_grad;
  size_t l = 0;
  for (const auto& child : stack->children()) {
    if (const auto* linear = child->as<torch::nn::Linear>()) {
      linear->weight.copy_(problem.weights[l]);
      linear->bias.copy_(problem.biases[l]);
      ++l;
    }
  }
  return stack;
}

class AutogradStep : public TrainingStep {
 public:
  explicit AutogradStep(const LayeredProblem& problem)
      : batches_(problem),
        stack_(linear_stack(problem)),
        optimizer_(stack_->parameters(), torch::optim::SGDOptions(problem.options.lr)) {}
  void run() override {
    const int64_t i = batches_.next();
    optimizer_.zero_grad();
    squared_error(stack_->forward(batches_.input(i)), batches_.target(i)).backward();
    optimizer_.step();
  }
  std::vector<torch::Tensor> weights() const override {
    std::vector<torch::Tensor> result;
    for (const auto& child : stack_->children()) {
      if (const auto* linear = child->as<torch::nn::Linear>()) result.push_back(linear->weight);
    }
    return result;
  }

 private:
  Batches batches_;
  torch::nn::Sequential stack_;
  torch::optim::SGD optimizer_;
};

}  // namespace

const char* path_name(StepPath path) {
  switch (path) {
    case StepPath::rule: return "rule";
    case StepPath::module: return "module";
    case StepPath::autograd: return "autograd";
  }
  return "?";
}

StepPath parse_path(const std::string& name) {
  for (auto path : {StepPath::rule, StepPath::module, StepPath::autograd}) {
    if (name == path_name(path)) return path;
  }
  throw std::invalid_argument("path '" + name + "' is not rule, module or autograd");
}

LayeredProblem::LayeredProblem(ProblemOptions options_) : options(std::move(options_)) {
  torch::manual_seed(options.seed);
  const auto tensor = torch::TensorOptions().dtype(options.dtype).device(options.device);
  const auto& widths = options.shape.widths;
  // torch::nn::Linear's default initialisation, drawn once for all paths.
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(widths[l]));
    weights.push_back(torch::empty({widths[l + 1], widths[l]}, tensor).uniform_(-bound, bound));
    biases.push_back(torch::empty({widths[l + 1]}, tensor).uniform_(-bound, bound));
  }
  for (int64_t i = 0; i < std::max<int64_t>(options.batches, 1); ++i) {
    inputs.push_back(torch::randn({options.shape.batch, widths.front()}, tensor));
    targets.push_back(torch::randn({options.shape.batch, widths.back()}, tensor));
  }
}

std::unique_ptr<TrainingStep> make_training_step(StepPath path, const LayeredProblem& problem) {
  switch (path) {
    case StepPath::rule: return std::make_unique<RuleStep>(problem);
    case StepPath::module: return std::make_unique<ModuleStep>(problem);
    case StepPath::autograd: return std::make_unique<AutogradStep>(problem);
  }
  throw std::invalid_argument("unknown training-step path");
}

double weight_difference(const TrainingStep& a, const TrainingStep& b) {
  const auto wa = a.weights(), wb = b.weights();
  double worst = 0.0;
  for (size_t l = 0; l < wa.size(); ++l) {
    worst = std::max(worst, relative_error(wa[l].detach(), wb[l].detach()));
  }
  return worst;
}

}  // namespace bench
}  // namespace eiprop
