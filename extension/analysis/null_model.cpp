#include "eiprop/analysis/null_model.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include "util/enum_table.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace eiprop {
namespace analysis {
namespace {

constexpr util::EnumTable<NullModel, 2> kNullModels{
    {{"shuffle", NullModel::shuffle}, {"strength", NullModel::strength}}};

// One projection's weights rearranged by annealed swaps towards the row and column sums of the
// original |W| (targets). Energy: the squared deviations of the row and column sums of |W|;
// swapping a = |W_ij| and b = |W_kl| changes it by 2d(e_i - e_k) + 2d^2 over the rows (i != k)
// and likewise over the columns, with d = b - a and e the current deviations.
struct Annealing {
  int64_t rows, columns;
  std::vector<double> values;  // row-major, signed
  std::vector<double> row_error, column_error;

  double swap_change(int64_t p, int64_t q) const {
    const double d = std::abs(values[q]) - std::abs(values[p]);
    const int64_t i = p / columns, j = p % columns, k = q / columns, l = q % columns;
    double change = 0.0;
    if (i != k) change += 2.0 * d * (row_error[i] - row_error[k]) + 2.0 * d * d;
    if (j != l) change += 2.0 * d * (column_error[j] - column_error[l]) + 2.0 * d * d;
    return change;
  }

  void swap(int64_t p, int64_t q) {
    const double d = std::abs(values[q]) - std::abs(values[p]);
    const int64_t i = p / columns, j = p % columns, k = q / columns, l = q % columns;
    row_error[i] += d;
    row_error[k] -= d;
    column_error[j] += d;
    column_error[l] -= d;
    std::swap(values[p], values[q]);
  }
};

// Returns the rearranged [rows, columns] weights and |s - s0| / |s0|. With `fixed_diagonal` (a
// self-projection, whose diagonal the graph drops as self-connections) the diagonal stays where
// it is and only the other synapses move.
std::pair<at::Tensor, double> anneal_projection(const at::Tensor& weight, std::seed_seq& seed,
                                                int64_t sweeps, bool fixed_diagonal) {
  const auto original = weight.detach().to(at::kCPU, at::kDouble).contiguous();
  const int64_t rows = original.size(0), columns = original.size(1), n = original.numel();
  const double* data = original.data_ptr<double>();
  std::vector<double> target_rows(rows, 0.0), target_columns(columns, 0.0);
  for (int64_t p = 0; p < n; ++p) {
    target_rows[p / columns] += std::abs(data[p]);
    target_columns[p % columns] += std::abs(data[p]);
  }
  Annealing state{rows, columns, std::vector<double>(data, data + n),
                  std::vector<double>(rows), std::vector<double>(columns)};
  std::vector<int64_t> movable;
  for (int64_t p = 0; p < n; ++p) {
    if (!(fixed_diagonal && p / columns == p % columns)) movable.push_back(p);
  }
  const auto m = static_cast<int64_t>(movable.size());
  std::mt19937_64 engine(seed);
  std::vector<double> moving;
  for (int64_t p : movable) moving.push_back(state.values[p]);
  std::shuffle(moving.begin(), moving.end(), engine);
  for (int64_t i = 0; i < m; ++i) state.values[movable[i]] = moving[i];
  for (int64_t p = 0; p < n; ++p) {
    state.row_error[p / columns] += std::abs(state.values[p]);
    state.column_error[p % columns] += std::abs(state.values[p]);
  }
  for (int64_t i = 0; i < rows; ++i) state.row_error[i] -= target_rows[i];
  for (int64_t j = 0; j < columns; ++j) state.column_error[j] -= target_columns[j];

  if (m >= 2) {
    std::uniform_int_distribution<int64_t> pick(0, m - 1);
    const auto position = [&](std::mt19937_64& e) { return movable[pick(e)]; };
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    // Starting temperature: the mean |energy change| of random proposals; cooled geometrically
    // by a factor 1e-6 over the run, so it ends in a greedy descent.
    double mean_change = 0.0;
    constexpr int kCalibration = 200;
    for (int c = 0; c < kCalibration; ++c) {
      mean_change += std::abs(state.swap_change(position(engine), position(engine)));
    }
    double temperature = mean_change / kCalibration;
    const int64_t proposals = sweeps * m;
    const double cooling = std::pow(1e-6, 1.0 / static_cast<double>(std::max<int64_t>(proposals, 1)));
    for (int64_t t = 0; t < proposals; ++t, temperature *= cooling) {
      const int64_t p = position(engine), q = position(engine);
      if (p == q) continue;
      const double change = state.swap_change(p, q);
      if (change <= 0.0 || (temperature > 0.0 && unit(engine) < std::exp(-change / temperature))) {
        state.swap(p, q);
      }
    }
  }
  // The residual from the final arrangement itself (not the errors updated along the way).
  std::vector<double> final_rows(rows, 0.0), final_columns(columns, 0.0);
  for (int64_t p = 0; p < n; ++p) {
    final_rows[p / columns] += std::abs(state.values[p]);
    final_columns[p % columns] += std::abs(state.values[p]);
  }
  double target_norm = 0.0, gap = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    target_norm += target_rows[i] * target_rows[i];
    gap += (final_rows[i] - target_rows[i]) * (final_rows[i] - target_rows[i]);
  }
  for (int64_t j = 0; j < columns; ++j) {
    target_norm += target_columns[j] * target_columns[j];
    gap += (final_columns[j] - target_columns[j]) * (final_columns[j] - target_columns[j]);
  }
  const double error = target_norm > 0.0 ? std::sqrt(gap / target_norm) : 0.0;
  auto rearranged = at::tensor(state.values, at::kDouble).view({rows, columns});
  return {rearranged.to(weight.scalar_type()), error};
}

}  // namespace

const char* null_model_name(NullModel model) { return util::enum_name(kNullModels, model); }

NullModel parse_null_model(const std::string& name) {
  const auto parsed = util::parse_enum(kNullModels, name);
  TORCH_CHECK(parsed.has_value(), "eiprop::analysis::parse_null_model: unknown null model '",
              name, "'; expected one of ", util::enum_choices(kNullModels));
  return *parsed;
}

StrengthPreservingCopy preserve_strengths(const CircuitConnectivity& circuit, uint64_t seed,
                                          int64_t sweeps) {
  check_connectivity("eiprop::analysis::preserve_strengths", circuit);
  TORCH_CHECK(sweeps >= 0, "eiprop::analysis::preserve_strengths: sweeps must be >= 0, got ",
              sweeps);
  StrengthPreservingCopy copy{circuit, 0.0};
  for (size_t k = 0; k < circuit.weights.size(); ++k) {
    // Copies seeded s and s + 1 share no projection stream.
    std::seed_seq projection_seed{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                                  static_cast<uint32_t>(k)};
    auto [weights, error] = anneal_projection(circuit.weights[k], projection_seed, sweeps,
                                              circuit.pre[k] == circuit.post[k]);
    copy.circuit.weights[k] = std::move(weights);
    copy.strength_error = std::max(copy.strength_error, error);
  }
  return copy;
}

CircuitConnectivity shuffle_within_projections(const CircuitConnectivity& circuit,
                                               at::Generator generator) {
  check_connectivity("eiprop::analysis::shuffle_within_projections", circuit);
  CircuitConnectivity shuffled = circuit;
  for (size_t k = 0; k < circuit.weights.size(); ++k) {
    const auto weight = circuit.weights[k].detach().to(at::kCPU).contiguous();
    const auto order = at::randperm(weight.numel(), generator, at::kLong);
    shuffled.weights[k] = weight.view(-1).index_select(0, order).view(weight.sizes());
  }
  return shuffled;
}

NullModularity null_modularity(const CircuitConnectivity& circuit, CommunityMethod method,
                               int64_t samples, uint64_t seed, double resolution,
                               NullModel model) {
  TORCH_CHECK(samples >= 1, "eiprop::analysis::null_modularity: samples must be >= 1, got ",
              samples);
  NullModularity null;
  for (int64_t s = 0; s < samples; ++s) {
    const uint64_t sample_seed = seed + static_cast<uint64_t>(s);
    CircuitConnectivity copy;
    if (model == NullModel::shuffle) {
      copy = shuffle_within_projections(circuit,
                                        at::make_generator<at::CPUGeneratorImpl>(sample_seed));
    } else {
      auto preserved = preserve_strengths(circuit, sample_seed);
      null.strength_error = std::max(null.strength_error, preserved.strength_error);
      copy = std::move(preserved.circuit);
    }
    null.samples.push_back(
        detect_communities(weighted_graph(copy), method, sample_seed, resolution).modularity);
  }
  double sum = 0.0;
  for (const double q : null.samples) sum += q;
  null.mean = sum / static_cast<double>(samples);
  double squares = 0.0;
  for (const double q : null.samples) squares += (q - null.mean) * (q - null.mean);
  null.sd = samples > 1 ? std::sqrt(squares / static_cast<double>(samples - 1)) : 0.0;
  return null;
}

}  // namespace analysis
}  // namespace eiprop
