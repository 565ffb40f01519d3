// Fast timescale (docs/theory.md §2): firing rates relax to the E-I equilibrium r* = f(u(r*)).
#pragma once

#include "kernels/circuit.h"
#include "solvers/options.h"

#include <vector>

namespace eiprop {
namespace solvers {

struct FiringEquilibrium {
  std::vector<at::Tensor> rates;   // indexed by population 0..P; rates[0] is the clamped input
  std::vector<at::Tensor> drives;  // indexed by population 0..P; drives[0] is undefined
  // Indexed by projection: a max_pool2d projection's window winners at the final rates, which
  // the credits reuse (kernels/projection.h). Kept by the exact schedules, whose one pass is the
  // final one; empty after an iterative solve.
  std::vector<at::Tensor> winners;
  SolverStats stats;
};

// sweep: one pass in topological order (acyclic circuits).
// jacobi: synchronous updates; on acyclic circuits only the wavefront of populations whose
//   inputs just became final is updated, so it is exact after depth iterations at sweep's cost;
//   on cyclic circuits every population updates until the residual is below tol.
// euler: r <- r + dt (f(u(r)) - r) from r = 0 until the residual is below tol.
// Options must be resolved (resolve_defaults). On return rates[p] = f_p(drives[p]).
FiringEquilibrium relax_rates(const kernels::Circuit& circuit, const at::Tensor& input,
                              const SolverOptions& options);

}  // namespace solvers
}  // namespace eiprop
