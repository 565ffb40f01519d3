// Middle timescale (docs/theory.md §3): credits relax by retrograde signalling,
// c_q = sum_{k: pre[k]=q} delta_{post[k]} W_k + e_q with delta_p = f'_p(u_p) * c_p.
#pragma once

#include "kernels/circuit.h"
#include "solvers/options.h"

#include <vector>

namespace eiprop {
namespace solvers {

struct CreditEquilibrium {
  std::vector<at::Tensor> credits;          // indexed by population 0..P; credits[0] = input credit
  std::vector<at::Tensor> balance_credits;  // indexed by population 0..P; [0] is undefined
  SolverStats stats;
};

// Same methods and schedules as relax_rates, run from the credit sources back to the input.
// drives (and, when known, rates, to spare recomputing tanh/sigmoid) are indexed 0..P; rates may
// be empty. output_error is e at population `output`. credits[0] (the input credit) is computed
// only when `input_credit` is true, and is undefined when the input has no outgoing projection.
// `winners` (indexed by projection, e.g. FiringEquilibrium::winners) are the max_pool2d
// projections' window winners at these rates; those not given are found once, before the solve.
CreditEquilibrium relax_credits(const kernels::Circuit& circuit,
                                const std::vector<at::Tensor>& drives,
                                const std::vector<at::Tensor>& rates, int64_t output,
                                const at::Tensor& output_error, const SolverOptions& options,
                                bool input_credit = true,
                                const std::vector<at::Tensor>& winners = {});

}  // namespace solvers
}  // namespace eiprop
