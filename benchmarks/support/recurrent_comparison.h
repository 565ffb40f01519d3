// Recurrent circuits: the rule's learning step (firing relaxation, credit relaxation,
// plasticity) against backpropagation through the unrolled firing iterations (autograd), as the
// number of iterations grows: time (interleaved, see interleaved.h), and the memory each holds
// between its forward and backward stages.
#pragma once

#include "support/interleaved.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <memory>
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
  int warmup = 1;  // untimed steps of each contestant first, at each iteration count
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  bool cpu_clock = false;  // the table's ratios from process CPU time instead of real time
};

class RecurrentComparison {
 public:
  RecurrentComparison(RecurrentOptions options, std::vector<int64_t> iteration_counts);
  ~RecurrentComparison();
  // Benchmarks named recurrent/<iterations>/rule and recurrent/<iterations>/autograd; each
  // repetition is one learning step, and reports the counter held_bytes: the bytes allocated and
  // still held when the forward stage ends and the backward stage begins (the rule: rates and
  // drives of the equilibrium; autograd: the unrolled graph's saved tensors; CPU only, from
  // glibc's allocator statistics).
  void register_benchmarks();
  // Per iteration count: the aggregate recurrent/<iterations>/rule_ratio_to_autograd (counters:
  // the held bytes of both, and the gradient gap: max over parameters of |rule - autograd| /
  // |autograd|, from the last steps) and the table.
  Derived derive(const Medians& medians) const;

 private:
  struct State;
  State& state();

  RecurrentOptions options_;
  std::vector<int64_t> iteration_counts_;
  std::unique_ptr<State> state_;  // made when a contestant first runs
};

}  // namespace bench
}  // namespace eiprop
