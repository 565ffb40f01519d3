#include "ops/timescales.h"

#include "kernels/synapses.h"
#include "ops/validate.h"
#include "solvers/residual.h"

#include <cmath>

namespace eiprop {
namespace ops {

std::vector<at::Tensor> populations_of(std::vector<at::Tensor> by_population) {
  by_population.erase(by_population.begin());
  return by_population;
}

solvers::FiringEquilibrium equilibrium(const char* op, const kernels::Circuit& circuit,
                                       const at::Tensor& input,
                                       const solvers::SolverOptions& options, bool strict) {
  auto solved = solvers::relax_rates(circuit, input, options);
  check_solved(op, "the firing rates", options, solved.stats, strict);
  return solved;
}

solvers::CreditEquilibrium credit(const char* op, const char* what,
                                  const kernels::Circuit& circuit,
                                  const std::vector<at::Tensor>& drives,
                                  const std::vector<at::Tensor>& rates, int64_t output,
                                  const at::Tensor& output_error,
                                  const solvers::SolverOptions& options, bool strict,
                                  bool input_credit) {
  auto solved =
      solvers::relax_credits(circuit, drives, rates, output, output_error, options, input_credit);
  check_solved(op, what, options, solved.stats, strict);
  return solved;
}

void write_plasticity(const kernels::Circuit& circuit,
                      const std::vector<at::Tensor>& balance_credits,
                      const std::vector<at::Tensor>& rates, double scale,
                      const std::vector<at::Tensor>& weight_targets,
                      const std::vector<c10::optional<at::Tensor>>& bias_targets,
                      bool accumulate) {
  // Each update goes into its target inside one GEMM (beta = 0 ignores the old values).
  for (size_t k = 0; k < circuit.projections().size(); ++k) {
    if (!weight_targets[k].defined()) continue;
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    auto target = weight_targets[k];
    target.addmm_(balance_credits[projection.post].t(), rates[projection.pre],
                  /*beta=*/accumulate ? 1 : 0, /*alpha=*/scale);
  }
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    if (!bias_targets[p - 1].has_value() || !bias_targets[p - 1]->defined()) continue;
    auto target = *bias_targets[p - 1];
    if (accumulate) {
      target.add_(balance_credits[p].sum(0), scale);
    } else {
      at::sum_out(target, balance_credits[p], {0}).mul_(scale);
    }
  }
}

LearningStep learn(const char* op, const kernels::Circuit& circuit, const at::Tensor& input,
                   int64_t output, const OutputImbalance& output_imbalance,
                   solvers::SolverOptions options, double lr,
                   const std::vector<at::Tensor>& weight_targets,
                   const std::vector<c10::optional<at::Tensor>>& bias_targets, bool accumulate,
                   const std::function<void()>& refuse_bad_target) {
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, op, ": input has an empty batch; updates are batch averages");
  const double scale = lr / static_cast<double>(batch);
  check_update_scale(op, scale, input.scalar_type());
  options.scan_nonfinite = false;  // scanned below, once for the whole step

  auto rates = equilibrium(op, circuit, input, options);
  const auto imbalance = output_imbalance(rates.rates[output]);
  check_matrix(op, "the output imbalance", imbalance, input);
  check_shape(op, "the output imbalance", imbalance, rates.rates[output].sizes(),
              "the output rates' shape");
  options.probe_stability = false;  // the rates' solve has judged this equilibrium
  auto credits = solvers::relax_credits(circuit, rates.drives, rates.rates, output, imbalance,
                                        options, /*input_credit=*/false);
  // What a non-finite credit is blamed on first: the input and the rates (the input first: it
  // can hide behind saturating rates), then the target.
  const auto explain = [&] {
    rates.stats.nonfinite_population = solvers::first_nonfinite_population(rates.rates, 0);
    check_solved(op, "the firing rates", options, rates.stats, /*strict=*/true);
    if (refuse_bad_target) refuse_bad_target();
  };
  if (credits.stats.nonfinite_population >= 0) explain();  // seen by an iterative solve
  check_solved(op, "the credits", options, credits.stats, /*strict=*/true);

  // A bound on every update, read in the same scan: |lr/B delta^T r| <= lr max|delta| max|r|
  // (and lr max|delta| for a bias), computed in the dtype, so that it is infinite whenever an
  // update could overflow; nothing is written then.
  const auto largest = [](const at::Tensor& tensor) {
    // (The infinity norm of a population of width 0 is refused by ATen; it has no entries.)
    return tensor.numel() == 0 ? at::zeros({}, tensor.options())
                               : at::linalg_vector_norm(tensor, INFINITY);
  };
  std::vector<at::Tensor> bounds;
  for (size_t k = 0; k < circuit.projections().size(); ++k) {
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    bounds.push_back(largest(credits.balance_credits[projection.post]) *
                     largest(rates.rates[projection.pre]) * lr);
  }
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    bounds.push_back(largest(credits.balance_credits[p]) * lr);
  }
  auto scanned = rates.rates;
  scanned.insert(scanned.end(), bounds.begin(), bounds.end());
  if (!check_finite_step(op, "the credits", options, std::move(scanned), credits, explain)) {
    for (const auto& bound : bounds) {
      TORCH_CHECK(std::isfinite(bound.item<double>()), op, ": the updates ",
                  overflowing_updates(lr, input.scalar_type()));
    }
  }
  write_plasticity(circuit, credits.balance_credits, rates.rates, scale, weight_targets,
                   bias_targets, accumulate);
  return {rates.rates[output], rates.stats, credits.stats};
}

bool check_finite_step(const char* op, const char* what, const solvers::SolverOptions& options,
                       std::vector<at::Tensor> states, solvers::CreditEquilibrium& credits,
                       const std::function<void()>& explain_states) {
  auto& scanned = states;
  scanned.insert(scanned.end(), credits.credits.begin() + 1, credits.credits.end());
  scanned.insert(scanned.end(), credits.balance_credits.begin() + 1,
                 credits.balance_credits.end());
  if (solvers::all_finite(scanned)) return true;
  // Which one, in the order the signals flow: the states, then the credits back from the output
  // (a float32 sum that overflowed finds nothing here and the step goes on).
  explain_states();
  auto& found = credits.stats.nonfinite_population;
  found = solvers::first_nonfinite_population(credits.credits, 1, /*from_output=*/true);
  if (found < 0) {
    found = solvers::first_nonfinite_population(credits.balance_credits, 1, /*from_output=*/true);
  }
  check_solved(op, what, options, credits.stats, /*strict=*/true);
  return false;
}

Plasticity plasticity_updates(at::IntArrayRef pre, at::IntArrayRef post,
                              const std::vector<at::Tensor>& balance_credits,
                              const std::vector<at::Tensor>& rates, double scale,
                              const std::vector<bool>& weight_wanted,
                              const std::vector<bool>& bias_wanted) {
  Plasticity updates;
  // The operators' projections are dense.
  for (size_t k = 0; k < pre.size(); ++k) {
    const bool wanted = weight_wanted.empty() || weight_wanted[k];
    updates.weight_updates.push_back(
        wanted ? kernels::hebbian(kernels::Projection{pre[k], post[k], at::Tensor()},
                                  balance_credits[post[k]], rates[pre[k]], scale)
               : at::Tensor());
  }
  for (size_t p = 1; p < balance_credits.size(); ++p) {
    const bool wanted = bias_wanted.empty() || bias_wanted[p - 1];
    updates.bias_updates.push_back(
        wanted ? kernels::bias_plasticity(balance_credits[p], scale) : at::Tensor());
  }
  return updates;
}

solvers::CreditEquilibrium checked_credit(const char* op, const Naming& naming,
                                          const kernels::Circuit& circuit, at::TensorList drives,
                                          at::TensorList weights, int64_t output,
                                          const at::Tensor& output_error,
                                          const solvers::SolverOptions& options, bool strict,
                                          bool input_credit) {
  // A NaN drive can hide from the credits (relu's gate reads NaN as active).
  FiniteCheck(op)
      .add("drives", drives, naming.population, kNonFiniteInput, naming.population_offset)
      .add("weights", weights, naming.projection, kNonFiniteInput)
      .run();
  std::vector<at::Tensor> population_drives{at::Tensor()};
  population_drives.insert(population_drives.end(), drives.begin(), drives.end());
  return credit(op, "the credits", circuit, population_drives, /*rates=*/{}, output,
                output_error, options, strict, input_credit);
}

Plasticity checked_plasticity(const char* op, const Naming& naming, const at::Tensor& input,
                              at::TensorList rates, at::TensorList drives, at::TensorList credits,
                              at::IntArrayRef pre, at::IntArrayRef post,
                              const std::vector<kernels::Activation>& activations, double lr) {
  const double scale = lr / static_cast<double>(input.size(0));
  check_update_scale(op, scale, input.scalar_type());
  std::vector<at::Tensor> balance_credits{at::Tensor()};
  std::vector<at::Tensor> population_rates{input};
  for (size_t p = 1; p <= activations.size(); ++p) {
    balance_credits.push_back(kernels::balance_credit(activations[p - 1], drives[p - 1],
                                                      rates[p - 1], credits[p - 1]));
    population_rates.push_back(rates[p - 1]);
  }
  auto updates = plasticity_updates(pre, post, balance_credits, population_rates, scale);
  // Every input, also the entries the rule does not read (the output population's rates, an
  // identity population's drives), then the updates.
  const auto overflow = overflowing_updates(lr, input.scalar_type());
  const auto offset = naming.population_offset;
  FiniteCheck(op)
      .add("input", input, kNonFiniteInput)
      .add("rates", rates, naming.population, kNonFiniteInput, offset)
      .add("drives", drives, naming.population, kNonFiniteInput, offset)
      .add("credits", credits, naming.population, kNonFiniteInput, offset)
      .add("weight_updates", updates.weight_updates, naming.projection, overflow)
      .add("bias_updates", updates.bias_updates, naming.population, overflow, offset)
      .run();
  return updates;
}

}  // namespace ops
}  // namespace eiprop
