// Recurrent circuits: the rule's learning step (firing relaxation, credit relaxation,
// plasticity) against backpropagation through the unrolled firing iterations (autograd), as the
// number of iterations grows: time, and the memory each holds between its forward and backward
// stages.
#pragma once

#include "support/timing.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <string>
#include <vector>

namespace eiprop {
namespace bench {

struct RecurrentOptions {
  int64_t input = 256;
  int64_t hidden = 512;
  int64_t output = 10;
  int64_t batch = 64;
  // Spectral radius of the hidden self-projection: close to 1, so that no iteration count
  // below a few thousand reaches the fixed point to round-off and every run does all its
  // iterations.
  double recurrent_radius = 0.99;
  int repetitions = 5;
  int warmup = 1;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  Clock clock = Clock::wall;
};

struct RecurrentRow {
  int64_t iterations = 0;
  double rule_ms = 0.0;      // median step time of the rule
  double autograd_ms = 0.0;  // median step time of unrolled backprop
  // Bytes allocated and still held when the forward stage ends and the backward stage begins
  // (the rule: rates and drives of the equilibrium; autograd: the unrolled graph's saved
  // tensors). CPU only (glibc's allocator statistics); -1 on other devices.
  double rule_held_bytes = -1.0;
  double autograd_held_bytes = -1.0;
  double gradient_relative_gap = 0.0;  // max over parameters of |rule - autograd| / |autograd|
};

std::vector<RecurrentRow> compare_recurrent(const RecurrentOptions& options,
                                            const std::vector<int64_t>& iteration_counts);

std::string recurrent_table(const std::vector<RecurrentRow>& rows);
std::string recurrent_json(const std::vector<RecurrentRow>& rows, const RecurrentOptions& options);

}  // namespace bench
}  // namespace eiprop
