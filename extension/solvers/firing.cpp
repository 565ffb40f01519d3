#include "solvers/firing.h"

#include "kernels/synapses.h"
#include "solvers/fixed_point.h"
#include "solvers/residual.h"

namespace eiprop {
namespace solvers {
namespace {

using kernels::Circuit;

void fire(const Circuit& circuit, int64_t p, FiringEquilibrium& state) {
  state.drives[p] = kernels::drive(circuit, p, state.rates, &state.winners);
  state.rates[p] = kernels::rate(circuit.activation(p), state.drives[p]);
}

// sweep and the jacobi wavefront visit the same populations in the same order; they differ in
// how the passes are counted.
FiringEquilibrium wavefront(const Circuit& circuit, FiringEquilibrium state, Method method) {
  state.winners.resize(circuit.projections().size());
  for (const auto& wave : circuit.firing_waves()) {
    for (int64_t p : wave) fire(circuit, p, state);
  }
  state.stats.iterations =
      method == Method::sweep ? 1 : static_cast<int64_t>(circuit.firing_waves().size());
  return state;
}

// The rates relax from r = 0 (docs/theory.md §2) by the chosen iteration.
FiringEquilibrium relax(const Circuit& circuit, FiringEquilibrium state,
                        const SolverOptions& options) {
  const int64_t batch = state.rates[0].size(0);
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    state.rates[p] = at::zeros(circuit.batch_shape(p, batch), state.rates[0].options());
  }
  auto& drives = state.drives;
  const auto firing = [&](const std::vector<at::Tensor>& rates, std::vector<at::Tensor>& targets) {
    for (int64_t p = 1; p <= circuit.populations(); ++p) {
      drives[p] = kernels::drive(circuit, p, rates);
      targets[p] = kernels::rate(circuit.activation(p), drives[p]);
    }
  };
  state.stats = relax_to_fixed_point(firing, state.rates, options, structure_of(circuit));
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
  state = exact_schedule ? wavefront(circuit, std::move(state), options.method)
                         : relax(circuit, std::move(state), options);
  // From population 0: a non-finite input can hide behind saturating rates (tanh(inf) = 1).
  if (options.scan_nonfinite && state.stats.nonfinite_population < 0) {
    state.stats.nonfinite_population = first_nonfinite_population(state.rates, /*first=*/0);
  }
  return state;
}

}  // namespace solvers
}  // namespace eiprop
