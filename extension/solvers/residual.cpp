#include "solvers/residual.h"

namespace eiprop {
namespace solvers {

double relative_residual(const std::vector<at::Tensor>& targets,
                         const std::vector<at::Tensor>& states) {
  std::vector<at::Tensor> ratios;
  for (size_t p = 1; p < targets.size(); ++p) {
    if (targets[p].numel() == 0) continue;
    const auto gap = (targets[p] - states[p]).abs().max();
    const auto scale = at::maximum(targets[p].abs().max(), states[p].abs().max());
    // 0/0 (a silent population at rest) counts as converged.
    ratios.push_back(at::where(gap > 0, gap / scale, at::zeros_like(gap)));
  }
  if (ratios.empty()) return 0.0;
  return at::stack(ratios).max().item<double>();
}

}  // namespace solvers
}  // namespace eiprop
