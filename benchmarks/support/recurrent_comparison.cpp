#include "support/recurrent_comparison.h"

#include <eiprop/eiprop.h>
#include <fmt/core.h>

#include <malloc.h>

#include <algorithm>
#include <torch/autograd.h>

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

std::vector<RecurrentRow> compare_recurrent(const RecurrentOptions& options,
                                            const std::vector<int64_t>& iteration_counts) {
  const auto problem = make_problem(options);
  std::vector<RecurrentRow> rows;
  for (const int64_t iterations : iteration_counts) {
    RecurrentRow row;
    row.iterations = iterations;
    std::vector<double> rule_times, autograd_times;
    StepResult rule, autograd;
    for (int repetition = -options.warmup; repetition < options.repetitions; ++repetition) {
      // Interleaved: one step of each per repetition.
      const double rule_ms = time_ms(options.device, [&] {
        rule = rule_step(problem, iterations, options.device, held_bytes(options.device));
      }, options.clock);
      const double autograd_ms = time_ms(options.device, [&] {
        autograd = autograd_step(problem, iterations, options.device, held_bytes(options.device));
      }, options.clock);
      if (repetition < 0) continue;
      rule_times.push_back(rule_ms);
      autograd_times.push_back(autograd_ms);
    }
    row.rule_ms = median(rule_times);
    row.autograd_ms = median(autograd_times);
    row.rule_held_bytes = rule.held;
    row.autograd_held_bytes = autograd.held;
    row.gradient_relative_gap = gradient_gap(rule.gradients, autograd.gradients);
    rows.push_back(row);
  }
  return rows;
}

std::string recurrent_table(const std::vector<RecurrentRow>& rows) {
  std::string table = fmt::format("{:>10} {:>12} {:>14} {:>8} {:>14} {:>16} {:>12}\n", "iterations",
                                  "rule ms", "autograd ms", "ratio", "rule held MB",
                                  "autograd held MB", "grad gap");
  for (const auto& row : rows) {
    auto megabytes = [](double bytes) {
      return bytes < 0 ? std::string("n/a") : fmt::format("{:.2f}", bytes / 1e6);
    };
    table += fmt::format("{:>10} {:>12.2f} {:>14.2f} {:>8.3f} {:>14} {:>16} {:>12.2e}\n",
                         row.iterations, row.rule_ms, row.autograd_ms,
                         row.rule_ms / row.autograd_ms, megabytes(row.rule_held_bytes),
                         megabytes(row.autograd_held_bytes), row.gradient_relative_gap);
  }
  return table;
}

std::string recurrent_json(const std::vector<RecurrentRow>& rows,
                           const RecurrentOptions& options) {
  std::string json = fmt::format(
      "{{\"circuit\": {{\"input\": {}, \"hidden\": {}, \"output\": {}, \"batch\": {}, "
      "\"recurrent_radius\": {}}}, \"device\": \"{}\", \"rows\": [",
      options.input, options.hidden, options.output, options.batch, options.recurrent_radius,
      options.device.str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    json += fmt::format(
        "{}{{\"iterations\": {}, \"rule_ms\": {:.4f}, \"autograd_ms\": {:.4f}, \"ratio\": {:.4f}, "
        "\"rule_held_bytes\": {:.0f}, \"autograd_held_bytes\": {:.0f}, "
        "\"gradient_relative_gap\": {:.3e}}}",
        i ? ", " : "", row.iterations, row.rule_ms, row.autograd_ms, row.rule_ms / row.autograd_ms,
        row.rule_held_bytes, row.autograd_held_bytes, row.gradient_relative_gap);
  }
  return json + "]}\n";
}

}  // namespace bench
}  // namespace eiprop
