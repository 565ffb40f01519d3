// The circuit the kernels act on (docs/theory.md §1): populations 0..P (0 is the clamped input)
// and projections k from pre[k] to post[k]. A dense projection has weight W_k of shape
// [N_post, N_pre]; a population's rates are [B, N] or, behind convolutional and pooling
// projections, [B, C, H, W] (kernels/projection.h says what each kind computes).
// Built once at an operator boundary from validated tensors; the kernels and solvers trust it.
#pragma once

#include "kernels/activation.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <array>
#include <vector>

namespace eiprop {
namespace kernels {

// What a projection's synapses compute. dense and conv2d are plastic; the pooling kinds and
// flatten are fixed (no weight).
enum class ProjectionKind { dense, conv2d, avg_pool2d, max_pool2d, flatten };

// The spatial parameters of conv2d and the poolings, as torch.nn.Conv2d / AvgPool2d / MaxPool2d
// name them (kernel is the pooling window; a convolution's comes from its weight).
struct Geometry {
  std::array<int64_t, 2> kernel{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

struct Projection {
  int64_t pre;
  int64_t post;
  at::Tensor weight;  // dense: [N_post, N_pre]; conv2d: [C_post, C_pre / groups, kH, kW]
  ProjectionKind kind = ProjectionKind::dense;
  Geometry geometry{};

  bool plastic() const {
    return kind == ProjectionKind::dense || kind == ProjectionKind::conv2d;
  }
};

class Circuit {
 public:
  // populations: P, not counting the input. biases[p-1] and activations[p-1] belong to p.
  // shapes[p] is population p's rates per sample (0..P): [N] or [C, H, W]; empty when every
  // projection is dense, then read from the weights.
  Circuit(int64_t populations, std::vector<Projection> projections,
          std::vector<c10::optional<at::Tensor>> biases, std::vector<Activation> activations,
          std::vector<std::vector<int64_t>> shapes = {});

  // The chain 0 -> 1 -> ... -> L with weights[l] projecting population l to l+1.
  static Circuit layered(std::vector<at::Tensor> weights,
                         std::vector<c10::optional<at::Tensor>> biases,
                         std::vector<Activation> activations);

  int64_t populations() const { return populations_; }
  const std::vector<Projection>& projections() const { return projections_; }
  const Projection& projection(int64_t k) const { return projections_[k]; }
  Activation activation(int64_t p) const { return activations_[p - 1]; }
  const c10::optional<at::Tensor>& bias(int64_t p) const { return biases_[p - 1]; }
  // Population p's rates per sample (0..P): [N] or [C, H, W].
  const std::vector<int64_t>& shape(int64_t p) const { return shapes_[p]; }
  // [batch, shape(p)...].
  std::vector<int64_t> batch_shape(int64_t p, int64_t batch) const;
  // Projection indices arriving at population p (1..P) / leaving population q (0..P).
  const std::vector<int64_t>& incoming(int64_t p) const { return incoming_[p]; }
  const std::vector<int64_t>& outgoing(int64_t q) const { return outgoing_[q]; }

  // True when no projection path returns to a population (then sweep and the jacobi
  // wavefront are exact).
  bool acyclic() const { return acyclic_; }
  // Acyclic circuits only. Firing wavefronts: wave t holds the populations whose rates become
  // final at synchronous iteration t+1 (all their presynaptic populations are final before).
  const std::vector<std::vector<int64_t>>& firing_waves() const { return firing_waves_; }
  // Credit wavefronts, from the populations without outgoing projections back towards the
  // input (the input population 0 is not included: its credit is a read-out).
  const std::vector<std::vector<int64_t>>& credit_waves() const { return credit_waves_; }

  // Whether population p (0..P) lies on a cycle (a self-projection, or a path back to itself):
  // the recurrent part, where an iteration can contract or not; the rest only passes signals on.
  bool recurrent(int64_t p) const { return recurrent_[p]; }
  // The longest path from the input, counting each strongly connected component (a recurrent
  // part, or a single population) once: how many synchronous updates a change needs to cross
  // the circuit outside its cycles (the depth, on an acyclic circuit).
  int64_t depth() const { return depth_; }

 private:
  void derive_schedule();
  void derive_components();

  int64_t populations_;
  std::vector<Projection> projections_;
  std::vector<c10::optional<at::Tensor>> biases_;
  std::vector<Activation> activations_;
  std::vector<std::vector<int64_t>> shapes_;
  std::vector<std::vector<int64_t>> incoming_;
  std::vector<std::vector<int64_t>> outgoing_;
  bool acyclic_ = true;
  std::vector<std::vector<int64_t>> firing_waves_;
  std::vector<std::vector<int64_t>> credit_waves_;
  std::vector<bool> recurrent_;
  int64_t depth_ = 0;
};

}  // namespace kernels
}  // namespace eiprop
