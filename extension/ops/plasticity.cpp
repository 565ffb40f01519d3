// eiprop::plasticity — the Hebbian weight and bias updates of a layered circuit (docs/theory.md
// §4).
#include "kernels/synapses.h"
#include "ops/signatures.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::plasticity";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    std::vector<std::string> activations, double lr) {
  check_matrix(kOp, "input", input, at::Tensor());
  TORCH_CHECK(!drives.empty(), kOp, ": drives is empty; a layered circuit needs at least one layer");
  check_count(kOp, "rates", rates.size(), drives.size(), "drives");
  check_count(kOp, "credits", credits.size(), drives.size(), "drives");
  check_count(kOp, "activations", activations.size(), drives.size(), "drives");
  check_finite(kOp, "lr", lr);
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kOp, ": input has an empty batch; updates are batch averages");
  for (size_t l = 0; l < drives.size(); ++l) {
    check_matrix(kOp, argument("drives", l), drives[l], input);
    TORCH_CHECK(drives[l].size(0) == batch, kOp, ": ", argument("drives", l), " has shape ",
                drives[l].sizes(), " but input has batch ", batch);
    const auto why = c10::str("the shape of drives[", l, "]");
    check_matrix(kOp, argument("rates", l), rates[l], input);
    check_shape(kOp, argument("rates", l), rates[l], drives[l].sizes(), why);
    check_matrix(kOp, argument("credits", l), credits[l], input);
    check_shape(kOp, argument("credits", l), credits[l], drives[l].sizes(), why);
  }
  const auto layer_activations = parse_activations(kOp, activations);

  const double scale = lr / static_cast<double>(batch);
  check_update_scale(kOp, scale, input.scalar_type());
  std::vector<at::Tensor> weight_updates;
  std::vector<at::Tensor> bias_updates;
  for (size_t l = 0; l < drives.size(); ++l) {
    const auto delta =
        kernels::balance_credit(layer_activations[l], drives[l], rates[l], credits[l]);
    const at::Tensor& presynaptic_rate = l == 0 ? input : rates[l - 1];
    weight_updates.push_back(kernels::weight_plasticity(delta, presynaptic_rate, scale));
    bias_updates.push_back(kernels::bias_plasticity(delta, scale));
  }
  // Every input, also the entries the rule does not read (the output layer's rates, an
  // identity layer's drives), then the updates.
  const auto overflow = overflowing_updates(lr, input.scalar_type());
  FiniteCheck(kOp)
      .add("input", input, kNonFiniteInput)
      .add("rates", rates, "layer", kNonFiniteInput)
      .add("drives", drives, "layer", kNonFiniteInput)
      .add("credits", credits, "layer", kNonFiniteInput)
      .add("weight_updates", weight_updates, "layer", overflow)
      .add("bias_updates", bias_updates, "layer", overflow)
      .run();
  return {std::move(weight_updates), std::move(bias_updates)};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "plasticity(Tensor input, Tensor[] rates, Tensor[] drives, Tensor[] credits, "
      "str[] activations, float lr) -> (Tensor[] weight_updates, Tensor[] bias_updates)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("plasticity", TORCH_FN(eiprop::ops::plasticity));
}
