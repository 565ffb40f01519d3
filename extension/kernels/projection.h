// What one projection's synapses compute, for each kind (docs/theory.md §1-4): the signal it adds
// to the postsynaptic drive, the retrograde signal it carries back from the postsynaptic balance
// credit, and, for the plastic kinds, the Hebbian product of that credit and the presynaptic
// rate. Every kind uses ATen's own kernels for its direction (convolution, transposed
// convolution, pooling and its backward), never autograd.
//   dense       u += r W^T                 c += delta W                  dW = delta^T r
//   conv2d      u += conv(r, W)            c += conv^T(delta, W)         dW = sum over positions
//   avg_pool2d  u += avg_pool(r)           c += avg_pool^T(delta)        fixed
//   max_pool2d  u += max over the window   c += delta at the window's winner (PyTorch's ties)
//   flatten     u += r viewed [B, C*H*W]   c += delta viewed [B, C, H, W]
#pragma once

#include "kernels/circuit.h"

#include <ATen/ATen.h>

namespace eiprop {
namespace kernels {

// The projection's contribution to the postsynaptic drive, shaped like the postsynaptic rates: a
// fresh tensor (never a view of the rates), so a caller may add into it.
at::Tensor transmit(const Projection& projection, const at::Tensor& presynaptic_rate);

// The contribution plus the postsynaptic bias, added inside the kernel as torch.nn.Linear and
// Conv2d add theirs (the same rounding): dense and conv2d projections only.
at::Tensor transmit_with_bias(const Projection& projection, const at::Tensor& presynaptic_rate,
                              const at::Tensor& bias);

// Adds the contribution to `drive` in place (a dense projection accumulates inside its GEMM).
void transmit_into(at::Tensor& drive, const Projection& projection,
                   const at::Tensor& presynaptic_rate);

// A max_pool2d projection's contribution and its window winners: for each postsynaptic neuron,
// the flat index (within its channel's H x W plane) of the presynaptic neuron whose rate won,
// as at::max_pool2d_with_indices picks it (PyTorch's ties). One pass finds both.
std::pair<at::Tensor, at::Tensor> transmit_with_winners(const Projection& projection,
                                                        const at::Tensor& presynaptic_rate);

// A max_pool2d projection's window winners alone.
at::Tensor window_winners(const Projection& projection, const at::Tensor& presynaptic_rate);

// The retrograde signal to the presynaptic population, of `presynaptic_sizes` ([B, N] or
// [B, C, H, W]). Only a max_pool2d projection reads the presynaptic side: its window winners
// (found from `presynaptic_rate` when `winners` is undefined) carry the credit back, and the
// rates, when given, lend their layout. For the other kinds both may be undefined.
at::Tensor retrograde(const Projection& projection, const at::Tensor& balance_credit,
                      at::IntArrayRef presynaptic_sizes, const at::Tensor& presynaptic_rate,
                      const at::Tensor& winners = at::Tensor());

// Adds the retrograde signal to `credit` in place.
void retrograde_into(at::Tensor& credit, const Projection& projection,
                     const at::Tensor& balance_credit, at::IntArrayRef presynaptic_sizes,
                     const at::Tensor& presynaptic_rate, const at::Tensor& winners = at::Tensor());

// scale times the Hebbian product of a plastic projection, shaped like its weight: the batch
// (and, for conv2d, every position) summed.
at::Tensor hebbian(const Projection& projection, const at::Tensor& balance_credit,
                   const at::Tensor& presynaptic_rate, double scale);

// scale times a conv2d projection's Hebbian product (when `weight`) and its postsynaptic
// population's bias update (when `bias`), from one ATen convolution backward, as autograd computes
// a Conv2d's gradients (the same rounding); an entry not asked for is undefined.
std::pair<at::Tensor, at::Tensor> conv2d_hebbian(const Projection& projection,
                                                 const at::Tensor& balance_credit,
                                                 const at::Tensor& presynaptic_rate, double scale,
                                                 bool weight, bool bias);

// scale times the balance credit summed over the batch (and positions): the bias update, [N]
// or [C].
at::Tensor bias_plasticity(const at::Tensor& balance_credit, double scale);

// "dense", "conv2d", ... (for messages).
const char* projection_kind_name(ProjectionKind kind);

}  // namespace kernels
}  // namespace eiprop
