// eiprop::credit_relaxation — credits of a layered circuit at the credit equilibrium.
#include "ops/layered.h"
#include "ops/timescales.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::credit_relaxation";
}

std::tuple<std::vector<at::Tensor>, at::Tensor, int64_t, double> credit_relaxation(
    const at::Tensor& output_error, at::TensorList drives, at::TensorList weights,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt, bool input_credit, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto graph =
      parse_layered_credit(kOp, output_error, drives, weights, activations, projections);
  check_input_credit_shape(kOp, graph, input_credit);
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::credits, method, max_iters,
                                                  tol, dt, output_error.scalar_type());
  auto solved = checked_credit(kOp, kLayerNaming, graph.circuit, drives, weights,
                               graph.circuit.populations(), output_error, options,
                               /*strict=*/true, input_credit);
  auto input = solved.credits[0];
  return {populations_of(std::move(solved.credits)), std::move(input),
          solved.stats.iterations, solved.stats.residual};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "credit_relaxation(Tensor output_error, Tensor[] drives, Tensor[] weights, "
      "str[] activations, str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0, "
      "bool input_credit=True, str[]? projections=None) -> (Tensor[] credits, Tensor input_credit, "
      "int iterations, float residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("credit_relaxation", TORCH_FN(eiprop::ops::credit_relaxation));
}
