// eiprop::ei_equilibrium — firing rates of a layered circuit at the E-I equilibrium.
#include "ops/signatures.h"
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
  check_matrix(kOp, "input", input, at::Tensor());
  check_layered_weights(kOp, weights, input.size(1), input);
  check_count(kOp, "biases", biases.size(), weights.size(), "weights");
  check_count(kOp, "activations", activations.size(), weights.size(), "weights");
  std::vector<c10::optional<at::Tensor>> layer_biases;
  layer_biases.reserve(biases.size());
  for (size_t l = 0; l < biases.size(); ++l) {
    c10::optional<at::Tensor> bias = biases.get(l);
    if (bias.has_value()) {
      const auto what = argument("biases", l);
      check_vector(kOp, what, *bias, input);
      check_shape(kOp, what, *bias, {weights[l].size(0)},
                  c10::str("the width of weights[", l, "]'s postsynaptic population"));
    }
    layer_biases.push_back(std::move(bias));
  }
  const auto layer_activations = parse_activations(kOp, activations);
  const auto options = parse_solver_options(kOp, method, max_iters, tol, dt, input.scalar_type());

  const auto circuit = kernels::Circuit::layered(weights.vec(), std::move(layer_biases),
                                                 layer_activations);
  auto equilibrium = solvers::relax_rates(circuit, input, options);
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
