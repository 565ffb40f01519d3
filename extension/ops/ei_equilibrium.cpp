// eiprop::ei_equilibrium — firing rates of a layered circuit at the E-I equilibrium.
#include "ops/layered.h"
#include "ops/timescales.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::ei_equilibrium";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, double> ei_equilibrium(
    const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const auto graph = parse_layered(kOp, input, weights, biases, activations, projections);
  const auto options = parse_graph_solver_options(kOp, graph, Relaxed::rates, method, max_iters,
                                                  tol, dt, input.scalar_type());
  auto solved = equilibrium(kOp, graph.circuit, input, options);
  return {populations_of(std::move(solved.rates)), populations_of(std::move(solved.drives)),
          solved.stats.iterations, solved.stats.residual};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "ei_equilibrium(Tensor input, Tensor[] weights, Tensor?[] biases, str[] activations, "
      "str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0, "
      "str[]? projections=None) -> (Tensor[] rates, Tensor[] drives, int iterations, "
      "float residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("ei_equilibrium", TORCH_FN(eiprop::ops::ei_equilibrium));
}
