// eiprop::ei_equilibrium — firing rates of a layered circuit at the E-I equilibrium.
#include "ops/layered.h"
#include "ops/validate.h"
#include "solvers/firing.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::ei_equilibrium";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, double> ei_equilibrium(
    const at::Tensor& input, at::TensorList weights, const OptionalTensorList& biases,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt) {
  const auto forward = parse_layered_forward(kOp, input, weights, biases, activations, method,
                                             max_iters, tol, dt);
  const auto& options = forward.options;
  auto equilibrium = solvers::relax_rates(forward.circuit, input, options);
  check_converged(kOp, "the firing rates", options, equilibrium.stats);
  std::vector<at::Tensor> rates(equilibrium.rates.begin() + 1, equilibrium.rates.end());
  std::vector<at::Tensor> drives(equilibrium.drives.begin() + 1, equilibrium.drives.end());
  return {std::move(rates), std::move(drives), equilibrium.stats.iterations,
          equilibrium.stats.residual};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "ei_equilibrium(Tensor input, Tensor[] weights, Tensor?[] biases, str[] activations, "
      "str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0) "
      "-> (Tensor[] rates, Tensor[] drives, int iterations, float residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("ei_equilibrium", TORCH_FN(eiprop::ops::ei_equilibrium));
}
