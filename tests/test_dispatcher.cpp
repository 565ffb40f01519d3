// The ops as TorchScript sees them: registered schemas and boxed calls through the dispatcher.
// (TorchScript proper is exercised from Python: tests/python/test_torchscript.py.)
#include "reference.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace eiprop {
namespace testing {
namespace {

std::string schema_of(const char* name) {
  const auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  std::stringstream out;
  out << handle.schema();
  return out.str();
}

// A schema changes only by trailing arguments with defaults (credit_relaxation's input_credit),
// so that calls and saved TorchScript programs written against the older one keep working.
TEST(Dispatcher, SchemasAreThePublicContract) {
  EXPECT_EQ(schema_of("eiprop::ei_equilibrium"),
            "eiprop::ei_equilibrium(Tensor input, Tensor[] weights, Tensor?[] biases, "
            "str[] activations, str method=\"sweep\", int max_iters=0, float tol=0., "
            "float dt=1., str[]? projections=None) -> (Tensor[] rates, Tensor[] drives, "
            "int iterations, float residual)");
  EXPECT_EQ(schema_of("eiprop::credit_relaxation"),
            "eiprop::credit_relaxation(Tensor output_error, Tensor[] drives, Tensor[] weights, "
            "str[] activations, str method=\"sweep\", int max_iters=0, float tol=0., "
            "float dt=1., bool input_credit=True, str[]? projections=None) -> (Tensor[] credits, "
            "Tensor input_credit, "
            "int iterations, float residual)");
  EXPECT_EQ(schema_of("eiprop::plasticity"),
            "eiprop::plasticity(Tensor input, Tensor[] rates, Tensor[] drives, Tensor[] credits, "
            "str[] activations, float lr, str[]? projections=None) -> (Tensor[] weight_updates, "
            "Tensor[] bias_updates)");
  EXPECT_EQ(schema_of("eiprop::learning_step"),
            "eiprop::learning_step(Tensor input, Tensor target, Tensor(a!)[] weights, "
            "Tensor?(b!)[] biases, str[] activations, float lr, str loss, str method=\"sweep\", "
            "int max_iters=0, float tol=0., float dt=1., str[]? projections=None) -> "
            "(Tensor output, int rate_iterations, "
            "float rate_residual, int credit_iterations, float credit_residual)");
  EXPECT_EQ(schema_of("eiprop::graph_learning_step"),
            "eiprop::graph_learning_step(Tensor input, Tensor target, Tensor(a!)[] weights, "
            "Tensor?(b!)[] biases, int[] pre, int[] post, str[] activations, int output, "
            "float lr, str loss, str method=\"jacobi\", int max_iters=0, float tol=0., "
            "float dt=1., str[]? projections=None) -> (Tensor output, int rate_iterations, "
            "float rate_residual, "
            "int credit_iterations, float credit_residual)");
  EXPECT_EQ(schema_of("eiprop::ei_currents"),
            "eiprop::ei_currents(Tensor presynaptic_rates, Tensor weight) -> "
            "(Tensor excitatory, Tensor inhibitory)");
}

TEST(Dispatcher, BoxedCallEqualsTypedCall) {
  const auto circuit = make_circuit({5, 4, 3}, 6, {"tanh", "sigmoid"}, true, at::kDouble, 2);
  const auto typed = ei_equilibrium(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations, RelaxationOptions("jacobi"));
  const auto handle =
      c10::Dispatcher::singleton().findSchemaOrThrow("eiprop::ei_equilibrium", "");
  c10::List<c10::optional<at::Tensor>> biases;
  for (const auto& bias : circuit.biases) biases.push_back(bias);
  torch::jit::Stack stack{circuit.input, c10::List<at::Tensor>(circuit.weights), biases,
                          c10::List<std::string>(circuit.activations), std::string("jacobi"),
                          int64_t{0}, 0.0, 1.0, c10::IValue()};
  handle.callBoxed(&stack);
  ASSERT_EQ(stack.size(), 4u);
  const auto rates = stack[0].toTensorVector();
  EXPECT_EQ(stack[2].toInt(), 2);
  for (size_t l = 0; l < 2; ++l) EXPECT_TRUE(at::equal(rates[l], typed.rates[l]));
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
