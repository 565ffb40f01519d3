// What synapses compute for a population (docs/theory.md §1-4): its drive, summed over the
// projections arriving at it, the retrograde credit signal, summed over those leaving it, and the
// excitatory/inhibitory split of a dense drive. kernels/projection.h has each projection's part
// and the plasticity products.
#pragma once

#include "kernels/circuit.h"
#include "kernels/projection.h"

#include <ATen/ATen.h>

#include <vector>

namespace eiprop {
namespace kernels {

// u_p = sum_{k: post[k]=p} transmit_k(r_{pre[k]}) + b_p (dense: r W_k^T). `rates` is indexed
// by population 0..P. A population without incoming projections gets its bias. With `winners`
// (indexed by projection), a max_pool2d projection arriving at p stores its window winners there
// (found in the same pass as the maxima).
at::Tensor drive(const Circuit& circuit, int64_t p, const std::vector<at::Tensor>& rates,
                 std::vector<at::Tensor>* winners = nullptr);

// The retrograde signal reaching population q (0..P): sum_{k: pre[k]=q} of projection k's
// retrograde signal of delta_{post[k]} (dense: delta W_k), `balance_credits` indexed by
// population. Only max_pool2d projections read q's side: winners[k] when given (indexed by
// projection; an undefined or missing entry is found from `presynaptic_rate`, q's rates). Both
// may be undefined when no max_pool2d projection leaves q. Undefined when q has no outgoing
// projections.
at::Tensor retrograde_credit(const Circuit& circuit, int64_t q,
                             const std::vector<at::Tensor>& balance_credits,
                             const at::Tensor& presynaptic_rate,
                             const std::vector<at::Tensor>& winners = {});

// Per-synapse split of presynaptic_rates @ weight^T into excitatory (positive) and inhibitory
// (negative) contributions, both >= 0 with E - I equal to the product (docs/theory.md §1).
std::pair<at::Tensor, at::Tensor> ei_currents(const at::Tensor& presynaptic_rates,
                                              const at::Tensor& weight);

}  // namespace kernels
}  // namespace eiprop
