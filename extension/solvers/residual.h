// The convergence measures shared by the iterative solvers.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace eiprop {
namespace solvers {

struct Residual {
  // max over populations p = 1..P of max|target_p - state_p| / max(max|target_p|, max|state_p|):
  // every population is judged against its own scale, so deep populations whose credits are
  // orders of magnitude below the output's still converge to full relative accuracy.
  double relative = 0.0;
  // max over populations of max|target_p - state_p| (absolute): successive values give the
  // contraction factor of the iteration.
  double step = 0.0;
};

// Both measures with one device synchronisation. NaN when a target or state is not finite.
Residual measure_residual(const std::vector<at::Tensor>& targets,
                          const std::vector<at::Tensor>& states);

// Whether every entry of every defined tensor is finite, with one device synchronisation (a sum
// is finite only if every entry is; a float32 sum that overflows reads as non-finite, so a false
// answer is confirmed by first_nonfinite_population).
bool all_finite(const std::vector<at::Tensor>& tensors);

// A population whose tensor holds a NaN or an infinity, or -1 (undefined entries are skipped),
// with one device synchronisation. Searched from population `first` upwards (rates: from the
// input, 0, in the direction firing flows), or, when `from_output` is true, from P downwards to 1
// (credits flow back from the output population).
int64_t first_nonfinite_population(const std::vector<at::Tensor>& tensors, int64_t first = 1,
                                   bool from_output = false);

}  // namespace solvers
}  // namespace eiprop
