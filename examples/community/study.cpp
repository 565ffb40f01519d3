#include "community/study.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <tuple>

namespace eiprop {
namespace examples {
namespace {

NullSummary null_summary(const std::vector<double>& values) {
  NullSummary summary;
  for (const double v : values) summary.mean += v;
  summary.mean /= static_cast<double>(values.size());
  double squares = 0.0;
  for (const double v : values) squares += (v - summary.mean) * (v - summary.mean);
  summary.sd =
      values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
  return summary;
}

double partition_nmi(const std::vector<int64_t>& membership, const TaskPartition& partition) {
  if (partition.nodes.empty()) return std::nan("");
  std::vector<int64_t> found;
  for (const int64_t node : partition.nodes) found.push_back(membership[node]);
  return analysis::normalized_mutual_information(found, partition.labels);
}

}  // namespace

TaskPartition two_task_partition(const analysis::CircuitConnectivity& circuit) {
  const auto offsets = analysis::population_offsets(circuit);
  TaskPartition partition;
  const auto add_halves = [&](int64_t first, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      partition.nodes.push_back(first + i);
      partition.labels.push_back(i < count / 2 ? 0 : 1);
    }
  };
  add_halves(0, circuit.sizes.front());
  add_halves(offsets[offsets.size() - 2], circuit.sizes.back());
  return partition;
}

CommunityMeasure measure_communities(const analysis::CircuitConnectivity& circuit,
                                     const MeasureSettings& settings, uint64_t seed,
                                     const TaskPartition& partition) {
  const auto method = settings.method;
  CommunityMeasure measure;
  const auto found = analysis::detect_communities(analysis::weighted_graph(circuit), method, seed);
  measure.q = found.modularity;
  measure.communities = found.count;
  measure.membership = found.membership;
  measure.q_projection = analysis::projection_modularity(circuit, found.membership);
  measure.q_signed = analysis::signed_modularity(circuit, found.membership);
  measure.nmi = partition_nmi(found.membership, partition);
  std::vector<double> strength_q, strength_projection, strength_signed, shuffle_q;
  for (int64_t s = 0; s < settings.null_samples; ++s) {
    const uint64_t copy_seed = seed * 7919 + 17 + static_cast<uint64_t>(s);
    const auto preserved =
        analysis::preserve_strengths(circuit, copy_seed, settings.null_sweeps);
    measure.strength_error = std::max(measure.strength_error, preserved.strength_error);
    const auto copy = analysis::detect_communities(analysis::weighted_graph(preserved.circuit),
                                                   method, copy_seed);
    strength_q.push_back(copy.modularity);
    strength_projection.push_back(
        analysis::projection_modularity(preserved.circuit, copy.membership));
    strength_signed.push_back(analysis::signed_modularity(preserved.circuit, copy.membership));
    const auto shuffled = analysis::shuffle_within_projections(
        circuit, at::make_generator<at::CPUGeneratorImpl>(copy_seed));
    shuffle_q.push_back(
        analysis::detect_communities(analysis::weighted_graph(shuffled), method, copy_seed)
            .modularity);
  }
  measure.strength_q = null_summary(strength_q);
  measure.strength_projection = null_summary(strength_projection);
  measure.strength_signed = null_summary(strength_signed);
  measure.shuffle_q = null_summary(shuffle_q);
  return measure;
}

double relative_distance(const analysis::CircuitConnectivity& a,
                         const analysis::CircuitConnectivity& b) {
  double difference = 0.0, norm = 0.0;
  for (size_t k = 0; k < b.weights.size(); ++k) {
    const auto reference = b.weights[k].to(torch::kDouble);
    difference += (a.weights[k].to(torch::kDouble) - reference).pow(2).sum().item<double>();
    norm += reference.pow(2).sum().item<double>();
  }
  return std::sqrt(difference / norm);
}

void write_run_header(std::ostream& out) {
  out << "task,circuit,learner,schedule,lr,presentation,seed,steps,reached,diverged,train_loss,"
         "test_loss,test_score,displacement,q,communities,q_projection,q_signed,nmi,"
         "strength_null_q_mean,strength_null_q_sd,strength_null_projection_mean,"
         "strength_null_signed_mean,strength_error,shuffle_null_q_mean,shuffle_null_q_sd,"
         "q_above_strength_null,seconds,failure\n";
}

void write_run(std::ostream& out, const RunRecord& run) {
  out << fmt::format("{},{},{},{},{:.6g},{:.6g},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g}",
                     run.task, run.circuit, run.learner, run.schedule, run.lr, run.presentation,
                     run.seed, run.steps, run.reached ? 1 : 0, run.diverged ? 1 : 0,
                     run.train_loss, run.test_loss, run.test_score, run.displacement);
  const auto& m = run.measure;
  if (run.diverged) {
    out << ",nan,0,nan,nan,nan,nan,nan,nan,nan,nan,nan,nan,nan";
  } else {
    out << fmt::format(
        ",{:.6f},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.4g},{:.6f},{:.6f},{:.6f}",
        m.q, m.communities, m.q_projection, m.q_signed, m.nmi, m.strength_q.mean,
        m.strength_q.sd, m.strength_projection.mean, m.strength_signed.mean, m.strength_error,
        m.shuffle_q.mean, m.shuffle_q.sd, m.q_above_null());
  }
  std::string failure = run.failure.substr(0, run.failure.find('\n'));
  for (auto& c : failure) {
    if (c == ',' || c == '"') c = ' ';
  }
  out << fmt::format(",{:.2f},{}\n", run.seconds, failure);
}

const char* quantity_name(Quantity quantity) {
  switch (quantity) {
    case Quantity::q_above_strength_null:
      return "q_above_strength_null";
    case Quantity::q_above_shuffle_null:
      return "q_above_shuffle_null";
    case Quantity::projection_above_null:
      return "projection_q_above_strength_null";
    case Quantity::signed_above_null:
      return "signed_q_above_strength_null";
    case Quantity::nmi:
      return "nmi";
    case Quantity::test_score:
      return "test_score";
    case Quantity::displacement:
      return "displacement";
    case Quantity::steps:
      return "steps";
    case Quantity::reached:
      return "reached";
  }
  return "unknown";
}

double quantity_of(const RunRecord& run, Quantity quantity) {
  const auto& m = run.measure;
  switch (quantity) {
    case Quantity::q_above_strength_null:
      return m.q_above_null();
    case Quantity::q_above_shuffle_null:
      return m.q - m.shuffle_q.mean;
    case Quantity::projection_above_null:
      return m.q_projection - m.strength_projection.mean;
    case Quantity::signed_above_null:
      return m.q_signed - m.strength_signed.mean;
    case Quantity::nmi:
      return m.nmi;
    case Quantity::test_score:
      return run.test_score;
    case Quantity::displacement:
      return run.displacement;
    case Quantity::steps:
      return static_cast<double>(run.steps);
    case Quantity::reached:
      return run.reached ? 1.0 : 0.0;
  }
  return std::nan("");
}

const analysis::Interval& CellSummary::value(Quantity quantity) const {
  const auto* position = std::find(std::begin(kSummarised), std::end(kSummarised), quantity);
  return values.at(static_cast<size_t>(position - std::begin(kSummarised)));
}

std::vector<CellSummary> summarise(const std::vector<RunRecord>& runs, uint64_t seed) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, double, double>;
  std::vector<Key> order;
  std::map<Key, std::vector<const RunRecord*>> groups;
  for (const auto& run : runs) {
    const Key key{run.task, run.circuit, run.learner, run.schedule, run.lr, run.presentation};
    if (groups.find(key) == groups.end()) order.push_back(key);
    groups[key].push_back(&run);
  }
  std::vector<CellSummary> cells;
  for (const auto& key : order) {
    CellSummary cell;
    std::tie(cell.task, cell.circuit, cell.learner, cell.schedule, cell.lr, cell.presentation) =
        key;
    std::vector<const RunRecord*> kept;
    for (const RunRecord* run : groups[key]) {
      ++cell.runs;
      if (run->diverged) {
        ++cell.diverged;
      } else {
        kept.push_back(run);
      }
    }
    for (const Quantity quantity : kSummarised) {
      std::vector<double> values;
      for (const RunRecord* run : kept) {
        const double value = quantity_of(*run, quantity);
        if (std::isfinite(value)) values.push_back(value);
      }
      cell.values.push_back(values.empty()
                                ? analysis::Interval{std::nan(""), std::nan(""), std::nan("")}
                                : analysis::bootstrap_mean(values, 0.95, 2000, seed));
    }
    for (const RunRecord* run : kept) {
      cell.q += run->measure.q / static_cast<double>(kept.size());
      cell.strength_null_q += run->measure.strength_q.mean / static_cast<double>(kept.size());
      cell.shuffle_null_q += run->measure.shuffle_q.mean / static_cast<double>(kept.size());
    }
    cells.push_back(cell);
  }
  return cells;
}

void write_summary_csv(std::ostream& out, const std::vector<CellSummary>& cells) {
  out << "task,circuit,learner,schedule,lr,presentation,runs,diverged,q_mean,"
         "strength_null_q_mean,shuffle_null_q_mean";
  for (const Quantity quantity : kSummarised) {
    const std::string name = quantity_name(quantity);
    out << "," << name << "_mean," << name << "_low," << name << "_high";
  }
  out << "\n";
  for (const auto& cell : cells) {
    out << fmt::format("{},{},{},{},{:.6g},{:.6g},{},{},{:.6f},{:.6f},{:.6f}", cell.task,
                       cell.circuit, cell.learner, cell.schedule, cell.lr, cell.presentation,
                       cell.runs, cell.diverged, cell.q, cell.strength_null_q,
                       cell.shuffle_null_q);
    for (const auto& value : cell.values) {
      out << fmt::format(",{:.6g},{:.6g},{:.6g}", value.estimate, value.low, value.high);
    }
    out << "\n";
  }
}

}  // namespace examples
}  // namespace eiprop
