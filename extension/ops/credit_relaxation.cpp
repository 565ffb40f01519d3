// eiprop::credit_relaxation — credits of a layered circuit at the credit equilibrium.
#include "ops/signatures.h"
#include "ops/validate.h"
#include "solvers/credit.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::credit_relaxation";
}

std::tuple<std::vector<at::Tensor>, at::Tensor, int64_t, double> credit_relaxation(
    const at::Tensor& output_error, at::TensorList drives, at::TensorList weights,
    std::vector<std::string> activations, c10::string_view method, int64_t max_iters, double tol,
    double dt) {
  check_matrix(kOp, "output_error", output_error, at::Tensor());
  TORCH_CHECK(!weights.empty(), kOp,
              ": weights is empty; a layered circuit needs at least one layer");
  check_matrix(kOp, argument("weights", 0), weights[0], output_error);
  check_layered_weights(kOp, weights, weights[0].size(1), output_error);
  check_count(kOp, "drives", drives.size(), weights.size(), "weights");
  check_count(kOp, "activations", activations.size(), weights.size(), "weights");
  const int64_t batch = output_error.size(0);
  for (size_t l = 0; l < drives.size(); ++l) {
    const auto what = argument("drives", l);
    check_matrix(kOp, what, drives[l], output_error);
    check_shape(kOp, what, drives[l], {batch, weights[l].size(0)},
                c10::str("[batch of output_error, rows of weights[", l, "]]"));
  }
  const auto layers = static_cast<int64_t>(weights.size());
  check_shape(kOp, "output_error", output_error, {batch, weights[layers - 1].size(0)},
              "[batch, width of the output layer]");
  const auto layer_activations = parse_activations(kOp, activations);
  const auto options =
      parse_solver_options(kOp, method, max_iters, tol, dt, output_error.scalar_type());

  // A NaN drive can hide from the credits (relu's gate reads NaN as active).
  FiniteCheck(kOp)
      .add("drives", drives, "layer", kNonFiniteInput)
      .add("weights", weights, "layer", kNonFiniteInput)
      .run();
  const auto circuit = kernels::Circuit::layered(
      weights.vec(), std::vector<c10::optional<at::Tensor>>(layers), layer_activations);
  check_wavefront_fits(kOp, "the credits", options, circuit.acyclic(),
                       static_cast<int64_t>(circuit.credit_waves().size()));
  std::vector<at::Tensor> population_drives{at::Tensor()};
  population_drives.insert(population_drives.end(), drives.begin(), drives.end());
  auto equilibrium = solvers::relax_credits(circuit, population_drives, /*rates=*/{},
                                            /*output=*/layers, output_error, options);
  check_converged(kOp, "the credits", options, equilibrium.stats);
  std::vector<at::Tensor> credits(equilibrium.credits.begin() + 1, equilibrium.credits.end());
  return {std::move(credits), equilibrium.credits[0], equilibrium.stats.iterations,
          equilibrium.stats.residual};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "credit_relaxation(Tensor output_error, Tensor[] drives, Tensor[] weights, "
      "str[] activations, str method=\"sweep\", int max_iters=0, float tol=0.0, float dt=1.0) "
      "-> (Tensor[] credits, Tensor input_credit, int iterations, float residual)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("credit_relaxation", TORCH_FN(eiprop::ops::credit_relaxation));
}
