#include "solvers/residual.h"

#include <cmath>


namespace eiprop {
namespace solvers {

Residual measure_residual(const std::vector<at::Tensor>& targets,
                          const std::vector<at::Tensor>& states) {
  std::vector<at::Tensor> ratios;
  std::vector<at::Tensor> gaps;
  for (size_t p = 1; p < targets.size(); ++p) {
    if (targets[p].numel() == 0) continue;
    const auto gap = (targets[p] - states[p]).abs().max();
    const auto scale = at::maximum(targets[p].abs().max(), states[p].abs().max());
    // 0/0 (a silent population at rest) counts as converged; NaN stays NaN.
    ratios.push_back(at::where(gap == 0, at::zeros_like(gap), gap / scale));
    gaps.push_back(gap);
  }
  if (ratios.empty()) return {};
  // NaN-propagating maxima of both measures, fetched together.
  const auto both = at::stack({at::stack(ratios).max(), at::stack(gaps).max()})
                        .to(at::kDouble)
                        .cpu();
  const double* values = both.data_ptr<double>();
  return {values[0], values[1]};
}

bool all_finite(const std::vector<at::Tensor>& tensors) {
  // One pass per tensor and no temporaries; the sums are converted only when the dtypes differ.
  std::vector<at::Tensor> sums;
  bool mixed = false;
  for (const auto& tensor : tensors) {
    if (!tensor.defined()) continue;
    mixed = mixed || (!sums.empty() && tensor.scalar_type() != sums.front().scalar_type());
    sums.push_back(tensor.sum());
  }
  if (sums.empty()) return true;
  if (mixed) {
    for (auto& sum : sums) sum = sum.to(at::kDouble);
  }
  return std::isfinite(at::stack(sums).sum().item<double>());
}

int64_t first_nonfinite_population(const std::vector<at::Tensor>& tensors, int64_t first,
                                   bool from_output) {
  const auto last = static_cast<int64_t>(tensors.size()) - 1;
  // Fast path; a non-finite sum (a NaN or Inf, or a float32 overflow) falls through to the exact
  // search.
  const std::vector<at::Tensor> searched(tensors.begin() + (from_output ? 1 : first), tensors.end());
  if (all_finite(searched)) return -1;

  std::vector<int64_t> populations;
  std::vector<at::Tensor> finite;
  for (int64_t i = 0; i <= last - (from_output ? 1 : first); ++i) {
    const int64_t p = from_output ? last - i : first + i;
    if (!tensors[p].defined()) continue;
    populations.push_back(p);
    finite.push_back(at::isfinite(tensors[p]).all());
  }
  if (finite.empty()) return -1;
  const auto flags = at::stack(finite).cpu();
  const bool* flag = flags.data_ptr<bool>();
  for (size_t i = 0; i < populations.size(); ++i) {
    if (!flag[i]) return populations[i];
  }
  return -1;
}

}  // namespace solvers
}  // namespace eiprop
