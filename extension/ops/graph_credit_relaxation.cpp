// eiprop::graph_credit_relaxation — credits of a circuit graph at the credit equilibrium; on a
// recurrent circuit the solution of the adjoint equation (I - W^T D) c = e (docs/theory.md §3).
#include "ops/graph.h"
#include "ops/timescales.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_credit_relaxation";
}

std::tuple<std::vector<at::Tensor>, at::Tensor, int64_t, double, bool> graph_credit_relaxation(
    const at::Tensor& output_error, int64_t output, at::TensorList drives, at::TensorList weights,
    at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations,
    c10::string_view method, int64_t max_iters, double tol, double dt, bool strict,
    bool input_credit) {
  check_matrix(kOp, "output_error", output_error, at::Tensor());
  const auto graph = parse_graph(kOp, /*input_width=*/-1, output_error, weights,
                                 OptionalTensorList(), pre, post, activations);
  const int64_t populations = graph.circuit.populations();
  check_output_population(kOp, output, populations);
  const int64_t batch = output_error.size(0);
  check_population_tensors(kOp, "drives", drives, graph.widths, batch, output_error);
  check_shape(kOp, "output_error", output_error, {batch, graph.widths[output]},
              c10::str("[batch, width of the output population ", output, "]"));
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::credits, method, max_iters,
                                                  tol, dt, output_error.scalar_type());

  auto solved = checked_credit(kOp, kGraphNaming, graph.circuit, drives, weights, output,
                               output_error, options, strict, input_credit);
  const auto& stats = solved.stats;
  auto input = solved.credits[0];
  return {populations_of(std::move(solved.credits)), std::move(input), stats.iterations,
          stats.residual, stats.converged};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_credit_relaxation(Tensor output_error, int output, Tensor[] drives, "
      "Tensor[] weights, int[] pre, int[] post, str[] activations, str method=\"jacobi\", "
      "int max_iters=0, float tol=0.0, float dt=1.0, bool strict=True, bool input_credit=True) "
      "-> (Tensor[] credits, Tensor input_credit, int iterations, float residual, bool converged)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_credit_relaxation", TORCH_FN(eiprop::ops::graph_credit_relaxation));
}
