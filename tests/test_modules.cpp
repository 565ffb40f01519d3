// BalancedMLP, convert and PlasticityRule: the rule as a drop-in for autograd in LibTorch
// training loops — same gradients, same optimizer trajectories, same SGD steps (float64).
#include "reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <torch/autograd.h>
#include <torch/nn/functional/embedding.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

namespace eiprop {
namespace testing {
namespace {

namespace F = torch::nn::functional;

BalancedMLP make_mlp(Learning learning, const std::string& activation = "tanh") {
  torch::manual_seed(12);
  BalancedMLP mlp(BalancedMLPOptions({10, 16, 12, 4}).activation(activation).learning(learning));
  mlp->to(at::kDouble);
  return mlp;
}

struct Batch {
  at::Tensor input;
  at::Tensor labels;
};

std::vector<Batch> batches(int count) {
  torch::manual_seed(99);
  std::vector<Batch> result;
  for (int i = 0; i < count; ++i) {
    result.push_back({torch::randn({8, 10}, at::kDouble), torch::randint(0, 4, {8}, at::kLong)});
  }
  return result;
}

void expect_same_parameters(torch::nn::Module& actual, torch::nn::Module& expected, double tol,
                            const std::string& context) {
  const auto a = actual.named_parameters();
  const auto e = expected.named_parameters();
  ASSERT_EQ(a.size(), e.size());
  for (const auto& item : e) {
    EXPECT_LE(relative_error(a[item.key()], item.value()), tol) << context << " " << item.key();
  }
}

TEST(BalancedMLP, CreditAndAutogradLearningGiveTheSameGradients) {
  auto mlp = make_mlp(Learning::credit);
  const auto batch = batches(1).front();
  std::vector<at::Tensor> credit_grads, autograd_grads;
  for (auto learning : {Learning::credit, Learning::autograd}) {
    mlp->set_learning(learning);
    mlp->zero_grad();
    F::cross_entropy(mlp->forward(batch.input), batch.labels).backward();
    for (const auto& parameter : mlp->parameters()) {
      (learning == Learning::credit ? credit_grads : autograd_grads).push_back(parameter.grad().clone());
    }
  }
  for (size_t i = 0; i < credit_grads.size(); ++i) {
    EXPECT_LE(relative_error(credit_grads[i], autograd_grads[i]), 1e-10) << i;
  }
}

TEST(BalancedMLP, PrettyPrintAndOptions) {
  auto mlp = make_mlp(Learning::credit, "relu");
  std::stringstream text;
  text << *mlp;
  EXPECT_NE(text.str().find("eiprop::BalancedMLP(widths=[10, 16, 12, 4]"), std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("activations=[relu, relu, identity], learning=credit"),
            std::string::npos)
      << text.str();
  EXPECT_EQ(mlp->layers(), 3);
  expect_error([] { BalancedMLP(BalancedMLPOptions({4, 3}).output_activation("swish")); },
               {"eiprop::BalancedMLP", "layer 0", "'swish'"});
  expect_error([] { BalancedMLP(BalancedMLPOptions({4})); },
               {"eiprop::BalancedMLP", "options.widths"});
}

TEST(BalancedMLP, OptimizersFollowTheAutogradTrajectory) {
  for (const std::string optimizer_name : {"sgd_momentum", "adam"}) {
    auto rule = make_mlp(Learning::credit);
    auto reference = std::dynamic_pointer_cast<BalancedMLPImpl>(rule->clone());
    reference->set_learning(Learning::autograd);
    auto make_optimizer = [&](torch::nn::Module& module) -> std::unique_ptr<torch::optim::Optimizer> {
      if (optimizer_name == "adam") {
        return std::make_unique<torch::optim::Adam>(module.parameters(),
                                                    torch::optim::AdamOptions(1e-2));
      }
      return std::make_unique<torch::optim::SGD>(module.parameters(),
                                                 torch::optim::SGDOptions(0.1).momentum(0.9));
    };
    auto rule_optimizer = make_optimizer(*rule);
    auto reference_optimizer = make_optimizer(*reference);
    for (const auto& batch : batches(6)) {
      for (auto* pair : {&rule_optimizer, &reference_optimizer}) (*pair)->zero_grad();
      F::cross_entropy(rule->forward(batch.input), batch.labels).backward();
      F::cross_entropy(reference->forward(batch.input), batch.labels).backward();
      rule_optimizer->step();
      reference_optimizer->step();
    }
    expect_same_parameters(*rule, *reference, 1e-10, optimizer_name);
  }
}

TEST(BalancedMLP, ModuleAndOptimizerRoundTripThroughSerialization) {
  auto mlp = make_mlp(Learning::credit);
  torch::optim::Adam optimizer(mlp->parameters(), torch::optim::AdamOptions(1e-2));
  const auto data = batches(4);
  for (int i = 0; i < 2; ++i) {
    optimizer.zero_grad();
    F::cross_entropy(mlp->forward(data[i].input), data[i].labels).backward();
    optimizer.step();
  }
  const std::string module_path = ::testing::TempDir() + "eiprop_mlp.pt";
  const std::string optimizer_path = ::testing::TempDir() + "eiprop_adam.pt";
  torch::save(mlp, module_path);
  torch::save(optimizer, optimizer_path);

  BalancedMLP restored(BalancedMLPOptions({10, 16, 12, 4}));
  restored->to(at::kDouble);
  torch::load(restored, module_path);
  torch::optim::Adam restored_optimizer(restored->parameters(), torch::optim::AdamOptions(1e-2));
  torch::load(restored_optimizer, optimizer_path);
  expect_same_parameters(*restored, *mlp, 0.0, "after load");
  auto train = [&](BalancedMLP& module, torch::optim::Optimizer& adam, const Batch& batch) {
    adam.zero_grad();
    F::cross_entropy(module->forward(batch.input), batch.labels).backward();
    adam.step();
  };
  for (int i = 2; i < 4; ++i) {
    train(mlp, optimizer, data[i]);
    train(restored, restored_optimizer, data[i]);
  }
  expect_same_parameters(*restored, *mlp, 0.0, "continued");
  std::remove(module_path.c_str());
  std::remove(optimizer_path.c_str());
}

TEST(Learning, NamesParseAndPrintFromOneTable) {
  for (const auto learning : {Learning::credit, Learning::autograd}) {
    EXPECT_EQ(parse_learning(learning_name(learning)), learning);
  }
  expect_error([] { parse_learning("hebbian"); },
               {"eiprop::parse_learning", "'hebbian'", "expected one of credit, autograd"});
}

TEST(RecurrentCircuit, ResetParametersRedrawsAsTheConstructorDrew) {
  const Graph graph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};
  torch::manual_seed(5);
  RecurrentCircuit circuit(RecurrentCircuitOptions({4, 6, 3}, graph));
  std::vector<torch::Tensor> drawn;
  for (const auto& parameter : circuit->parameters()) drawn.push_back(parameter.detach().clone());
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : circuit->parameters()) parameter.zero_();
  }
  torch::manual_seed(5);
  circuit->reset_parameters();
  const auto redrawn = circuit->parameters();
  ASSERT_EQ(redrawn.size(), drawn.size());
  for (size_t i = 0; i < drawn.size(); ++i) EXPECT_TRUE(torch::equal(redrawn[i], drawn[i])) << i;
  // Population 1 receives the input (4) and itself (6): bound 1/sqrt(10).
  EXPECT_LE(circuit->weights()[1].abs().max().item<double>(), 1.0 / std::sqrt(10.0));
  EXPECT_GT(circuit->weights()[1].abs().max().item<double>(), 0.0);
}

TEST(Convert, SharesParametersAndLearnsByTheRule) {
  torch::manual_seed(5);
  torch::nn::Sequential sequential(torch::nn::Linear(6, 9), torch::nn::Tanh(),
                                   torch::nn::Linear(9, 7), torch::nn::ReLU(),
                                   torch::nn::Linear(7, 3));
  sequential->to(at::kDouble);
  auto mlp = convert(sequential, RelaxationOptions("jacobi"));
  EXPECT_EQ(mlp->activations(), (std::vector<std::string>{"tanh", "relu", "identity"}));
  const auto sequential_parameters = sequential->parameters();
  const auto mlp_parameters = mlp->parameters();
  ASSERT_EQ(sequential_parameters.size(), mlp_parameters.size());
  for (size_t i = 0; i < mlp_parameters.size(); ++i) {
    EXPECT_TRUE(mlp_parameters[i].is_same(sequential_parameters[i])) << i;
  }
  const auto x = torch::randn({5, 6}, at::kDouble);
  const auto labels = torch::randint(0, 3, {5}, at::kLong);
  const auto rule_grads =
      torch::autograd::grad({F::cross_entropy(mlp->forward(x), labels)}, mlp_parameters);
  const auto reference_grads = torch::autograd::grad(
      {F::cross_entropy(sequential->forward(x), labels)}, sequential_parameters);
  for (size_t i = 0; i < rule_grads.size(); ++i) {
    EXPECT_LE(relative_error(rule_grads[i], reference_grads[i]), 1e-10) << i;
  }
}

TEST(Convert, UnsupportedLayersAreNamed) {
  expect_error(
      [] {
        convert(torch::nn::Sequential(torch::nn::Linear(4, 4), torch::nn::Dropout(0.5),
                                      torch::nn::Linear(4, 2)));
      },
      {"eiprop::convert", "layer '1'", "Dropout", "not supported"});
  expect_error(
      [] {
        convert(torch::nn::Sequential(
            torch::nn::Linear(4, 4),
            torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2))));
      },
      {"eiprop::convert", "layer '1'", "negative_slope"});
  expect_error([] { convert(torch::nn::Sequential(torch::nn::Tanh(), torch::nn::Linear(4, 2))); },
               {"eiprop::convert", "layer '0'", "follows no Linear"});
  expect_error(
      [] { convert(torch::nn::Sequential(torch::nn::Linear(4, 3), torch::nn::Linear(4, 2))); },
      {"eiprop::convert", "layer '1'", "takes 4 inputs", "gives 3"});
}

// A model the rule covers in part: the runs of Linear layers and supported activations become
// circuits, BatchNorm, Dropout and an unsupported LeakyReLU stay with autograd, and 3 SGD steps
// in float64 (the same dropout masks) give the unconverted model's parameters and BatchNorm
// statistics.
TEST(Convert, PartsOfAModelTrainAsTheUnconvertedModel) {
  torch::manual_seed(8);
  torch::nn::Sequential model(
      torch::nn::Linear(6, 8), torch::nn::Tanh(), torch::nn::BatchNorm1d(8),
      torch::nn::Dropout(0.5), torch::nn::Linear(8, 8), torch::nn::ReLU(),
      torch::nn::Linear(8, 8),
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Linear(8, 3));
  model->to(at::kDouble);
  auto reference = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->clone());
  auto parts = convert_parts(model, RelaxationOptions("sweep"));
  std::printf("%s", parts.report().c_str());
  ASSERT_EQ(parts.circuits.size(), 3u);
  EXPECT_EQ(parts.circuits[0].rfind("0-1 (", 0), 0u) << parts.circuits[0];
  EXPECT_EQ(parts.circuits[1].rfind("4-6 (", 0), 0u) << parts.circuits[1];
  EXPECT_EQ(parts.circuits[2].rfind("8 (", 0), 0u) << parts.circuits[2];
  EXPECT_NE(parts.circuits[2].find("-> circuit 8"), std::string::npos) << parts.circuits[2];
  ASSERT_EQ(parts.autograd.size(), 3u);
  EXPECT_NE(parts.autograd[0].find("BatchNorm1d"), std::string::npos);
  EXPECT_NE(parts.autograd[1].find("Dropout"), std::string::npos);
  EXPECT_NE(parts.autograd[2].find("LeakyReLU"), std::string::npos);
  // The converted model holds the original's parameters themselves.
  const auto original = model->parameters();
  const auto shared = parts.model->parameters();
  ASSERT_EQ(shared.size(), original.size());
  for (const auto& parameter : original) {
    EXPECT_TRUE(std::any_of(shared.begin(), shared.end(),
                            [&](const at::Tensor& p) { return p.is_same(parameter); }));
  }

  torch::optim::SGD converted_sgd(parts.model->parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::SGD reference_sgd(reference->parameters(), torch::optim::SGDOptions(0.1));
  for (int step = 0; step < 3; ++step) {
    const auto x = torch::randn({16, 6}, at::kDouble);
    const auto labels = torch::randint(0, 3, {16}, at::kLong);
    torch::manual_seed(100 + step);  // the same dropout mask in both
    const auto converted_loss = F::cross_entropy(parts.model->forward(x), labels);
    torch::manual_seed(100 + step);
    const auto reference_loss = F::cross_entropy(reference->forward(x), labels);
    converted_sgd.zero_grad();
    reference_sgd.zero_grad();
    converted_loss.backward();
    reference_loss.backward();
    converted_sgd.step();
    reference_sgd.step();
  }
  const auto expected = reference->named_parameters();
  const auto actual = model->named_parameters();
  for (const auto& item : expected) {
    EXPECT_LE(relative_error(actual[item.key()], item.value()), 1e-12) << item.key();
  }
  const auto expected_buffers = reference->named_buffers();
  const auto actual_buffers = model->named_buffers();
  for (const auto& item : expected_buffers) {
    if (item.value().is_floating_point()) {
      EXPECT_LE(relative_error(actual_buffers[item.key()], item.value()), 1e-12) << item.key();
    }
  }
  // The converted Sequential has 3 circuits in place of 7 layers.
  EXPECT_EQ(parts.model->size(), 6u);
}

TEST(PlasticityRule, EqualsSgdOnTheSquaredError) {
  auto rule_mlp = make_mlp(Learning::credit, "sigmoid");
  auto reference = std::dynamic_pointer_cast<BalancedMLPImpl>(rule_mlp->clone());
  reference->set_learning(Learning::autograd);
  PlasticityRule rule(rule_mlp, 0.3);
  torch::optim::SGD sgd(reference->parameters(), torch::optim::SGDOptions(0.3));
  for (const auto& batch : batches(5)) {
    const auto target = F::one_hot(batch.labels, 4).to(at::kDouble);
    const double loss = rule.step(batch.input, target);
    sgd.zero_grad();
    const auto reference_loss =
        (target - reference->forward(batch.input)).pow(2).sum() / (2.0 * batch.input.size(0));
    reference_loss.backward();
    sgd.step();
    EXPECT_NEAR(loss, reference_loss.item<double>(), 1e-12);
  }
  expect_same_parameters(*rule_mlp, *reference, 1e-10, "squared error");
}

TEST(PlasticityRule, EqualsSgdOnCrossEntropyThroughTheOutputImbalance) {
  auto rule_mlp = make_mlp(Learning::credit, "elu");
  auto reference = std::dynamic_pointer_cast<BalancedMLPImpl>(rule_mlp->clone());
  reference->set_learning(Learning::autograd);
  PlasticityRule rule(rule_mlp, 0.2);
  torch::optim::SGD sgd(reference->parameters(), torch::optim::SGDOptions(0.2));
  for (const auto& batch : batches(5)) {
    rule.step(batch.input, [&](const at::Tensor& logits) {
      return F::one_hot(batch.labels, 4).to(logits.scalar_type()) - torch::softmax(logits, 1);
    });
    sgd.zero_grad();
    F::cross_entropy(reference->forward(batch.input), batch.labels).backward();
    sgd.step();
  }
  expect_same_parameters(*rule_mlp, *reference, 1e-10, "cross-entropy");
}

// Found by libFuzzer (tests/fuzz/corpus/plasticity_rule_complex_target): the loss read a complex
// target with .item<double>() and threw a std::runtime_error that named nothing.
TEST(PlasticityRule, ABadTargetIsRefusedNamingItAndTheWeightsStayUnchanged) {
  auto mlp = make_mlp(Learning::credit);
  const auto before = mlp->layer(0)->weight.clone();
  PlasticityRule rule(mlp, 0.1);
  const auto batch = batches(1).front();
  const auto target = F::one_hot(batch.labels, 4).to(batch.input.scalar_type());
  expect_error([&] { rule.step(batch.input, target.to(torch::kComplexFloat)); },
               {"eiprop::PlasticityRule", "target must be float32 or float64", "ComplexFloat"});
  expect_error([&] { rule.step(batch.input, target.narrow(1, 0, 2)); },
               {"eiprop::PlasticityRule", "target has shape [8, 2]", "[8, 4]"});
  EXPECT_TRUE(at::equal(mlp->layer(0)->weight, before));
}

TEST(PlasticityRule, ABadImbalanceIsRefusedAndTheWeightsStayUnchanged) {
  auto mlp = make_mlp(Learning::credit);
  const auto before = mlp->layer(0)->weight.clone();
  PlasticityRule rule(mlp, 0.1);
  const auto batch = batches(1).front();
  expect_error(
      [&] {
        rule.step(batch.input, [](const at::Tensor& output) { return output.narrow(1, 0, 2); });
      },
      {"eiprop::PlasticityRule", "the output imbalance", "[8, 2]", "[8, 4]"});
  EXPECT_TRUE(at::equal(mlp->layer(0)->weight, before));
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
