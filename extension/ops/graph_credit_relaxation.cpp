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
    bool input_credit, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  check_circuit_input(kOp, "output_error", output_error, projections);
  // Behind spatial projections the drives fix what the weights leave open.
  GivenShapes given;
  if (!projections.empty()) {
    for (size_t p = 1; p <= drives.size(); ++p) {
      const auto what = c10::str("drives[", p - 1, "] (population ", p, ")");
      check_rates(kOp, what, drives[p - 1], output_error);
      given[static_cast<int64_t>(p)] = {sample_shape(drives[p - 1]), what};
    }
  }
  const auto graph = parse_graph(kOp, /*input_shape=*/{}, output_error, weights,
                                 OptionalTensorList(), pre, post, activations, projections, given);
  const int64_t populations = graph.circuit.populations();
  check_output_population(kOp, output, populations);
  const int64_t batch = output_error.size(0);
  check_population_tensors(kOp, "drives", drives, graph.shapes, batch, output_error);
  check_shape(kOp, "output_error", output_error, graph.circuit.batch_shape(output, batch),
              c10::str("[batch, shape of the output population ", output, "]"));
  check_input_credit_shape(kOp, graph, input_credit);
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
      "graph_credit_relaxation(Tensor output_error, int output, Tensor[] drives, Tensor[] weights, "
      "int[] pre, int[] post, str[] activations, str method=\"jacobi\", int max_iters=0, "
      "float tol=0.0, float dt=1.0, bool strict=True, bool input_credit=True, "
      "str[]? projections=None) -> (Tensor[] credits, Tensor input_credit, int iterations, "
      "float residual, bool converged)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_credit_relaxation", TORCH_FN(eiprop::ops::graph_credit_relaxation));
}
