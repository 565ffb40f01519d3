// eiprop::graph_equilibrium — firing rates of a circuit graph (recurrent or not) at the E-I
// equilibrium.
#include "ops/graph.h"
#include "ops/timescales.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_equilibrium";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, double, bool>
graph_equilibrium(const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
                  at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations,
                  c10::string_view method, int64_t max_iters, double tol, double dt, bool strict,
                  const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  check_circuit_input(kOp, "input", input, projections);
  const auto graph = parse_graph(kOp, sample_shape(input), input, weights, biases, pre, post,
                                 activations, projections);
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::rates, method, max_iters,
                                                  tol, dt, input.scalar_type());
  auto solved = equilibrium(kOp, graph.circuit, input, options, strict);
  const auto& stats = solved.stats;
  return {populations_of(std::move(solved.rates)), populations_of(std::move(solved.drives)),
          stats.iterations, stats.residual, stats.converged};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_equilibrium(Tensor input, Tensor[] weights, Tensor?[] biases, int[] pre, int[] post, "
      "str[] activations, str method=\"jacobi\", int max_iters=0, float tol=0.0, float dt=1.0, "
      "bool strict=True, str[]? projections=None) -> (Tensor[] rates, Tensor[] drives, "
      "int iterations, float residual, bool converged)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_equilibrium", TORCH_FN(eiprop::ops::graph_equilibrium));
}
