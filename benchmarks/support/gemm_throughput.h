// torch::mm on the matrix products of a training step: the throughput the step is held to.
#pragma once

#include "support/layered_shape.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <vector>

namespace eiprop {
namespace bench {

// Random operands for each product, laid out as the step passes them (a transposed operand is
// the transposed view of a contiguous tensor).
class GemmSet {
 public:
  GemmSet(std::vector<Gemm> gemms, const torch::TensorOptions& options);
  // torch::mm on every product, in order.
  void run();
  const std::vector<Gemm>& gemms() const { return gemms_; }
  double flops() const { return total_flops(gemms_); }

 private:
  std::vector<Gemm> gemms_;
  std::vector<torch::Tensor> a_, b_, c_;
};

}  // namespace bench
}  // namespace eiprop
