// The operators' `projections` argument, written for you: one string per weight saying what the
// projection's synapses compute, every parameter named as torch::nn names it (there are no
// defaults). An empty list means every projection is dense. The weight of a pooling or flatten
// projection is an empty placeholder (torch::empty({0})).
//   dense()                                         [N_post, N_pre] (Linear's layout)
//   conv2d({3, 3}, {1, 1}, {1, 1}, {1, 1}, 1)       [C_out, C_in / groups, kH, kW] (Conv2d's)
//   avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad)
//   max_pool2d(kernel, stride, padding, dilation, ceil_mode)
//   flatten()                                       [C, H, W] -> [C * H * W]
#pragma once

#include <torch/nn/module.h>

#include <array>
#include <string>

namespace eiprop {
namespace projection {

using Pair = std::array<int64_t, 2>;  // (height, width)

std::string dense();
std::string conv2d(Pair kernel, Pair stride, Pair padding, Pair dilation, int64_t groups);
std::string avg_pool2d(Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                       bool count_include_pad);
std::string max_pool2d(Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode);
std::string flatten();

// The projection a LibTorch layer is: Linear, Conv2d, AvgPool2d, MaxPool2d or Flatten.
// nullopt when it is none of them, or (with the reason in `mismatch`) when it has a setting the
// operators do not take (a Conv2d padding mode other than zeros, asymmetric 'same' padding, an
// AvgPool2d divisor_override, a Flatten of other dimensions than [C, H, W]).
c10::optional<std::string> of_module(const torch::nn::Module& module, std::string& mismatch);

}  // namespace projection
}  // namespace eiprop
