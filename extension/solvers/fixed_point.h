// The iterative relaxation shared by the firing and credit solvers on recurrent circuits:
// x <- x + dt (T(x) - x) (jacobi: dt = 1), or Anderson acceleration of x <- T(x), until the
// relative residual |T(x) - x| is below tol, the iteration budget is spent, or it diverges.
#pragma once

#include "kernels/circuit.h"
#include "solvers/options.h"

#include <ATen/ATen.h>

#include <functional>
#include <vector>

namespace eiprop {
namespace solvers {

// Writes T(state) into targets[1..P]; state and targets are indexed by population 0..P and
// entry 0 (the clamped input, or unused) is never touched.
using FixedPointMap =
    std::function<void(const std::vector<at::Tensor>& state, std::vector<at::Tensor>& targets)>;

// Iterates from the given state (entries 1..P defined, each [B, N_p]). On return `state` holds
// T(x) of the last iterate — the solution when converged. Options must be resolved; method is
// jacobi, euler or anderson. Anderson works per sample (each batch row has its own mixing
// coefficients) on the concatenation of the populations.
// What the iteration needs to know of the circuit (kernels::Circuit::depth and recurrent).
struct FixedPointStructure {
  // Synchronous updates a change needs to cross the circuit outside its cycles: the stagnation
  // test waits at least kStallPerDepth * depth / dt iterations, so a deep circuit's transient
  // is not taken for a stall.
  int64_t depth = 1;
  // Per population 0..P, whether it lies on a cycle; Anderson's stability probe measures the
  // spectral radius there only (the chain parts are nilpotent: their transient growth is not
  // instability). Empty: every population.
  std::vector<bool> recurrent;
};

FixedPointStructure structure_of(const kernels::Circuit& circuit);

SolverStats relax_to_fixed_point(const FixedPointMap& map, std::vector<at::Tensor>& state,
                                 const SolverOptions& options,
                                 const FixedPointStructure& structure);

}  // namespace solvers
}  // namespace eiprop
