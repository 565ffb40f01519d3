// eiprop::circuit — the output population's equilibrium rates; differentiable, with a backward
// that is credit relaxation (ops/autograd/circuit_autograd.cpp). This file holds the schema and
// the kernel used below autograd (no_grad, inference mode).
#include "ops/layered.h"
#include "ops/learning_step.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::circuit";
}

at::Tensor circuit(const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
                   std::vector<std::string> activations, c10::string_view method,
                   int64_t max_iters, double tol, double dt) {
  const auto graph = parse_layered(kOp, input, weights, biases, activations);
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::rates, method, max_iters,
                                                  tol, dt, input.scalar_type());
  return equilibrium(kOp, graph.circuit, input, options).rates.back();
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "circuit(Tensor input, Tensor[] weights, Tensor?[] biases, str[] activations, "
      "str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0) -> Tensor");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("circuit", TORCH_FN(eiprop::ops::circuit));
}
