// The operators' `projections` argument: one entry per weight saying what kind of synapses the
// projection has and, for the spatial kinds, every parameter torch.nn names (no hidden defaults):
//   "dense"
//   "conv2d kernel=3,3 stride=1,1 padding=1,1 dilation=1,1 groups=1"
//   "avg_pool2d kernel=2,2 stride=2,2 padding=0,0 ceil_mode=false count_include_pad=true"
//   "max_pool2d kernel=2,2 stride=2,2 padding=0,0 dilation=1,1 ceil_mode=false"
//   "flatten"
// An empty list means every projection is dense (the operators' calls before projections had
// kinds). The weight of a fixed kind (pooling, flatten) is an empty placeholder (numel 0).
// This file parses the entries, checks each weight against its kind and derives the shape each
// projection gives its postsynaptic population (kernels/projection.h computes with them).
#pragma once

#include "kernels/circuit.h"

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace eiprop {
namespace ops {

struct ProjectionSpec {
  kernels::ProjectionKind kind = kernels::ProjectionKind::dense;
  kernels::Geometry geometry{};
};

// projections[k] for k < count, the length of the argument `count_from` (all dense when the
// list is empty); `name(k)` is how messages call projection k ("weights[2] (layer 2)").
std::vector<ProjectionSpec> parse_projections(const char* op,
                                              const std::vector<std::string>& projections,
                                              size_t count, const char* count_from,
                                              const std::function<std::string(size_t)>& name);

// Whether every projection is dense (the classic circuits, whose populations are [B, N]).
bool all_dense(const std::vector<ProjectionSpec>& specs);

// The weight a projection of this kind takes: dense [N_post, N_pre]; conv2d
// [C_out, C_in / groups, kH, kW] with the entry's kernel; a fixed kind an empty placeholder.
void check_projection_weight(const char* op, const std::string& what, const ProjectionSpec& spec,
                             const at::Tensor& weight, const at::Tensor& reference);

// The per-sample shape of the postsynaptic population, from the presynaptic one (and a
// weight's channels); refuses shapes the projection cannot take (channels, a window larger than
// the padded input, an empty output).
std::vector<int64_t> postsynaptic_shape(const char* op, const std::string& what,
                                        const ProjectionSpec& spec, const at::Tensor& weight,
                                        at::IntArrayRef presynaptic);

// A conv2d projection's weight sizes from its presynaptic and postsynaptic shapes (for the
// plasticity ops, which take no weights).
std::vector<int64_t> conv2d_weight_sizes(const ProjectionSpec& spec,
                                         at::IntArrayRef presynaptic,
                                         at::IntArrayRef postsynaptic);

// The projections between populations of known per-sample shapes (0..P), for the plasticity
// ops, which take rates but no weights: each entry is checked against the two shapes it joins,
// and a conv2d projection gets an uninitialised weight of its sizes (its Hebbian product reads
// only the sizes). A dense projection's weight stays undefined.
std::vector<kernels::Projection> projections_between(
    const char* op, const std::vector<ProjectionSpec>& specs, at::IntArrayRef pre,
    at::IntArrayRef post, const std::vector<std::vector<int64_t>>& shapes,
    const std::function<std::string(size_t)>& name, const at::Tensor& reference);

// "[16, 5, 5]".
std::string shape_text(at::IntArrayRef shape);

}  // namespace ops
}  // namespace eiprop
