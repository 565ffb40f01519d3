// eiprop::ei_currents — excitatory and inhibitory synaptic currents of a projection
// (docs/theory.md §1).
#include "kernels/synapses.h"
#include "ops/signatures.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::ei_currents";
}

std::tuple<at::Tensor, at::Tensor> ei_currents(const at::Tensor& presynaptic_rates,
                                               const at::Tensor& weight) {
  check_matrix(kOp, "presynaptic_rates", presynaptic_rates, at::Tensor());
  check_matrix(kOp, "weight", weight, presynaptic_rates);
  TORCH_CHECK(weight.size(1) == presynaptic_rates.size(1), kOp, ": weight has shape ",
              weight.sizes(), " but presynaptic_rates has ", presynaptic_rates.size(1),
              " neurons; expected [N_post, ", presynaptic_rates.size(1), "]");
  // inf * 0 would turn into NaN in both currents.
  FiniteCheck(kOp)
      .add("presynaptic_rates", presynaptic_rates, kNonFiniteInput)
      .add("weight", weight, kNonFiniteInput)
      .run();
  auto currents = kernels::ei_currents(presynaptic_rates, weight);
  return {std::move(currents.first), std::move(currents.second)};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "ei_currents(Tensor presynaptic_rates, Tensor weight) "
      "-> (Tensor excitatory, Tensor inhibitory)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("ei_currents", TORCH_FN(eiprop::ops::ei_currents));
}
