// Activations f_p and their balance-credit gates f'_p(u) * c (docs/theory.md §1, §3, §7).
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <string>

namespace eiprop {
namespace kernels {

enum class Activation { identity, tanh, sigmoid, relu, leaky_relu, softplus, elu };

// The fixed constants of the parametrised activations, as torch::nn's defaults: every place that
// computes, references or converts these activations reads them from here.
constexpr double kLeakyReluSlope = 0.01;
constexpr double kEluAlpha = 1.0;
constexpr double kSoftplusBeta = 1.0;
constexpr double kSoftplusThreshold = 20.0;

// Parses an activation name; nullopt when the name is unknown.
c10::optional<Activation> parse_activation(const std::string& name);
const char* activation_name(Activation activation);
// "identity, tanh, sigmoid, relu, leaky_relu, softplus, elu" (for error messages).
std::string activation_choices();

// Firing rate r = f(u). Always a fresh tensor (identity copies), so rates never alias drives.
at::Tensor rate(Activation activation, const at::Tensor& drive);

// Balance credit delta = f'(u) * c in one fused ATen kernel, bitwise equal to what autograd's
// backward of f computes for grad_output = c. `rate` (f(u)) may be undefined; tanh and sigmoid
// then recompute it from `drive`.
at::Tensor balance_credit(Activation activation, const at::Tensor& drive, const at::Tensor& rate,
                          const at::Tensor& credit);

}  // namespace kernels
}  // namespace eiprop
