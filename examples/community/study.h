// The community study's records: what is measured on one circuit (modularity against the nulls,
// in three variants, and the partition against the task's), one row per trained circuit
// (runs.csv), and per cell (task, circuit, learner, schedule, learning rate, presentation time)
// the mean over seeds with its 95 % bootstrap interval (summary.csv).
#pragma once

#include "community/training.h"

#include <eiprop/analysis/community.h>
#include <eiprop/analysis/null_model.h>
#include <eiprop/analysis/statistics.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace eiprop {
namespace examples {

// Mean and sample sd of the null copies' values.
struct NullSummary {
  double mean = 0.0, sd = 0.0;
};

// One circuit's community structure. The partition is found once, on the |W| graph; the
// variants score that partition, and each null copy's own partition, differently.
struct CommunityMeasure {
  double q = 0.0;             // Newman's Q of |W| (the community method's partition)
  double q_projection = 0.0;  // analysis::projection_modularity: pairs the wiring can join
  double q_signed = 0.0;      // analysis::signed_modularity: excitatory minus inhibitory
  int64_t communities = 0;
  std::vector<int64_t> membership;  // community of each neuron
  // NMI of the partition found and the task partition on the input and output neurons (NaN
  // when the task has none).
  double nmi = 0.0;
  // The primary null: strengths kept (analysis::preserve_strengths), each variant scored on
  // every copy; the largest strength residual of the copies.
  NullSummary strength_q, strength_projection, strength_signed;
  double strength_error = 0.0;
  NullSummary shuffle_q;  // the secondary null: weights shuffled within each projection
  double q_above_null() const { return q - strength_q.mean; }  // the primary measure
};

// Which input and output neurons belong to which task (empty: the task has no partition).
struct TaskPartition {
  std::vector<int64_t> nodes;   // neuron (node) indices
  std::vector<int64_t> labels;  // task of each
};

// The task partition of a circuit whose input is [x_a, x_b] and output [y_a, y_b] (equal halves).
TaskPartition two_task_partition(const analysis::CircuitConnectivity& circuit);

// How communities are found and compared with chance.
struct MeasureSettings {
  analysis::CommunityMethod method = analysis::CommunityMethod::louvain;
  int64_t null_samples = 20;  // copies of each null model
  int64_t null_sweeps = 300;  // strength null: annealing sweeps (analysis::preserve_strengths)
};

// Communities and nulls of one circuit; every seed derives from `seed`.
CommunityMeasure measure_communities(const analysis::CircuitConnectivity& circuit,
                                     const MeasureSettings& settings, uint64_t seed,
                                     const TaskPartition& partition);

// ||a - b|| / ||b|| over all projections.
double relative_distance(const analysis::CircuitConnectivity& a,
                         const analysis::CircuitConnectivity& b);

struct RunRecord {
  std::string task, circuit, learner;  // learner "init": the untrained circuit (lr 0)
  std::string schedule;                // "none" for init
  double lr = 0.0;
  double presentation = 0.0;  // simulated learner: T; else 0
  uint64_t seed = 0;
  int64_t steps = 0;
  bool reached = false;  // criterion schedule: met within the cap
  double train_loss = 0.0, test_loss = 0.0, test_score = 0.0;
  double displacement = 0.0;  // ||W - W_0|| / ||W_0|| over all projections
  bool diverged = false;
  std::string failure;
  CommunityMeasure measure;
  double seconds = 0.0;
};

void write_run_header(std::ostream& out);
void write_run(std::ostream& out, const RunRecord& run);

// The per-seed values the summaries and the endpoints are made of.
enum class Quantity {
  q_above_strength_null,    // primary: Q - mean Q of the strength-preserving copies
  q_above_shuffle_null,     // Q - mean Q of the shuffled copies
  projection_above_null,    // Q_projection - its strength-null mean
  signed_above_null,        // Q_signed - its strength-null mean
  nmi,                      // NMI(partition found, task partition)
  test_score,               // R^2 or accuracy
  displacement,             // ||W - W_0|| / ||W_0||
  steps,                    // learning steps
  reached,                  // 1 when the criterion was met
};
const char* quantity_name(Quantity quantity);
double quantity_of(const RunRecord& run, Quantity quantity);
constexpr Quantity kSummarised[] = {
    Quantity::q_above_strength_null, Quantity::q_above_shuffle_null,
    Quantity::projection_above_null, Quantity::signed_above_null,
    Quantity::nmi,                   Quantity::test_score,
    Quantity::displacement,          Quantity::steps,
    Quantity::reached};

struct CellSummary {
  std::string task, circuit, learner, schedule;
  double lr = 0.0, presentation = 0.0;
  int64_t runs = 0, diverged = 0;
  std::vector<analysis::Interval> values;  // per kSummarised: mean, 95 % bootstrap interval
  // The entry of `quantity` in values (one of kSummarised).
  const analysis::Interval& value(Quantity quantity) const;
  double q = 0.0, strength_null_q = 0.0, shuffle_null_q = 0.0;  // means, for the table
};

// Groups the runs that did not diverge by cell, in order of first appearance.
std::vector<CellSummary> summarise(const std::vector<RunRecord>& runs, uint64_t seed);

void write_summary_csv(std::ostream& out, const std::vector<CellSummary>& cells);

}  // namespace examples
}  // namespace eiprop
