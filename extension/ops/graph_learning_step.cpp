// eiprop::graph_learning_step — one step of the rule applied in place to a circuit graph
// (recurrent or not): the rates at the E-I equilibrium, the credits from the loss's imbalance at
// population `output` (no input credit), and the Hebbian updates lr/B delta_{post[k]}^T r_{pre[k]}
// added straight into weights[k] and lr/B sum_batch delta_p into biases[p-1].
#include "ops/circuit_call.h"
#include "ops/learning_step.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_learning_step";
}

LearningStepResult graph_learning_step(const at::Tensor& input, const at::Tensor& target,
                                       at::TensorList weights, const OptionalTensorList& biases,
                                       at::IntArrayRef pre, at::IntArrayRef post,
                                       std::vector<std::string> activations, int64_t output,
                                       double lr, c10::string_view loss, c10::string_view method,
                                       int64_t max_iters, double tol, double dt,
                                       const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto call = parse_graph_circuit(kOp, input, weights, biases, pre, post, activations, output,
                                        method, max_iters, tol, dt, projections);
  return apply_learning_step(call, input, target, weights, biases, lr, loss);
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_learning_step(Tensor input, Tensor target, Tensor(a!)[] weights, "
      "Tensor(b!)?[] biases, int[] pre, int[] post, str[] activations, int output, float lr, "
      "str loss, str method=\"jacobi\", int max_iters=0, float tol=0.0, float dt=1.0, "
      "str[]? projections=None) -> (Tensor output, int rate_iterations, float rate_residual, "
      "int credit_iterations, float credit_residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_learning_step", TORCH_FN(eiprop::ops::graph_learning_step));
}
