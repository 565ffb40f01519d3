// eiprop::graph_circuit — the output population's equilibrium rates of a circuit graph;
// differentiable, with a backward that is credit relaxation (ops/autograd/circuit_function.cpp).
// This file holds the schema and the kernel used below autograd (no_grad, inference mode).
#include "ops/graph.h"
#include "ops/learning_step.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_circuit";
}

at::Tensor graph_circuit(const at::Tensor& input, at::TensorList weights,
                         const OptionalTensorList& biases, at::IntArrayRef pre,
                         at::IntArrayRef post, std::vector<std::string> activations,
                         int64_t output, c10::string_view method, int64_t max_iters, double tol,
                         double dt) {
  check_matrix(kOp, "input", input, at::Tensor());
  const auto graph =
      parse_graph(kOp, input.size(1), input, weights, biases, pre, post, activations);
  check_output_population(kOp, output, graph.circuit.populations());
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::rates, method, max_iters,
                                                  tol, dt, input.scalar_type());
  return equilibrium(kOp, graph.circuit, input, options).rates[output];
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_circuit(Tensor input, Tensor[] weights, Tensor?[] biases, int[] pre, int[] post, "
      "str[] activations, int output, str method=\"jacobi\", int max_iters=0, float tol=0.0, "
      "float dt=1.0) -> Tensor");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_circuit", TORCH_FN(eiprop::ops::graph_circuit));
}
