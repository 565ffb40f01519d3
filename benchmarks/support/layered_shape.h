// The layered circuits the benchmarks train, and the matrix products one training step makes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

// Population widths N_0 (input), ..., N_L (output) and the batch size B.
struct LayeredShape {
  std::vector<int64_t> widths;
  int64_t batch = 0;

  int64_t layers() const { return static_cast<int64_t>(widths.size()) - 1; }
  // "784-256-10 B=64", or "1024x5 B=256" when every width is the same.
  std::string name() const;
  // The name as part of a benchmark's name: "784-256-10/B=64".
  std::string token() const;
};

// The shapes of the performance issue: 784-256-10 (B=64), 1024 x 4 layers (B=256),
// 4096 x 2 layers (B=1024).
std::vector<LayeredShape> standard_shapes();

// Parses "784,256,10:64" (widths, then the batch size after the colon). Throws
// std::invalid_argument naming the text when it is not a shape.
LayeredShape parse_shape(const std::string& text);

// One matrix product C = A B with A [m, k] and B [k, n], and whether each operand is the
// transpose of a contiguous tensor (as the step passes it to the GEMM).
struct Gemm {
  std::string role;  // "drive l", "credit l", "plasticity l"
  int64_t m, k, n;
  bool a_transposed, b_transposed;
  double flops() const { return 2.0 * static_cast<double>(m) * k * n; }
};

// The matrix products of one training step, the same for the rule and for backprop: per layer l
// the drive r_l W_l^T, the retrograde credit delta_{l+1} W_l (not for the input layer: nothing
// upstream needs the input credit) and the Hebbian product delta_{l+1}^T r_l.
std::vector<Gemm> training_step_gemms(const LayeredShape& shape);
double total_flops(const std::vector<Gemm>& gemms);

}  // namespace bench
}  // namespace eiprop
