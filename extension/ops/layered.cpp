#include "ops/layered.h"

#include "ops/validate.h"

namespace eiprop {
namespace ops {

LayeredForward parse_layered_forward(const char* op, const at::Tensor& input,
                                     at::TensorList weights, const OptionalTensorList& biases,
                                     const std::vector<std::string>& activations,
                                     c10::string_view method, int64_t max_iters, double tol,
                                     double dt) {
  check_matrix(op, "input", input, at::Tensor());
  check_layered_weights(op, weights, input.size(1), input);
  check_count(op, "biases", biases.size(), weights.size(), "weights");
  check_count(op, "activations", activations.size(), weights.size(), "weights");
  std::vector<c10::optional<at::Tensor>> layer_biases;
  layer_biases.reserve(biases.size());
  for (size_t l = 0; l < biases.size(); ++l) {
    c10::optional<at::Tensor> bias = biases.get(l);
    if (bias.has_value() && !bias->defined()) bias = c10::nullopt;
    if (bias.has_value()) {
      const auto what = argument("biases", l);
      check_vector(op, what, *bias, input);
      check_shape(op, what, *bias, {weights[l].size(0)},
                  c10::str("the width of weights[", l, "]'s postsynaptic population"));
    }
    layer_biases.push_back(std::move(bias));
  }
  auto layer_activations = parse_activations(op, activations);
  const auto options = parse_solver_options(op, method, max_iters, tol, dt, input.scalar_type());
  auto circuit = kernels::Circuit::layered(weights.vec(), std::move(layer_biases),
                                           std::move(layer_activations));
  check_wavefront_fits(op, "the firing rates", options, circuit.acyclic(),
                       static_cast<int64_t>(circuit.firing_waves().size()));
  return {std::move(circuit), options};
}

}  // namespace ops
}  // namespace eiprop
