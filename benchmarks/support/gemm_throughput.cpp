#include "support/gemm_throughput.h"

namespace eiprop {
namespace bench {
namespace {

torch::Tensor operand(int64_t rows, int64_t cols, bool transposed,
                      const torch::TensorOptions& options) {
  return transposed ? torch::randn({cols, rows}, options).t() : torch::randn({rows, cols}, options);
}

}  // namespace

GemmSet::GemmSet(std::vector<Gemm> gemms, const torch::TensorOptions& options)
    : gemms_(std::move(gemms)) {
  for (const auto& gemm : gemms_) {
    a_.push_back(operand(gemm.m, gemm.k, gemm.a_transposed, options));
    b_.push_back(operand(gemm.k, gemm.n, gemm.b_transposed, options));
  }
  c_.resize(gemms_.size());
}

void GemmSet::run() {
  // The results are kept until the next run, as a step keeps its drives and credits.
  for (size_t i = 0; i < gemms_.size(); ++i) c_[i] = torch::mm(a_[i], b_[i]);
}

}  // namespace bench
}  // namespace eiprop
