// Test oracles and fixtures: random layered circuits and LibTorch autograd's gradients of
// Loss = 1/(2B) sum ||y - r_L||^2 through the same network.
#pragma once

#include <eiprop/eiprop.h>
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <functional>
#include <string>
#include <vector>

namespace eiprop {
namespace testing {

extern const std::vector<std::string> kActivations;
extern const std::vector<std::string> kMethods;

struct LayeredCircuit {
  at::Tensor input;   // [B, N_0]
  at::Tensor target;  // [B, N_L]
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
  std::vector<std::string> activations;
};

// widths = {N_0, ..., N_L}; weights ~ N(0, 1/N_in), biases ~ N(0, 0.1^2).
LayeredCircuit make_circuit(const std::vector<int64_t>& widths, int64_t batch,
                            const std::vector<std::string>& activations, bool with_bias,
                            at::ScalarType dtype, uint64_t seed,
                            at::Device device = at::kCPU);

// Autograd's gradients for the circuit's squared error against its target.
AutogradGradients autograd_gradients(const LayeredCircuit& circuit);

// The value of an environment variable set by ctest (empty when unset).
std::string environment(const char* name);

// Expects `call` to throw a c10::Error whose message contains every fragment.
void expect_error(const std::function<void()>& call, const std::vector<std::string>& fragments);

}  // namespace testing
}  // namespace eiprop
