#include "ops/timescales.h"

#include "kernels/synapses.h"
#include "ops/validate.h"
#include "solvers/residual.h"

#include <algorithm>
#include <cmath>

namespace eiprop {
namespace ops {
namespace {

// Per population 0..P: the first conv2d projection arriving at it, whose convolution backward also
// gives the population's bias update as autograd computes a Conv2d's (-1: none).
std::vector<int64_t> bias_convolutions(const std::vector<kernels::Projection>& projections,
                                       int64_t populations) {
  std::vector<int64_t> first(populations + 1, -1);
  for (int64_t k = 0; k < static_cast<int64_t>(projections.size()); ++k) {
    const auto& projection = projections[k];
    if (projection.kind == kernels::ProjectionKind::conv2d && first[projection.post] < 0) {
      first[projection.post] = k;
    }
  }
  return first;
}

// The largest |entry| as a 0-dim tensor in the tensor's dtype: NaN or Inf when it holds one, 0
// when it has no entries (a population of width 0). One min/max pass.
at::Tensor magnitude_of(const at::Tensor& tensor) {
  if (tensor.numel() == 0) return at::zeros({}, tensor.options());
  const auto extremes = at::aminmax(tensor);
  return at::maximum(std::get<1>(extremes), std::get<0>(extremes).neg());
}

// Writes `update` into `target`: added to it (accumulate) or replacing its values.
void write_into(at::Tensor target, const at::Tensor& update, bool accumulate) {
  if (accumulate) {
    target.add_(update);
  } else {
    target.copy_(update);
  }
}

}  // namespace

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
                                  bool input_credit, const std::vector<at::Tensor>& winners) {
  auto solved = solvers::relax_credits(circuit, drives, rates, output, output_error, options,
                                       input_credit, winners);
  check_solved(op, what, options, solved.stats, strict);
  return solved;
}

PendingPlasticity pending_plasticity(const kernels::Circuit& circuit,
                                     const std::vector<at::Tensor>& balance_credits,
                                     const std::vector<at::Tensor>& rates, double scale,
                                     const std::vector<at::Tensor>& weight_targets,
                                     const std::vector<c10::optional<at::Tensor>>& bias_targets) {
  const auto populations = circuit.populations();
  const auto has_bias_target = [&](int64_t p) {
    return bias_targets[p - 1].has_value() && bias_targets[p - 1]->defined();
  };
  const auto convolutions = bias_convolutions(circuit.projections(), populations);
  PendingPlasticity pending;
  pending.weight_updates.resize(circuit.projections().size());
  pending.bias_updates.resize(populations);
  for (size_t k = 0; k < circuit.projections().size(); ++k) {
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    if (projection.kind != kernels::ProjectionKind::conv2d) continue;
    // The weight and the population's bias from one convolution backward.
    const bool weight = weight_targets[k].defined();
    const bool bias = convolutions[projection.post] == static_cast<int64_t>(k) &&
                      has_bias_target(projection.post);
    if (!weight && !bias) continue;
    auto updates = kernels::conv2d_hebbian(projection, balance_credits[projection.post],
                                           rates[projection.pre], scale, weight, bias);
    pending.weight_updates[k] = std::move(updates.first);
    if (bias) pending.bias_updates[projection.post - 1] = std::move(updates.second);
  }
  for (int64_t p = 1; p <= populations; ++p) {
    if (!has_bias_target(p) || pending.bias_updates[p - 1].defined()) continue;
    const auto& delta = balance_credits[p];
    // One bias per neuron: the credit summed over the batch, scaled when written; one per
    // channel: summed over the batch and positions, scaled.
    pending.bias_updates[p - 1] =
        delta.dim() == 2 ? delta.sum(0) : kernels::bias_plasticity(delta, scale);
  }
  return pending;
}

void write_plasticity(const kernels::Circuit& circuit, const PendingPlasticity& pending,
                      const std::vector<at::Tensor>& balance_credits,
                      const std::vector<at::Tensor>& rates, double scale,
                      const std::vector<at::Tensor>& weight_targets,
                      const std::vector<c10::optional<at::Tensor>>& bias_targets, bool accumulate) {
  for (size_t k = 0; k < circuit.projections().size(); ++k) {
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    if (pending.weight_updates[k].defined()) {
      write_into(weight_targets[k], pending.weight_updates[k], accumulate);
    } else if (projection.kind == kernels::ProjectionKind::dense && weight_targets[k].defined()) {
      // A dense update goes into its target inside one GEMM (beta = 0 ignores the old values).
      auto target = weight_targets[k];
      target.addmm_(balance_credits[projection.post].t(), rates[projection.pre],
                    /*beta=*/accumulate ? 1 : 0, /*alpha=*/scale);
    }
  }
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    const auto& update = pending.bias_updates[p - 1];
    if (!update.defined()) continue;
    auto target = *bias_targets[p - 1];
    if (balance_credits[p].dim() != 2) {
      write_into(target, update, accumulate);
    } else if (accumulate) {
      target.add_(update, scale);
    } else {
      target.copy_(update).mul_(scale);
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
                                        options, /*input_credit=*/false, rates.winners);
  // What a non-finite credit is blamed on first: the input and the rates (the input first: it
  // can hide behind saturating rates), then the target.
  const auto explain = [&] {
    rates.stats.nonfinite_population = solvers::first_nonfinite_population(rates.rates, 0);
    check_solved(op, "the firing rates", options, rates.stats, /*strict=*/true);
    if (refuse_bad_target) refuse_bad_target();
  };
  if (credits.stats.nonfinite_population >= 0) explain();  // seen by an iterative solve
  check_solved(op, "the credits", options, credits.stats, /*strict=*/true);

  // The updates held in fresh tensors (every conv2d weight's, every bias's: small) are computed
  // now and read whole; a dense weight's is made inside the GEMM that writes it, so what is read
  // for it is a bound: the GEMM sums delta_b^T r_b over the batch and scales by lr/B, so every
  // partial sum and the update lie within max(|lr|, B) max|delta| max|r|, computed in the dtype,
  // so that it is infinite whenever they could overflow. A non-finite input, rate or credit
  // reaches one of these, or nothing the rule writes (a credit an activation's gate drops); the
  // input, the output rates (which the caller reads) and the output imbalance (where a bad
  // target enters) are read too. Each is one min/max pass (its largest magnitude, NaN or Inf when
  // it holds one), all fetched in one synchronisation; a refused step writes nothing.
  const auto pending = pending_plasticity(circuit, credits.balance_credits, rates.rates, scale,
                                          weight_targets, bias_targets);
  ResultScan scan(credits.balance_credits, rates.rates);
  scan.rates(0);
  scan.rates(output);
  scan.whole(imbalance);
  const double sum_bound = std::max(std::abs(lr), static_cast<double>(batch));
  for (size_t k = 0; k < circuit.projections().size(); ++k) {
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    if (pending.weight_updates[k].defined()) {
      scan.whole(pending.weight_updates[k]);
    } else if (projection.kind == kernels::ProjectionKind::dense && weight_targets[k].defined()) {
      scan.dense_product(projection.post, projection.pre, sum_bound);
    }
  }
  for (int64_t p = 1; p <= circuit.populations(); ++p) {
    const auto& update = pending.bias_updates[p - 1];
    // (A neuron's bias update is scaled when written.)
    if (update.defined()) scan.whole(update, credits.balance_credits[p].dim() == 2 ? scale : 1.0);
  }
  if (!scan.finite()) {
    // Which one, in the order the signals flow: the rates and the target, then the balance
    // credits (what the updates read) back from the output; when all are finite, an update
    // overflowed.
    explain();
    auto& found = credits.stats.nonfinite_population;
    found = solvers::first_nonfinite_population(credits.balance_credits, 1, /*from_output=*/true);
    check_solved(op, "the credits", options, credits.stats, /*strict=*/true);
    TORCH_CHECK(false, op, ": the updates ", overflowing_updates(lr, input.scalar_type()));
  }
  write_plasticity(circuit, pending, credits.balance_credits, rates.rates, scale, weight_targets,
                   bias_targets, accumulate);
  return {rates.rates[output], rates.stats, credits.stats};
}

void ResultScan::whole(const at::Tensor& tensor, double factor) {
  const auto magnitude = magnitude_of(tensor);
  scanned_.push_back(factor == 1.0 ? magnitude : magnitude * std::abs(factor));
}

void ResultScan::rates(int64_t p) { scanned_.push_back(largest_rate(p)); }

void ResultScan::dense_product(int64_t post, int64_t pre, double factor) {
  scanned_.push_back(largest_credit(post) * largest_rate(pre) * factor);
}

bool ResultScan::finite() const {
  if (scanned_.empty()) return true;
  const auto fetched = at::stack(scanned_).to(at::kDouble).cpu();
  const double* value = fetched.data_ptr<double>();
  return std::all_of(value, value + fetched.numel(), [](double v) { return std::isfinite(v); });
}

const at::Tensor& ResultScan::largest_rate(int64_t p) {
  auto& magnitude = rate_magnitudes_[p];
  if (!magnitude.defined()) magnitude = magnitude_of(rates_[p]);
  return magnitude;
}

const at::Tensor& ResultScan::largest_credit(int64_t p) {
  auto& magnitude = credit_magnitudes_[p];
  if (!magnitude.defined()) magnitude = magnitude_of(balance_credits_[p]);
  return magnitude;
}

Plasticity plasticity_updates(const std::vector<kernels::Projection>& projections,
                              const std::vector<at::Tensor>& balance_credits,
                              const std::vector<at::Tensor>& rates, double scale,
                              const std::vector<bool>& weight_wanted,
                              const std::vector<bool>& bias_wanted) {
  Plasticity updates;
  const auto populations = static_cast<int64_t>(balance_credits.size()) - 1;
  const auto convolutions = bias_convolutions(projections, populations);
  const auto bias_asked = [&](int64_t p) { return bias_wanted.empty() || bias_wanted[p - 1]; };
  std::vector<at::Tensor> conv_biases(populations + 1);
  for (size_t k = 0; k < projections.size(); ++k) {
    const auto& projection = projections[k];
    const auto& delta = balance_credits[projection.post];
    const bool wanted = weight_wanted.empty() || weight_wanted[k];
    at::Tensor update;
    if (projection.kind == kernels::ProjectionKind::conv2d) {
      const bool bias = convolutions[projection.post] == static_cast<int64_t>(k) &&
                        bias_asked(projection.post);
      if (wanted || bias) {
        auto both = kernels::conv2d_hebbian(projection, delta, rates[projection.pre], scale,
                                            wanted, bias);
        update = std::move(both.first);
        if (bias) conv_biases[projection.post] = std::move(both.second);
      }
    } else if (wanted) {
      update = projection.plastic()
                   ? kernels::hebbian(projection, delta, rates[projection.pre], scale)
                   : at::empty({0}, delta.options());
    }
    updates.weight_updates.push_back(std::move(update));
  }
  for (int64_t p = 1; p <= populations; ++p) {
    at::Tensor update;
    if (bias_asked(p)) {
      update = conv_biases[p].defined() ? conv_biases[p]
                                        : kernels::bias_plasticity(balance_credits[p], scale);
    }
    updates.bias_updates.push_back(std::move(update));
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
                              const std::vector<kernels::Projection>& projections,
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
  auto updates = plasticity_updates(projections, balance_credits, population_rates, scale);
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
