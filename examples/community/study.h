// The community study's records: one row per trained circuit (runs.csv), and the mean and
// spread over seeds per task, circuit, learner and learning rate (summary.csv).
#pragma once

#include "community/training.h"

#include <eiprop/analysis/community.h>
#include <eiprop/analysis/null_model.h>

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace eiprop {
namespace examples {

constexpr std::array<analysis::CommunityMethod, 2> kMethods{analysis::CommunityMethod::louvain,
                                                            analysis::CommunityMethod::leiden};

struct CommunityMeasure {
  double q = 0.0;                   // modularity of the detected communities
  int64_t communities = 0;          // how many
  analysis::NullModularity null;    // the weight-shuffle null model
  std::vector<int64_t> membership;  // community of each neuron
};

struct RunRecord {
  std::string task, circuit, learner;  // learner "init": the untrained circuit (lr 0)
  double lr = 0.0;
  uint64_t seed = 0;
  double train_loss = 0.0, test_loss = 0.0, test_score = 0.0;
  double weight_change = 0.0;  // ||W - W_0|| / ||W_0|| over all projections
  double gap_to_rule = -1.0;   // autograd and simulated rows: ||W - W_rule|| / ||W_rule||; else -1
  bool diverged = false;
  std::string failure;
  std::array<CommunityMeasure, kMethods.size()> measures;
  double seconds = 0.0;
};

// Communities (both methods) and null models of one circuit; seeds derive from `seed`.
std::array<CommunityMeasure, kMethods.size()> measure_communities(
    const analysis::CircuitConnectivity& circuit, int64_t null_samples, uint64_t seed);

// ||a - b|| / ||b|| over all projections.
double relative_distance(const analysis::CircuitConnectivity& a,
                         const analysis::CircuitConnectivity& b);

void write_run_header(std::ostream& out);
void write_run(std::ostream& out, const RunRecord& run);

// Mean and sample sd of one quantity over the seeds of a group (diverged runs left out).
struct Spread {
  double mean = 0.0, sd = 0.0;
  int64_t count = 0;
};
Spread spread(const std::vector<double>& values);

struct SummaryRow {
  std::string task, circuit, learner;
  double lr = 0.0;
  int64_t runs = 0, diverged = 0;
  Spread test_score, weight_change, gap_to_rule;
  std::array<Spread, kMethods.size()> q, communities, null_q, q_above_null;
};

// Groups the runs by task, circuit, learner and lr, in order of first appearance.
std::vector<SummaryRow> summarise(const std::vector<RunRecord>& runs);

void write_summary_csv(std::ostream& out, const std::vector<SummaryRow>& rows);
void write_summary_json(std::ostream& out, const std::vector<SummaryRow>& rows,
                        const std::string& settings_json);

}  // namespace examples
}  // namespace eiprop
