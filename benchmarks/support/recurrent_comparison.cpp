#include "support/recurrent_comparison.h"

#include "support/device.h"

#include <eiprop/eiprop.h>
#include <fmt/core.h>

#include <malloc.h>

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace eiprop {
namespace bench {
namespace {

// input -> hidden, hidden -> hidden (recurrent), hidden -> output.
const Graph kGraph{{0, 1, 1}, {1, 1, 2}, {"tanh", "identity"}, 2};

struct RecurrentProblem {
  at::Tensor input, target;
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
};

RecurrentProblem make_problem(const RecurrentOptions& options) {
  torch::manual_seed(static_cast<uint64_t>(options.seed));
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  RecurrentProblem problem;
  problem.input = torch::randn({options.batch, options.input}, f64);
  problem.target = torch::randn({options.batch, options.output}, f64);
  auto recurrent = torch::randn({options.hidden, options.hidden}, f64);
  recurrent *= options.recurrent_radius /
               torch::linalg_eigvals(recurrent).abs().max().item<double>();
  problem.weights = {torch::randn({options.hidden, options.input}, f64) /
                         std::sqrt(static_cast<double>(options.input)) * 0.1,
                     recurrent,
                     torch::randn({options.output, options.hidden}, f64) /
                         std::sqrt(static_cast<double>(options.hidden))};
  problem.biases = {torch::zeros({options.hidden}, f64), torch::zeros({options.output}, f64)};
  const auto to = torch::TensorOptions().device(options.device).dtype(options.dtype);
  problem.input = problem.input.to(to);
  problem.target = problem.target.to(to);
  for (auto& w : problem.weights) w = w.to(to);
  for (auto& b : problem.biases) *b = b->to(to);
  return problem;
}

// Exactly `iterations` jacobi steps: a tolerance no run reaches, results returned unflagged.
RelaxationOptions fixed_iterations(int64_t iterations) {
  return RelaxationOptions("jacobi").max_iters(iterations).tol(1e-300).strict(false);
}

double held_bytes(const torch::Device& device) {
  if (!device.is_cpu()) return -1.0;
  const auto info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

struct StepResult {
  std::vector<at::Tensor> gradients;  // -dLoss/dtheta direction: updates for lr = 1
  double held = -1.0;
};

// The rule: equilibrium, credit relaxation, plasticity (updates for lr = 1, i.e. -dLoss/dtheta).
StepResult rule_step(const RecurrentProblem& problem, int64_t iterations,
                     const torch::Device& device, double baseline) {
  torch::NoGradGuard no_grad;
  const auto options = fixed_iterations(iterations);
  auto equilibrium =
      graph_equilibrium(problem.input, problem.weights, problem.biases, kGraph, options);
  StepResult result;
  result.held = held_bytes(device) - baseline;
  const auto error = problem.target - equilibrium.rates.back();
  const auto credits =
      graph_credit_relaxation(error, equilibrium.drives, problem.weights, kGraph, options);
  auto updates = graph_plasticity(problem.input, equilibrium.rates, equilibrium.drives,
                                  credits.credits, kGraph, 1.0);
  result.gradients = std::move(updates.weight_updates);
  for (auto& b : updates.bias_updates) result.gradients.push_back(std::move(b));
  return result;
}

// Backprop through the unrolled iterations of the same loss 1/(2B) sum ||y - r||^2.
StepResult autograd_step(const RecurrentProblem& problem, int64_t iterations,
                         const torch::Device& device, double baseline) {
  std::vector<at::Tensor> leaves;
  std::vector<at::Tensor> weights;
  std::vector<c10::optional<at::Tensor>> biases;
  for (const auto& w : problem.weights) {
    weights.push_back(w.detach().requires_grad_(true));
    leaves.push_back(weights.back());
  }
  for (const auto& b : problem.biases) {
    biases.emplace_back(b->detach().requires_grad_(true));
    leaves.push_back(*biases.back());
  }
  const auto rates = autograd_unrolled(problem.input, weights, biases, kGraph, iterations);
  const auto loss =
      (problem.target - rates.back()).pow(2).sum() / (2.0 * problem.input.size(0));
  StepResult result;
  result.held = held_bytes(device) - baseline;
  const auto grads = torch::autograd::grad({loss}, leaves);
  for (const auto& g : grads) result.gradients.push_back(-g);
  return result;
}

double gradient_gap(const std::vector<at::Tensor>& rule, const std::vector<at::Tensor>& reference) {
  double worst = 0.0;
  for (size_t i = 0; i < rule.size(); ++i) {
    worst = std::max(worst, relative_error(rule[i], reference[i]));
  }
  return worst;
}

}  // namespace

struct RecurrentComparison::State {
  RecurrentProblem problem;
  std::set<int64_t> warmed_up;                    // iteration counts
  std::map<int64_t, StepResult> rule, autograd;  // the last step at each iteration count
};

RecurrentComparison::RecurrentComparison(RecurrentOptions options,
                                         std::vector<int64_t> iteration_counts)
    : options_(std::move(options)), iteration_counts_(std::move(iteration_counts)) {}

RecurrentComparison::~RecurrentComparison() = default;

RecurrentComparison::State& RecurrentComparison::state() {
  if (!state_) state_ = std::make_unique<State>(State{make_problem(options_), {}, {}, {}});
  return *state_;
}

void RecurrentComparison::register_benchmarks() {
  using Step = StepResult (*)(const RecurrentProblem&, int64_t, const torch::Device&, double);
  for (const int64_t iterations : iteration_counts_) {
    for (const bool rule : {true, false}) {
      const std::string name =
          fmt::format("recurrent/{}/{}", iterations, rule ? "rule" : "autograd");
      const auto body = [this, iterations, rule](benchmark::State& timer) {
        const auto& device = options_.device;
        auto& state = this->state();
        const Step step = rule ? rule_step : autograd_step;
        // Both contestants warm up at an iteration count before either is timed at it.
        if (state.warmed_up.insert(iterations).second) {
          for (int i = 0; i < options_.warmup; ++i) {
            rule_step(state.problem, iterations, device, held_bytes(device));
            autograd_step(state.problem, iterations, device, held_bytes(device));
          }
        }
        StepResult result;
        synchronize(device);
        for (auto _ : timer) {
          result = step(state.problem, iterations, device, held_bytes(device));
          synchronize(device);
        }
        if (result.held >= 0) timer.counters["held_bytes"] = result.held;
        (rule ? state.rule : state.autograd)[iterations] = std::move(result);
      };
      configure_contestant(benchmark::RegisterBenchmark(name.c_str(), body),
                           options_.repetitions);
    }
  }
}

Derived RecurrentComparison::derive(const Medians& medians) const {
  Derived derived;
  derived.table = fmt::format("{:>10} {:>12} {:>14} {:>8} {:>14} {:>16} {:>12}\n", "iterations",
                              "rule ms", "autograd ms", "ratio", "rule held MB",
                              "autograd held MB", "grad gap");
  const auto ms = [&](const Median& median) {
    return options_.cpu_clock ? median.cpu_ms : median.real_ms;
  };
  // Median of the held bytes over the repetitions; absent off the CPU.
  const auto held = [](const Median& median) {
    const auto found = median.run.counters.find("held_bytes");
    return found == median.run.counters.end() ? -1.0 : found->second.value;
  };
  const auto megabytes = [](double bytes) {
    return bytes < 0 ? std::string("n/a") : fmt::format("{:.2f}", bytes / 1e6);
  };
  for (const int64_t iterations : iteration_counts_) {
    const Median* rule = medians.find(fmt::format("recurrent/{}/rule", iterations));
    const Median* autograd = medians.find(fmt::format("recurrent/{}/autograd", iterations));
    if (!rule || !autograd) continue;
    benchmark::UserCounters counters;
    if (held(*rule) >= 0) counters["rule_held_bytes"] = held(*rule);
    if (held(*autograd) >= 0) counters["autograd_held_bytes"] = held(*autograd);
    double gap = std::nan("");
    if (state_ && state_->rule.count(iterations) && state_->autograd.count(iterations)) {
      gap = gradient_gap(state_->rule.at(iterations).gradients,
                         state_->autograd.at(iterations).gradients);
      // Google Benchmark writes an infinite gap (autograd's gradient 0) as a bare Infinity,
      // which is not JSON: the JSON leaves it out, the table shows it.
      if (std::isfinite(gap)) counters["gradient_gap"] = gap;
    }
    derived.aggregates.push_back(ratio_aggregate(*rule, *autograd, "ratio_to_autograd", counters));
    derived.table += fmt::format("{:>10} {:>12.2f} {:>14.2f} {:>8.3f} {:>14} {:>16} {:>12.2e}\n",
                                 iterations, ms(*rule), ms(*autograd), ms(*rule) / ms(*autograd),
                                 megabytes(held(*rule)), megabytes(held(*autograd)), gap);
  }
  derived.table += fmt::format(
      "ratio = rule ms / autograd ms ({} time, medians over the interleaved repetitions); held "
      "= allocated and held between the forward and the backward stage (median); grad gap = "
      "max over parameters of |rule - autograd| / |autograd| after the last steps\n",
      options_.cpu_clock ? "process CPU" : "real");
  return derived;
}

}  // namespace bench
}  // namespace eiprop
