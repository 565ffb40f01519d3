#include "kernels/synapses.h"

namespace eiprop {
namespace kernels {

at::Tensor drive(const Circuit& circuit, int64_t p, const std::vector<at::Tensor>& rates) {
  const auto& bias = circuit.bias(p);
  at::Tensor u;
  for (int64_t k : circuit.incoming(p)) {
    const Projection& projection = circuit.projection(k);
    const at::Tensor& r = rates[projection.pre];
    if (!u.defined()) {
      u = bias.has_value() ? at::addmm(*bias, r, projection.weight.t())
                           : at::mm(r, projection.weight.t());
    } else {
      u.addmm_(r, projection.weight.t());
    }
  }
  if (!u.defined()) {
    const at::Tensor& input = rates[0];
    TORCH_INTERNAL_ASSERT(bias.has_value(), "eiprop: population without drive or bias");
    u = bias->unsqueeze(0).expand({input.size(0), bias->size(0)}).clone();
  }
  return u;
}

at::Tensor retrograde_credit(const Circuit& circuit, int64_t q,
                             const std::vector<at::Tensor>& balance_credits) {
  at::Tensor c;
  for (int64_t k : circuit.outgoing(q)) {
    const Projection& projection = circuit.projection(k);
    const at::Tensor& delta = balance_credits[projection.post];
    if (!c.defined()) {
      c = at::mm(delta, projection.weight);
    } else {
      c.addmm_(delta, projection.weight);
    }
  }
  return c;
}

at::Tensor weight_plasticity(const at::Tensor& balance_credit, const at::Tensor& presynaptic_rate,
                             double scale) {
  // addmm with beta = 0 ignores its first argument and scales the product inside the GEMM.
  auto update = at::empty({balance_credit.size(1), presynaptic_rate.size(1)},
                          balance_credit.options());
  return at::addmm(update, balance_credit.t(), presynaptic_rate, /*beta=*/0, /*alpha=*/scale);
}

at::Tensor bias_plasticity(const at::Tensor& balance_credit, double scale) {
  auto update = balance_credit.sum(0);
  return scale == 1.0 ? update : update.mul_(scale);
}

std::pair<at::Tensor, at::Tensor> ei_currents(const at::Tensor& presynaptic_rates,
                                              const at::Tensor& weight) {
  // W_ij r_j > 0 exactly when both factors share a sign: E = r+ W+^T + r- W-^T and
  // I = -(r+ W-^T + r- W+^T); two GEMMs over the concatenated halves.
  const auto r_pos = presynaptic_rates.clamp_min(0);
  const auto r_neg = presynaptic_rates.clamp_max(0);
  const auto w_pos = weight.clamp_min(0);
  const auto w_neg = weight.clamp_max(0);
  const auto rates_split = at::cat({r_pos, r_neg}, 1);
  auto excitatory = at::mm(rates_split, at::cat({w_pos, w_neg}, 1).t());
  auto inhibitory = at::mm(rates_split, at::cat({w_neg, w_pos}, 1).t()).neg_();
  return {excitatory, inhibitory};
}

}  // namespace kernels
}  // namespace eiprop
