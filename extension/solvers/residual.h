// The convergence measure shared by the iterative solvers.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace eiprop {
namespace solvers {

// max over populations p = 1..P of max|target_p - state_p| / max(max|target_p|, max|state_p|):
// every population is judged against its own scale, so deep layers whose credits are orders of
// magnitude below the output's still converge to full relative accuracy. A host double (one
// device synchronisation).
double relative_residual(const std::vector<at::Tensor>& targets,
                         const std::vector<at::Tensor>& states);

}  // namespace solvers
}  // namespace eiprop
