// eiprop::learning_step — one step of the rule applied in place to a layered circuit
// (docs/theory.md §2-4): the rates at the E-I equilibrium, the credits from the loss's output
// imbalance (no input credit), and the Hebbian updates lr/B delta_l^T r_{l-1} added straight into
// weights[l] and biases[l]. PlasticityRule runs the same body.
#include "ops/learning_step.h"

#include <torch/library.h>

#include "ops/circuit_call.h"
#include "ops/output_loss.h"
#include "ops/projections.h"
#include "ops/timescales.h"
#include "ops/validate.h"

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::learning_step";
}

LearningStepResult apply_learning_step(const CircuitCall& call, const at::Tensor& input,
                                       const at::Tensor& target, at::TensorList weights,
                                       const OptionalTensorList& biases, double lr,
                                       c10::string_view loss) {
  check_finite(call.op, "lr", lr);
  const auto& shape = call.graph.shapes[call.output];
  TORCH_CHECK(shape.size() == 1, call.op, ": the output population ", call.output,
              " has the shape ", shape_text(shape),
              "; the loss takes an [N] population (end the circuit with a flatten or a dense "
              "projection)");
  const auto width = shape[0];
  const OutputLoss output_loss(call.op, loss, target, input);
  std::vector<c10::optional<at::Tensor>> bias_targets(call.graph.circuit.populations());
  for (size_t p = 0; p < biases.size(); ++p) bias_targets[p] = biases.get(p);
  auto step = learn(
      call.op, call.graph.circuit, input, call.output,
      [&](const at::Tensor& output) { return output_loss.imbalance(output); }, call.options, lr,
      weights.vec(), bias_targets, /*accumulate=*/true,
      [&] { output_loss.refuse_bad_target(width); });
  return {std::move(step.output), step.rates.iterations, step.rates.residual,
          step.credits.iterations, step.credits.residual};
}

LearningStepResult learning_step(const at::Tensor& input, const at::Tensor& target,
                                 at::TensorList weights, const OptionalTensorList& biases,
                                 std::vector<std::string> activations, double lr,
                                 c10::string_view loss, c10::string_view method, int64_t max_iters,
                                 double tol, double dt, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto call = parse_circuit(kOp, input, weights, biases, activations, method, max_iters, tol,
                                  dt, projections);
  return apply_learning_step(call, input, target, weights, biases, lr, loss);
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "learning_step(Tensor input, Tensor target, Tensor(a!)[] weights, Tensor(b!)?[] biases, "
      "str[] activations, float lr, str loss, str method=\"sweep\", int max_iters=0, "
      "float tol=0.0, float dt=1.0, str[]? projections=None) -> (Tensor output, "
      "int rate_iterations, float rate_residual, int credit_iterations, float credit_residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("learning_step", TORCH_FN(eiprop::ops::learning_step));
}
