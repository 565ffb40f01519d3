#include "kernels/projection.h"

namespace eiprop {
namespace kernels {
namespace {

at::IntArrayRef pair(const std::array<int64_t, 2>& values) { return values; }

}  // namespace

at::Tensor transmit(const Projection& projection, const at::Tensor& presynaptic_rate) {
  const Geometry& g = projection.geometry;
  switch (projection.kind) {
    case ProjectionKind::dense:
      return at::mm(presynaptic_rate, projection.weight.t());
    case ProjectionKind::conv2d:
      return at::convolution(presynaptic_rate, projection.weight, c10::nullopt, pair(g.stride),
                             pair(g.padding), pair(g.dilation), /*transposed=*/false,
                             /*output_padding=*/{0, 0}, g.groups);
    case ProjectionKind::avg_pool2d:
      return at::avg_pool2d(presynaptic_rate, pair(g.kernel), pair(g.stride), pair(g.padding),
                            g.ceil_mode, g.count_include_pad);
    case ProjectionKind::max_pool2d:  // the maxima only (transmit_with_winners keeps both)
      return at::max_pool2d(presynaptic_rate, pair(g.kernel), pair(g.stride), pair(g.padding),
                            pair(g.dilation), g.ceil_mode);
    case ProjectionKind::flatten:  // a copy: the drive is accumulated in place
      return presynaptic_rate.flatten(1).clone();
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: unknown projection kind");
}

at::Tensor transmit_with_bias(const Projection& projection, const at::Tensor& presynaptic_rate,
                              const at::Tensor& bias) {
  const Geometry& g = projection.geometry;
  if (projection.kind == ProjectionKind::conv2d) {
    return at::convolution(presynaptic_rate, projection.weight, bias, pair(g.stride),
                           pair(g.padding), pair(g.dilation), /*transposed=*/false,
                           /*output_padding=*/{0, 0}, g.groups);
  }
  TORCH_INTERNAL_ASSERT(projection.kind == ProjectionKind::dense,
                        "eiprop: only dense and conv2d projections carry a bias");
  return at::addmm(bias, presynaptic_rate, projection.weight.t());
}

std::pair<at::Tensor, at::Tensor> transmit_with_winners(const Projection& projection,
                                                        const at::Tensor& presynaptic_rate) {
  TORCH_INTERNAL_ASSERT(projection.kind == ProjectionKind::max_pool2d,
                        "eiprop: only a max_pool2d projection has window winners");
  const Geometry& g = projection.geometry;
  auto both = at::max_pool2d_with_indices(presynaptic_rate, pair(g.kernel), pair(g.stride),
                                          pair(g.padding), pair(g.dilation), g.ceil_mode);
  return {std::move(std::get<0>(both)), std::move(std::get<1>(both))};
}

at::Tensor window_winners(const Projection& projection, const at::Tensor& presynaptic_rate) {
  return transmit_with_winners(projection, presynaptic_rate).second;
}

void transmit_into(at::Tensor& drive, const Projection& projection,
                   const at::Tensor& presynaptic_rate) {
  if (projection.kind == ProjectionKind::dense) {
    drive.addmm_(presynaptic_rate, projection.weight.t());
  } else if (projection.kind == ProjectionKind::flatten) {
    drive.add_(presynaptic_rate.reshape(drive.sizes()));
  } else {
    drive.add_(transmit(projection, presynaptic_rate));
  }
}

at::Tensor retrograde(const Projection& projection, const at::Tensor& balance_credit,
                      at::IntArrayRef presynaptic_sizes, const at::Tensor& presynaptic_rate,
                      const at::Tensor& winners) {
  const Geometry& g = projection.geometry;
  switch (projection.kind) {
    case ProjectionKind::dense:
      return at::mm(balance_credit, projection.weight);
    case ProjectionKind::conv2d:
      // The transposed convolution through the same synapses, as ATen's convolution backward
      // computes it (the input gradient: it reads only the presynaptic sizes, which restore what
      // the forward's floor division lost).
      return std::get<0>(at::convolution_backward(
          balance_credit, at::empty(presynaptic_sizes, balance_credit.options()),
          projection.weight, c10::nullopt, pair(g.stride), pair(g.padding), pair(g.dilation),
          /*transposed=*/false, /*output_padding=*/{0, 0}, g.groups, {true, false, false}));
    case ProjectionKind::avg_pool2d:
      // The backward reads only its `self` argument's sizes.
      return at::avg_pool2d_backward(balance_credit,
                                     at::empty(presynaptic_sizes, balance_credit.options()),
                                     pair(g.kernel),
                                     pair(g.stride), pair(g.padding), g.ceil_mode,
                                     g.count_include_pad, c10::nullopt);
    case ProjectionKind::max_pool2d: {
      TORCH_INTERNAL_ASSERT(winners.defined() || presynaptic_rate.defined(),
                            "eiprop: a max_pool2d projection's credit needs its window winners "
                            "or the presynaptic rates");
      // The backward reads its `self` argument's sizes (and layout) only.
      return at::max_pool2d_with_indices_backward(
          balance_credit,
          presynaptic_rate.defined() ? presynaptic_rate
                                     : at::empty(presynaptic_sizes, balance_credit.options()),
          pair(g.kernel), pair(g.stride), pair(g.padding), pair(g.dilation), g.ceil_mode,
          winners.defined() ? winners : window_winners(projection, presynaptic_rate));
    }
    case ProjectionKind::flatten:  // a copy: the credit is accumulated in place
      return balance_credit.reshape(presynaptic_sizes).clone();
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: unknown projection kind");
}

void retrograde_into(at::Tensor& credit, const Projection& projection,
                     const at::Tensor& balance_credit, at::IntArrayRef presynaptic_sizes,
                     const at::Tensor& presynaptic_rate, const at::Tensor& winners) {
  if (projection.kind == ProjectionKind::dense) {
    credit.addmm_(balance_credit, projection.weight);
  } else if (projection.kind == ProjectionKind::flatten) {
    credit.add_(balance_credit.reshape(presynaptic_sizes));
  } else {
    credit.add_(
        retrograde(projection, balance_credit, presynaptic_sizes, presynaptic_rate, winners));
  }
}

at::Tensor hebbian(const Projection& projection, const at::Tensor& balance_credit,
                   const at::Tensor& presynaptic_rate, double scale) {
  switch (projection.kind) {
    case ProjectionKind::dense: {
      // addmm with beta = 0 ignores its first argument and scales the product inside the GEMM.
      auto update = at::empty({balance_credit.size(1), presynaptic_rate.size(1)},
                              balance_credit.options());
      return at::addmm(update, balance_credit.t(), presynaptic_rate, /*beta=*/0, /*alpha=*/scale);
    }
    case ProjectionKind::conv2d:
      return conv2d_hebbian(projection, balance_credit, presynaptic_rate, scale,
                            /*weight=*/true, /*bias=*/false)
          .first;
    default:
      TORCH_INTERNAL_ASSERT(false, "eiprop: a ", projection_kind_name(projection.kind),
                            " projection has no synapses to change");
  }
}

std::pair<at::Tensor, at::Tensor> conv2d_hebbian(const Projection& projection,
                                                 const at::Tensor& balance_credit,
                                                 const at::Tensor& presynaptic_rate, double scale,
                                                 bool weight, bool bias) {
  const Geometry& g = projection.geometry;
  // The weight gradient of ATen's convolution backward is the product summed over positions.
  const std::vector<int64_t> bias_sizes{balance_credit.size(1)};
  auto updates = at::convolution_backward(
      balance_credit, presynaptic_rate, projection.weight,
      bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(), pair(g.stride),
      pair(g.padding), pair(g.dilation), /*transposed=*/false, /*output_padding=*/{0, 0}, g.groups,
      {false, weight, bias});
  auto weight_update = std::get<1>(updates);
  auto bias_update = std::get<2>(updates);
  if (scale != 1.0) {
    if (weight) weight_update.mul_(scale);
    if (bias) bias_update.mul_(scale);
  }
  return {weight ? weight_update : at::Tensor(), bias ? bias_update : at::Tensor()};
}

at::Tensor bias_plasticity(const at::Tensor& balance_credit, double scale) {
  auto update = balance_credit.dim() == 2 ? balance_credit.sum(0)
                                          : balance_credit.sum({0, 2, 3});
  return scale == 1.0 ? update : update.mul_(scale);
}

const char* projection_kind_name(ProjectionKind kind) {
  switch (kind) {
    case ProjectionKind::dense: return "dense";
    case ProjectionKind::conv2d: return "conv2d";
    case ProjectionKind::avg_pool2d: return "avg_pool2d";
    case ProjectionKind::max_pool2d: return "max_pool2d";
    case ProjectionKind::flatten: return "flatten";
  }
  return "unknown";
}

}  // namespace kernels
}  // namespace eiprop
