// TorchScript, C++ side: loads the module that tests/python/train_scripted.py scripted and
// trained, continues its training in C++ (its backward is credit relaxation), and checks that it
// reaches the parameters Python reaches, and the same numbers as an equivalent BalancedMLP.
#include "reference.h"

#include <torch/script.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

namespace eiprop {
namespace testing {
namespace {

namespace F = torch::nn::functional;

TEST(TorchScriptTraining, CppContinuesPythonTraining) {
  const auto path = environment("EIPROP_TRAINED_MODULE");
  ASSERT_FALSE(path.empty()) << "set EIPROP_TRAINED_MODULE to the trained module's path";
  auto scripted = torch::jit::load(path);
  auto expected = torch::jit::load(path + ".expected");
  const auto x = scripted.attr("x").toTensor();
  const auto y = scripted.attr("y").toTensor();
  const double lr = scripted.attr("lr").toDouble();
  std::vector<std::string> activations;
  for (const auto& name : scripted.attr("activations").toListRef()) {
    activations.push_back(name.toStringRef());
  }
  const auto method = scripted.attr("method").toStringRef();

  // The equivalent C++ module, from the loaded weights.
  BalancedMLP mlp(BalancedMLPOptions({6, 8, 3}).activations(activations)
                      .relaxation(RelaxationOptions(method)));
  mlp->to(at::kDouble);
  {
    torch::NoGradGuard no_grad;
    mlp->layer(0)->weight.copy_(scripted.attr("w0").toTensor());
    mlp->layer(0)->bias.copy_(scripted.attr("b0").toTensor());
    mlp->layer(1)->weight.copy_(scripted.attr("w1").toTensor());
    mlp->layer(1)->bias.copy_(scripted.attr("b1").toTensor());
  }

  std::vector<at::Tensor> scripted_parameters;
  for (const auto& name : {"w0", "b0", "w1", "b1"}) {
    scripted_parameters.push_back(scripted.attr(name).toTensor());
  }
  torch::optim::SGD scripted_sgd(scripted_parameters, torch::optim::SGDOptions(lr));
  torch::optim::SGD mlp_sgd(mlp->parameters(), torch::optim::SGDOptions(lr));
  for (int step = 0; step < 3; ++step) {
    scripted_sgd.zero_grad();
    F::cross_entropy(scripted.forward({x}).toTensor(), y).backward();
    scripted_sgd.step();
    mlp_sgd.zero_grad();
    F::cross_entropy(mlp->forward(x), y).backward();
    mlp_sgd.step();
  }
  const std::vector<at::Tensor> mlp_parameters{mlp->layer(0)->weight, mlp->layer(0)->bias,
                                               mlp->layer(1)->weight, mlp->layer(1)->bias};
  const char* names[] = {"w0", "b0", "w1", "b1"};
  for (size_t i = 0; i < 4; ++i) {
    const auto python = expected.attr(names[i]).toTensor();
    EXPECT_LE(relative_error(scripted_parameters[i], python), 1e-12) << names[i];
    EXPECT_LE(relative_error(mlp_parameters[i], python), 1e-12) << names[i];
  }
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
