// ei_currents splits every synaptic contribution W_ij r_j by sign (docs/theory.md §1); the oracle
// is the explicit per-synapse product tensor.
#include "reference.h"

namespace eiprop {
namespace testing {
namespace {

TEST(EICurrents, MatchesExplicitPerSynapseSplit) {
  for (auto dtype : {at::kDouble, at::kFloat}) {
    const auto rates = at::randn({7, 13}, at::dtype(dtype));  // mixed signs, as with tanh
    const auto weight = at::randn({5, 13}, at::dtype(dtype));
    const auto currents = ei_currents(rates, weight);
    const auto contributions = rates.unsqueeze(1) * weight.unsqueeze(0);  // [B, N_post, N_pre]
    const double tol = dtype == at::kDouble ? 1e-12 : 1e-5;
    EXPECT_LE(relative_error(currents.excitatory, contributions.clamp_min(0).sum(2)), tol);
    EXPECT_LE(relative_error(currents.inhibitory, (-contributions).clamp_min(0).sum(2)), tol);
    EXPECT_TRUE((currents.excitatory >= 0).all().item<bool>());
    EXPECT_TRUE((currents.inhibitory >= 0).all().item<bool>());
    EXPECT_LE(relative_error(currents.excitatory - currents.inhibitory, at::mm(rates, weight.t())),
              tol);
  }
}

TEST(EICurrents, NonNegativeRatesSplitByWeightSign) {
  const auto rates = at::rand({4, 6}, at::kDouble);
  const auto weight = at::randn({3, 6}, at::kDouble);
  const auto currents = ei_currents(rates, weight);
  EXPECT_LE(relative_error(currents.excitatory, at::mm(rates, weight.clamp_min(0).t())), 1e-14);
  EXPECT_LE(relative_error(currents.inhibitory, -at::mm(rates, weight.clamp_max(0).t())), 1e-14);
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
