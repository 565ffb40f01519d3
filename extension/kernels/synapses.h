// What synapses compute (docs/theory.md §1-4): the forward drive, the retrograde credit signal,
// the Hebbian plasticity product, and the excitatory/inhibitory split of a drive.
#pragma once

#include "kernels/circuit.h"

#include <ATen/ATen.h>

#include <vector>

namespace eiprop {
namespace kernels {

// u_p = sum_{k: post[k]=p} r_{pre[k]} W_k^T + b_p. `rates` is indexed by population 0..P.
// A population without incoming projections and bias gets a zero drive shaped like the batch.
at::Tensor drive(const Circuit& circuit, int64_t p, const std::vector<at::Tensor>& rates);

// The retrograde signal reaching population q (0..P): sum_{k: pre[k]=q} delta_{post[k]} W_k,
// `balance_credits` indexed by population. Undefined when q has no outgoing projections.
at::Tensor retrograde_credit(const Circuit& circuit, int64_t q,
                             const std::vector<at::Tensor>& balance_credits);

// Hebbian product scale * delta_post^T r_pre, shape [N_post, N_pre].
at::Tensor weight_plasticity(const at::Tensor& balance_credit, const at::Tensor& presynaptic_rate,
                             double scale);
// scale * sum over the batch of delta, shape [N].
at::Tensor bias_plasticity(const at::Tensor& balance_credit, double scale);

// Per-synapse split of presynaptic_rates @ weight^T into excitatory (positive) and inhibitory
// (negative) contributions, both >= 0 with E - I equal to the product (docs/theory.md §1).
std::pair<at::Tensor, at::Tensor> ei_currents(const at::Tensor& presynaptic_rates,
                                              const at::Tensor& weight);

}  // namespace kernels
}  // namespace eiprop
