#include "kernels/synapses.h"

namespace eiprop {
namespace kernels {
namespace {

// A population's bias ([N], or [C] on [B, C, H, W] rates) broadcast to `sizes`.
at::Tensor expand_bias(const at::Tensor& bias, at::IntArrayRef sizes) {
  std::vector<int64_t> shape(sizes.size(), 1);
  shape[1] = bias.size(0);
  return bias.view(shape).expand(sizes);
}

}  // namespace

at::Tensor drive(const Circuit& circuit, int64_t p, const std::vector<at::Tensor>& rates,
                 std::vector<at::Tensor>* winners) {
  const auto& bias = circuit.bias(p);
  bool bias_added = !bias.has_value();
  at::Tensor u;
  for (int64_t k : circuit.incoming(p)) {
    const Projection& projection = circuit.projection(k);
    const at::Tensor& r = rates[projection.pre];
    if (winners != nullptr && projection.kind == ProjectionKind::max_pool2d) {
      auto maxima = transmit_with_winners(projection, r);
      (*winners)[k] = std::move(maxima.second);
      u = u.defined() ? u.add_(maxima.first) : std::move(maxima.first);
    } else if (u.defined()) {
      transmit_into(u, projection, r);
    } else if (projection.plastic() && !bias_added) {
      u = transmit_with_bias(projection, r, *bias);  // the bias inside the GEMM / convolution
      bias_added = true;
    } else {
      u = transmit(projection, r);
    }
  }
  if (!u.defined()) {
    TORCH_INTERNAL_ASSERT(bias.has_value(), "eiprop: population without drive or bias");
    return expand_bias(*bias, circuit.batch_shape(p, rates[0].size(0))).clone();
  }
  if (!bias_added) u.add_(expand_bias(*bias, u.sizes()));
  return u;
}

at::Tensor retrograde_credit(const Circuit& circuit, int64_t q,
                             const std::vector<at::Tensor>& balance_credits,
                             const at::Tensor& presynaptic_rate,
                             const std::vector<at::Tensor>& winners) {
  at::Tensor c;
  std::vector<int64_t> sizes;
  for (int64_t k : circuit.outgoing(q)) {
    const Projection& projection = circuit.projection(k);
    const at::Tensor& delta = balance_credits[projection.post];
    if (sizes.empty()) sizes = circuit.batch_shape(q, delta.size(0));
    const at::Tensor& winner =
        k < static_cast<int64_t>(winners.size()) ? winners[k] : at::Tensor();
    if (c.defined()) {
      retrograde_into(c, projection, delta, sizes, presynaptic_rate, winner);
    } else {
      c = retrograde(projection, delta, sizes, presynaptic_rate, winner);
    }
  }
  return c;
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
