#include "solvers/credit.h"

#include "kernels/synapses.h"
#include "solvers/fixed_point.h"
#include "solvers/residual.h"

namespace eiprop {
namespace solvers {
namespace {

using kernels::Circuit;

// What the retrograde signal of a max_pool2d projection reads of its presynaptic population q:
// q's rates (the rates when known, else recomputed from the drive) and the window winners (given,
// or found from those rates), each made once for the whole solve. Undefined elsewhere (no other
// kind reads them), and q's rates for the input population when the caller holds no rates.
struct PoolingWinners {
  std::vector<at::Tensor> presynaptic_rates;  // indexed by population 0..P
  std::vector<at::Tensor> winners;            // indexed by projection

  PoolingWinners(const Circuit& circuit, const std::vector<at::Tensor>& drives,
                 const std::vector<at::Tensor>& rates, const std::vector<at::Tensor>& given)
      : presynaptic_rates(circuit.populations() + 1), winners(circuit.projections().size()) {
    for (size_t k = 0; k < circuit.projections().size(); ++k) {
      const auto& projection = circuit.projection(static_cast<int64_t>(k));
      if (projection.kind != kernels::ProjectionKind::max_pool2d) continue;
      const int64_t q = projection.pre;
      auto& rate = presynaptic_rates[q];
      if (!rate.defined() && !rates.empty()) rate = rates[q];
      if (k < given.size() && given[k].defined()) {
        winners[k] = given[k];
        continue;
      }
      // (Without the rates, the input's winners stay unknown: only its credit would read them.)
      if (!rate.defined() && q > 0) rate = kernels::rate(circuit.activation(q), drives[q]);
      if (rate.defined()) winners[k] = kernels::window_winners(projection, rate);
    }
  }
};

struct CreditProblem {
  const Circuit& circuit;
  const std::vector<at::Tensor>& drives;
  const std::vector<at::Tensor>& rates;
  int64_t output;
  const at::Tensor& output_error;
  PoolingWinners pooling;

  // The retrograde signal reaching q.
  at::Tensor retrograde(int64_t q, const std::vector<at::Tensor>& balance_credits) const {
    return kernels::retrograde_credit(circuit, q, balance_credits,
                                      pooling.presynaptic_rates[q], pooling.winners);
  }

  // The credit population q is driven to: retrograde signal plus its own imbalance.
  at::Tensor target(int64_t q, const std::vector<at::Tensor>& balance_credits) const {
    at::Tensor c = retrograde(q, balance_credits);
    if (q == output) {
      c = c.defined() ? c.add_(output_error) : output_error.clone();
    }
    return c.defined() ? c : at::zeros_like(drives[q]);
  }

  at::Tensor gate(int64_t p, const at::Tensor& credit) const {
    const at::Tensor rate = rates.empty() ? at::Tensor() : rates[p];
    return kernels::balance_credit(circuit.activation(p), drives[p], rate, credit);
  }
};

CreditEquilibrium wavefront(const CreditProblem& problem, CreditEquilibrium state,
                            Method method) {
  const auto& waves = problem.circuit.credit_waves();
  for (const auto& wave : waves) {
    for (int64_t q : wave) {
      state.credits[q] = problem.target(q, state.balance_credits);
      state.balance_credits[q] = problem.gate(q, state.credits[q]);
    }
  }
  state.stats.iterations = method == Method::sweep ? 1 : static_cast<int64_t>(waves.size());
  return state;
}

// The credits relax from c = 0 (docs/theory.md §3) by the chosen iteration.
CreditEquilibrium relax(const CreditProblem& problem, CreditEquilibrium state,
                        const SolverOptions& options) {
  const int64_t populations = problem.circuit.populations();
  for (int64_t p = 1; p <= populations; ++p) state.credits[p] = at::zeros_like(problem.drives[p]);
  auto& balance_credits = state.balance_credits;
  const auto signalling = [&](const std::vector<at::Tensor>& credits,
                              std::vector<at::Tensor>& targets) {
    for (int64_t p = 1; p <= populations; ++p) balance_credits[p] = problem.gate(p, credits[p]);
    for (int64_t q = 1; q <= populations; ++q) targets[q] = problem.target(q, balance_credits);
  };
  state.stats = relax_to_fixed_point(signalling, state.credits, options,
                                     structure_of(problem.circuit));
  for (int64_t p = 1; p <= populations; ++p) {
    state.balance_credits[p] = problem.gate(p, state.credits[p]);
  }
  return state;
}

}  // namespace

CreditEquilibrium relax_credits(const Circuit& circuit, const std::vector<at::Tensor>& drives,
                                const std::vector<at::Tensor>& rates, int64_t output,
                                const at::Tensor& output_error, const SolverOptions& options,
                                bool input_credit, const std::vector<at::Tensor>& winners) {
  const CreditProblem problem{circuit, drives, rates, output, output_error,
                              PoolingWinners(circuit, drives, rates, winners)};
  CreditEquilibrium state;
  state.credits.resize(circuit.populations() + 1);
  state.balance_credits.resize(circuit.populations() + 1);
  if (circuit.acyclic() && options.method != Method::euler) {
    state = wavefront(problem, std::move(state), options.method);
    if (options.scan_nonfinite) {
      state.stats.nonfinite_population =
          first_nonfinite_population(state.credits, /*first=*/1, /*from_output=*/true);
    }
  } else {
    state = relax(problem, std::move(state), options);
  }
  // The input population is clamped: its credit is a read-out of the retrograde signal.
  if (input_credit) {
    state.credits[0] = problem.retrograde(0, state.balance_credits);
  }
  return state;
}

}  // namespace solvers
}  // namespace eiprop
