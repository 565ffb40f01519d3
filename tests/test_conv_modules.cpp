// Convolutional circuits through the public C++ API: the operators with projections, the
// SequentialCircuit module and the converters.
#include "eiprop/eiprop.h"

#include "reference.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/optim/sgd.h>

#include <cstdio>

namespace eiprop {
namespace testing {
namespace {

namespace F = torch::nn::functional;
namespace nn = torch::nn;

nn::Sequential lenet() {
  return nn::Sequential(
      nn::Conv2d(nn::Conv2dOptions(1, 4, 5).padding(2)), nn::ReLU(), nn::MaxPool2d(2),
      nn::Conv2d(nn::Conv2dOptions(4, 8, 3).stride(2).groups(2)), nn::Tanh(),
      nn::AvgPool2d(nn::AvgPool2dOptions(2).ceil_mode(true).count_include_pad(false)),
      nn::Flatten(), nn::Linear(8 * 2 * 2, 12), nn::Softplus(), nn::Linear(12, 10));
}

// The gradients of sum(output * G) with respect to the input and every parameter.
std::vector<at::Tensor> gradients(const std::function<at::Tensor(const at::Tensor&)>& forward,
                                  const std::vector<at::Tensor>& parameters, const at::Tensor& x) {
  const auto input = x.clone().requires_grad_();
  const auto output = forward(input);
  const auto G = torch::linspace(-1, 1, output.numel(), output.options()).view_as(output);
  std::vector<at::Tensor> sources{input};
  sources.insert(sources.end(), parameters.begin(), parameters.end());
  auto grads = torch::autograd::grad({(output * G).sum()}, sources);
  grads.push_back(output.detach());
  return grads;
}

TEST(SequentialCircuit, GradientsEqualAutogradThroughTheSameLayers) {
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    for (const std::string method : {"sweep", "jacobi", "euler", "anderson"}) {
      torch::manual_seed(3);
      auto layers = lenet();
      layers->to(dtype);
      SequentialCircuit circuit(layers, RelaxationOptions(method));
      const auto x = torch::randn({3, 1, 14, 14}, dtype);
      const auto parameters = circuit->parameters();
      const auto rule = gradients([&](const at::Tensor& in) { return circuit->forward(in); },
                                  parameters, x);
      circuit->set_learning(Learning::autograd);
      const auto autograd = gradients([&](const at::Tensor& in) { return circuit->forward(in); },
                                      parameters, x);
      double worst = 0.0;
      for (size_t i = 0; i < rule.size(); ++i) {
        worst = std::max(worst, relative_error(rule[i], autograd[i]));
      }
      std::printf("%s %s: worst relative error against autograd %.3g\n", method.c_str(),
                  dtype == at::kDouble ? "float64" : "float32", worst);
      EXPECT_LE(worst, dtype == at::kDouble ? 1e-10 : 1e-4) << method;
    }
  }
}

TEST(SequentialCircuit, ConvertedPartsOfAConvolutionalModelTrainAsTheModel) {
  torch::manual_seed(5);
  nn::Sequential model(
      nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::BatchNorm2d(4),
      nn::Conv2d(nn::Conv2dOptions(4, 4, 3).padding(1)), nn::Tanh(), nn::MaxPool2d(2),
      nn::Flatten(), nn::Linear(4 * 4 * 4, 10));
  model->to(at::kDouble);
  auto reference = std::dynamic_pointer_cast<nn::SequentialImpl>(model->clone());
  auto parts = convert_parts(model, RelaxationOptions("sweep"));
  std::printf("%s", parts.report().c_str());
  ASSERT_EQ(parts.circuits.size(), 2u);
  EXPECT_EQ(parts.circuits[0].rfind("0-1 (", 0), 0u) << parts.circuits[0];
  EXPECT_EQ(parts.circuits[1].rfind("3-7 (", 0), 0u) << parts.circuits[1];
  ASSERT_EQ(parts.autograd.size(), 1u);
  EXPECT_NE(parts.autograd[0].find("BatchNorm2d"), std::string::npos);

  torch::optim::SGD converted_sgd(parts.model->parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::SGD reference_sgd(reference->parameters(), torch::optim::SGDOptions(0.1));
  for (int step = 0; step < 3; ++step) {
    const auto x = torch::randn({8, 1, 8, 8}, at::kDouble);
    const auto labels = torch::randint(0, 10, {8}, at::kLong);
    for (auto* pair : {&converted_sgd, &reference_sgd}) pair->zero_grad();
    F::cross_entropy(parts.model->forward(x), labels).backward();
    F::cross_entropy(reference->forward(x), labels).backward();
    converted_sgd.step();
    reference_sgd.step();
  }
  const auto expected = reference->named_parameters();
  const auto actual = model->named_parameters();
  for (const auto& item : expected) {
    EXPECT_LE(relative_error(actual[item.key()], item.value()), 1e-12) << item.key();
  }
}

TEST(SequentialCircuit, LearningStepOpEqualsAutogradsSgdStep) {
  torch::manual_seed(6);
  auto layers = lenet();
  layers->to(at::kDouble);
  auto circuit = convert_circuit(layers);
  auto reference = std::dynamic_pointer_cast<nn::SequentialImpl>(layers->clone());
  const auto x = torch::randn({5, 1, 14, 14}, at::kDouble);
  const auto labels = torch::randint(0, 10, {5}, at::kLong);
  F::cross_entropy(reference->forward(x), labels).backward();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : reference->parameters()) p -= 0.1 * p.grad();
    learning_step(x, labels, circuit->weights(), circuit->biases(), circuit->activations(), 0.1,
                  "cross_entropy", RelaxationOptions("sweep"), circuit->projections());
  }
  const auto expected = reference->named_parameters();
  const auto actual = layers->named_parameters();
  for (const auto& item : expected) {
    EXPECT_LE(relative_error(actual[item.key()], item.value()), 1e-12) << item.key();
  }
}

// A recurrent convolutional population (a conv self-projection) read out through a flatten:
// graph_circuit's rates and implicit gradients equal those of its dense twin, whose weights are
// the convolutions written as matrices (built differentiably, so that the twin's gradients
// reach the convolution weights).
TEST(SequentialCircuit, RecurrentConvolutionEqualsItsDenseTwin) {
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(at::kDouble);
  const auto input_conv = (torch::randn({2, 1, 3, 3}, options) * 0.4).requires_grad_();
  const auto self_conv = (torch::randn({2, 2, 3, 3}, options) * 0.15).requires_grad_();
  const auto readout = (torch::randn({3, 2 * 5 * 5}, options) * 0.3).requires_grad_();
  const auto empty = torch::empty({0}, options);
  const auto conv = projection::conv2d({3, 3}, {1, 1}, {1, 1}, {1, 1}, 1);
  Graph graph;
  graph.pre = {0, 1, 1, 2};
  graph.post = {1, 1, 2, 3};
  graph.activations = {"tanh", "identity", "identity"};
  graph.output = 3;
  graph.projection_kinds = {conv, conv, projection::flatten(), projection::dense()};
  Graph twin = graph;
  twin.projection_kinds = {};
  // A convolution is linear: its matrix is its response to each unit input.
  const auto matrix = [&](const at::Tensor& weight, int64_t channels) {
    const auto basis = torch::eye(channels * 25, options).view({-1, channels, 5, 5});
    return at::conv2d(basis, weight, {}, 1, 1).flatten(1).t();
  };
  const auto x = torch::randn({4, 1, 5, 5}, options).requires_grad_();
  const std::vector<at::Tensor> sources{x, input_conv, self_conv, readout};
  for (const std::string method : {"jacobi", "anderson"}) {
    const auto relaxation = RelaxationOptions(method).tol(1e-13);
    const auto conv_out = graph_circuit(x, {input_conv, self_conv, empty, readout}, {}, graph,
                                        relaxation);
    const auto G = torch::linspace(-1, 1, conv_out.numel(), options).view_as(conv_out);
    const auto rule = torch::autograd::grad({(conv_out * G).sum()}, sources);
    const auto dense_out = graph_circuit(
        x.flatten(1),
        {matrix(input_conv, 1), matrix(self_conv, 2), torch::eye(50, options), readout}, {}, twin,
        relaxation);
    const auto expected = torch::autograd::grad({(dense_out * G).sum()}, sources);
    EXPECT_LE(relative_error(conv_out, dense_out), 1e-10) << method;
    for (size_t i = 0; i < sources.size(); ++i) {
      EXPECT_LE(relative_error(rule[i], expected[i]), 1e-10) << method << " source " << i;
    }
  }
}

// The same equivalence on CUDA tensors (conv, pooling and flatten projections on the device);
// skipped where LibTorch sees no CUDA device.
TEST(Cuda, SequentialCircuitGradientsEqualAutogradOnCudaTensors) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (const auto dtype : {at::kDouble, at::kFloat}) {
    for (const std::string method : {"sweep", "jacobi", "anderson"}) {
      torch::manual_seed(3);
      auto layers = lenet();
      layers->to(torch::Device(at::kCUDA, 0), dtype);
      SequentialCircuit circuit(layers, RelaxationOptions(method));
      const auto x = torch::randn({3, 1, 14, 14}, at::dtype(dtype).device(at::kCUDA));
      const auto parameters = circuit->parameters();
      const auto rule = gradients([&](const at::Tensor& in) { return circuit->forward(in); },
                                  parameters, x);
      ASSERT_TRUE(rule.back().is_cuda());
      circuit->set_learning(Learning::autograd);
      const auto autograd = gradients([&](const at::Tensor& in) { return circuit->forward(in); },
                                      parameters, x);
      for (size_t i = 0; i < rule.size(); ++i) {
        EXPECT_LE(relative_error(rule[i], autograd[i]), dtype == at::kDouble ? 1e-10 : 1e-4)
            << method << " " << dtype << " tensor " << i;
      }
    }
  }
}

TEST(SequentialCircuit, IdentityPassesBetweenAProjectionAndItsActivation) {
  auto circuit = convert_circuit(nn::Sequential(nn::Conv2d(1, 2, 3), nn::Identity(), nn::ReLU(),
                                                nn::Flatten(), nn::Linear(2 * 2 * 2, 3)));
  ASSERT_EQ(circuit->activations().size(), 3u);
  EXPECT_EQ(circuit->activations()[0], "relu");
  EXPECT_EQ(circuit->forward(torch::rand({2, 1, 4, 4})).sizes(), at::IntArrayRef({2, 3}));
  // A Flatten before any convolution or pooling stays with autograd in convert_parts.
  auto parts = convert_parts(nn::Sequential(nn::Flatten(), nn::Linear(16, 3)));
  ASSERT_EQ(parts.circuits.size(), 1u);
  EXPECT_EQ(parts.circuits[0].rfind("1 (", 0), 0u) << parts.circuits[0];
  EXPECT_EQ(parts.model->forward(torch::rand({2, 4, 4})).sizes(), at::IntArrayRef({2, 3}));
}

TEST(SequentialCircuit, RefusesWhatTheRuleDoesNotTake) {
  expect_error(
      [] {
        convert_circuit(nn::Sequential(
            nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding(1).padding_mode(torch::kReflect))));
      },
               {"eiprop::convert_circuit", "layer '0'", "padding_mode kReflect"});
  expect_error([] { convert_circuit(nn::Sequential(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2))); },
               {"eiprop::convert_circuit", "layer '1'", "not supported"});
  expect_error([] { SequentialCircuit(nn::Sequential(nn::MaxPool2d(2), nn::Flatten())); },
               {"eiprop::SequentialCircuit", "no Linear or Conv2d"});
  expect_error([] { SequentialCircuit(nn::Sequential(nn::ReLU(), nn::Conv2d(1, 2, 3))); },
               {"eiprop::SequentialCircuit", "layer '0'", "before any projection"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
