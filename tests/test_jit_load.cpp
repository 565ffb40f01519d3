// Loads the module that tests/python/test_torchscript.py scripted and saved, runs it in C++,
// and checks it equals the same step made with the C++ API.
#include "reference.h"

#include <torch/script.h>

namespace eiprop {
namespace testing {
namespace {

TEST(TorchScriptFromPython, LoadedModuleEqualsCppOps) {
  const auto module_path = environment("EIPROP_SCRIPTED_MODULE");
  ASSERT_FALSE(module_path.empty()) << "set EIPROP_SCRIPTED_MODULE to the scripted module's path";
  auto module = torch::jit::load(module_path);
  std::vector<std::string> activations;
  for (const auto& name : module.attr("activations").toListRef()) {
    activations.push_back(name.toStringRef());
  }
  const auto method = module.attr("method").toStringRef();
  const double lr = module.attr("lr").toDouble();
  ASSERT_EQ(activations.size(), 3u);

  const auto circuit = make_circuit({6, 8, 5, 3}, 7, activations, true, at::kDouble, 99);
  c10::List<c10::optional<at::Tensor>> biases;
  for (const auto& bias : circuit.biases) biases.push_back(bias);
  const auto outputs =
      module.forward({circuit.input, c10::List<at::Tensor>(circuit.weights), biases,
                      circuit.target})
          .toTuple()
          ->elements();

  const auto equilibrium = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                          activations, RelaxationOptions(method));
  const auto credits =
      credit_relaxation(circuit.target - equilibrium.rates.back(), equilibrium.drives,
                        circuit.weights, activations, RelaxationOptions(method));
  const auto updates = plasticity(circuit.input, equilibrium.rates, equilibrium.drives,
                                  credits.credits, activations, lr);
  const auto weight_updates = outputs[0].toTensorVector();
  for (size_t l = 0; l < 3; ++l) {
    EXPECT_TRUE(at::equal(weight_updates[l], updates.weight_updates[l])) << l;
  }
  EXPECT_TRUE(at::equal(outputs[2].toTensor(), credits.input_credit));
  const auto expected = autograd_gradients(circuit);
  EXPECT_LE(relative_error(weight_updates[0], -lr * expected.weight_grads[0]), 1e-10);
}

}  // namespace
}  // namespace testing
}  // namespace eiprop

