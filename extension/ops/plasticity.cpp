// eiprop::plasticity — the Hebbian weight and bias updates of a layered circuit (docs/theory.md
// §4).
#include <torch/library.h>

#include "ops/layered.h"
#include "ops/projections.h"
#include "ops/timescales.h"
#include "ops/validate.h"

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::plasticity";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    std::vector<std::string> activations, double lr, const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  const bool shaped = !projections.empty();
  const auto check_tensor = shaped ? check_rates : check_matrix;
  check_tensor(kOp, "input", input, at::Tensor());
  TORCH_CHECK(!drives.empty(), kOp,
              ": drives is empty; a layered circuit needs at least one layer");
  check_count(kOp, "rates", rates.size(), drives.size(), "drives");
  check_count(kOp, "credits", credits.size(), drives.size(), "drives");
  check_count(kOp, "activations", activations.size(), drives.size(), "drives");
  check_finite(kOp, "lr", lr);
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kOp, ": input has an empty batch; updates are batch averages");
  for (size_t l = 0; l < drives.size(); ++l) {
    check_tensor(kOp, argument("drives", l), drives[l], input);
    TORCH_CHECK(drives[l].size(0) == batch, kOp, ": ", argument("drives", l), " has shape ",
                drives[l].sizes(), " but input has batch ", batch);
    const auto why = c10::str("the shape of drives[", l, "]");
    check_tensor(kOp, argument("rates", l), rates[l], input);
    check_shape(kOp, argument("rates", l), rates[l], drives[l].sizes(), why);
    check_tensor(kOp, argument("credits", l), credits[l], input);
    check_shape(kOp, argument("credits", l), credits[l], drives[l].sizes(), why);
  }
  const auto layer_activations = parse_activations(kOp, activations);

  const auto layers = static_cast<int64_t>(drives.size());
  std::vector<std::vector<int64_t>> shapes{sample_shape(input)};
  for (const auto& drive : drives) shapes.push_back(sample_shape(drive));
  const auto names = [](size_t l) { return c10::str("layer ", l); };
  const auto circuit_projections =
      projections_between(kOp, parse_projections(kOp, projections, drives.size(), "drives", names),
                          chain_pre(layers), chain_post(layers), shapes, names, input);
  auto updates = checked_plasticity(kOp, kLayerNaming, input, rates, drives, credits,
                                    circuit_projections, layer_activations, lr);
  return {std::move(updates.weight_updates), std::move(updates.bias_updates)};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "plasticity(Tensor input, Tensor[] rates, Tensor[] drives, Tensor[] credits, "
      "str[] activations, float lr, str[]? projections=None) -> (Tensor[] weight_updates, "
      "Tensor[] bias_updates)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("plasticity", TORCH_FN(eiprop::ops::plasticity));
}
