#include "solvers/firing.h"

#include "kernels/synapses.h"
#include "solvers/residual.h"

namespace eiprop {
namespace solvers {
namespace {

using kernels::Circuit;

void fire(const Circuit& circuit, int64_t p, FiringEquilibrium& state) {
  state.drives[p] = kernels::drive(circuit, p, state.rates);
  state.rates[p] = kernels::rate(circuit.activation(p), state.drives[p]);
}

// sweep and the jacobi wavefront visit the same populations in the same order; they differ in
// how the passes are counted.
FiringEquilibrium wavefront(const Circuit& circuit, FiringEquilibrium state, Method method) {
  for (const auto& wave : circuit.firing_waves()) {
    for (int64_t p : wave) fire(circuit, p, state);
  }
  state.stats.iterations =
      method == Method::sweep ? 1 : static_cast<int64_t>(circuit.firing_waves().size());
  return state;
}

// Synchronous relaxation r <- r + dt (f(u(r)) - r) from r = 0.
FiringEquilibrium relax(const Circuit& circuit, FiringEquilibrium state,
                        const SolverOptions& options) {
  const int64_t batch = state.rates[0].size(0);
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    const int64_t width = circuit.bias(p).has_value()
                              ? circuit.bias(p)->size(0)
                              : circuit.projection(circuit.incoming(p).front()).weight.size(0);
    state.rates[p] = at::zeros({batch, width}, state.rates[0].options());
  }
  std::vector<at::Tensor> targets(state.rates.size());
  state.stats.converged = false;
  for (int64_t iteration = 1; iteration <= options.max_iters; ++iteration) {
    for (int64_t p = 1; p <= circuit.populations(); ++p) {
      state.drives[p] = kernels::drive(circuit, p, state.rates);
      targets[p] = kernels::rate(circuit.activation(p), state.drives[p]);
    }
    state.stats.iterations = iteration;
    state.stats.residual = relative_residual(targets, state.rates);
    if (state.stats.residual <= options.tol) {
      state.stats.converged = true;
      for (int64_t p = 1; p <= circuit.populations(); ++p) state.rates[p] = targets[p];
      break;
    }
    for (int64_t p = 1; p <= circuit.populations(); ++p) {
      state.rates[p] = at::lerp(state.rates[p], targets[p], options.dt);
    }
  }
  return state;
}

}  // namespace

FiringEquilibrium relax_rates(const Circuit& circuit, const at::Tensor& input,
                              const SolverOptions& options) {
  FiringEquilibrium state;
  state.rates.resize(circuit.populations() + 1);
  state.drives.resize(circuit.populations() + 1);
  state.rates[0] = input;
  const bool exact_schedule = circuit.acyclic() && options.method != Method::euler;
  if (exact_schedule) return wavefront(circuit, std::move(state), options.method);
  SolverOptions relaxation = options;
  if (options.method == Method::jacobi) relaxation.dt = 1.0;
  TORCH_INTERNAL_ASSERT(options.method != Method::sweep, "eiprop: sweep needs an acyclic circuit");
  return relax(circuit, std::move(state), relaxation);
}

}  // namespace solvers
}  // namespace eiprop
