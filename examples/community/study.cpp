#include "community/study.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>

namespace eiprop {
namespace examples {

std::array<CommunityMeasure, kMethods.size()> measure_communities(
    const analysis::CircuitConnectivity& circuit, int64_t null_samples, uint64_t seed) {
  const auto graph = analysis::weighted_graph(circuit);
  std::array<CommunityMeasure, kMethods.size()> measures;
  for (size_t m = 0; m < kMethods.size(); ++m) {
    const auto found = analysis::detect_communities(graph, kMethods[m], seed);
    measures[m].q = found.modularity;
    measures[m].communities = found.count;
    measures[m].membership = found.membership;
    measures[m].null = analysis::null_modularity(circuit, kMethods[m], null_samples,
                                                 seed * 7919 + 17);
  }
  return measures;
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
  out << "task,circuit,learner,lr,seed,diverged,train_loss,test_loss,test_score,weight_change,"
         "gap_to_rule";
  for (const auto method : kMethods) {
    const std::string name = analysis::community_method_name(method);
    out << ",q_" << name << ",communities_" << name << ",null_q_" << name << "_mean,null_q_"
        << name << "_sd";
  }
  out << ",seconds,failure\n";
}

void write_run(std::ostream& out, const RunRecord& run) {
  out << fmt::format("{},{},{},{:.6g},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", run.task,
                     run.circuit, run.learner, run.lr, run.seed, run.diverged ? 1 : 0,
                     run.train_loss, run.test_loss, run.test_score, run.weight_change,
                     run.gap_to_rule);
  for (const auto& measure : run.measures) {
    if (run.diverged) {
      out << ",nan,0,nan,nan";
    } else {
      out << fmt::format(",{:.8f},{},{:.8f},{:.8f}", measure.q, measure.communities,
                         measure.null.mean, measure.null.sd);
    }
  }
  std::string failure = run.failure.substr(0, run.failure.find('\n'));
  for (auto& c : failure) {
    if (c == ',' || c == '"') c = ' ';
  }
  out << fmt::format(",{:.2f},{}\n", run.seconds, failure);
}

Spread spread(const std::vector<double>& values) {
  Spread s;
  s.count = static_cast<int64_t>(values.size());
  if (values.empty()) {
    s.mean = s.sd = std::nan("");
    return s;
  }
  for (const double v : values) s.mean += v;
  s.mean /= static_cast<double>(values.size());
  double squares = 0.0;
  for (const double v : values) squares += (v - s.mean) * (v - s.mean);
  s.sd = values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
  return s;
}

std::vector<SummaryRow> summarise(const std::vector<RunRecord>& runs) {
  using Key = std::tuple<std::string, std::string, std::string, double>;
  std::vector<Key> order;
  std::map<Key, std::vector<const RunRecord*>> groups;
  for (const auto& run : runs) {
    const Key key{run.task, run.circuit, run.learner, run.lr};
    if (groups.find(key) == groups.end()) order.push_back(key);
    groups[key].push_back(&run);
  }
  std::vector<SummaryRow> rows;
  for (const auto& key : order) {
    SummaryRow row;
    std::tie(row.task, row.circuit, row.learner, row.lr) = key;
    std::vector<double> score, change, gap;
    std::array<std::vector<double>, kMethods.size()> q, communities, null_q, above;
    for (const RunRecord* run : groups[key]) {
      ++row.runs;
      if (run->diverged) {
        ++row.diverged;
        continue;
      }
      score.push_back(run->test_score);
      change.push_back(run->weight_change);
      if (run->gap_to_rule >= 0) gap.push_back(run->gap_to_rule);
      for (size_t m = 0; m < kMethods.size(); ++m) {
        const auto& measure = run->measures[m];
        q[m].push_back(measure.q);
        communities[m].push_back(static_cast<double>(measure.communities));
        // The band pools every shuffled copy of every seed.
        null_q[m].insert(null_q[m].end(), measure.null.samples.begin(),
                         measure.null.samples.end());
        above[m].push_back(measure.q - measure.null.mean);
      }
    }
    row.test_score = spread(score);
    row.weight_change = spread(change);
    row.gap_to_rule = spread(gap);
    for (size_t m = 0; m < kMethods.size(); ++m) {
      row.q[m] = spread(q[m]);
      row.communities[m] = spread(communities[m]);
      row.null_q[m] = spread(null_q[m]);
      row.q_above_null[m] = spread(above[m]);
    }
    rows.push_back(row);
  }
  return rows;
}

void write_summary_csv(std::ostream& out, const std::vector<SummaryRow>& rows) {
  out << "task,circuit,learner,lr,runs,diverged,test_score_mean,test_score_sd,"
         "weight_change_mean,gap_to_rule_mean,gap_to_rule_sd";
  for (const auto method : kMethods) {
    const std::string n = analysis::community_method_name(method);
    out << ",q_" << n << "_mean,q_" << n << "_sd,communities_" << n << "_mean,communities_" << n
        << "_sd,null_q_" << n << "_mean,null_q_" << n << "_sd,q_above_null_" << n
        << "_mean,q_above_null_" << n << "_sd";
  }
  out << "\n";
  for (const auto& row : rows) {
    out << fmt::format("{},{},{},{:.6g},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", row.task,
                       row.circuit, row.learner, row.lr, row.runs, row.diverged,
                       row.test_score.mean, row.test_score.sd, row.weight_change.mean,
                       row.gap_to_rule.mean, row.gap_to_rule.sd);
    for (size_t m = 0; m < kMethods.size(); ++m) {
      out << fmt::format(",{:.6f},{:.6f},{:.3f},{:.3f},{:.6f},{:.6f},{:.6f},{:.6f}",
                         row.q[m].mean, row.q[m].sd, row.communities[m].mean,
                         row.communities[m].sd, row.null_q[m].mean, row.null_q[m].sd,
                         row.q_above_null[m].mean, row.q_above_null[m].sd);
    }
    out << "\n";
  }
}

namespace {
// JSON has no NaN: null instead.
std::string json_number(double value) {
  return std::isfinite(value) ? fmt::format("{:.6g}", value) : "null";
}
std::string json_spread(const Spread& s) {
  return fmt::format("{{\"mean\": {}, \"sd\": {}, \"n\": {}}}", json_number(s.mean),
                     json_number(s.sd), s.count);
}
}  // namespace

void write_summary_json(std::ostream& out, const std::vector<SummaryRow>& rows,
                        const std::string& settings_json) {
  out << "{\n  \"settings\": " << settings_json << ",\n  \"groups\": [\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    out << fmt::format(
        "    {{\"task\": \"{}\", \"circuit\": \"{}\", \"learner\": \"{}\", \"lr\": {}, "
        "\"runs\": {}, \"diverged\": {}, \"test_score\": {}, \"weight_change\": {}, "
        "\"gap_to_rule\": {}",
        row.task, row.circuit, row.learner, json_number(row.lr), row.runs, row.diverged,
        json_spread(row.test_score), json_spread(row.weight_change), json_spread(row.gap_to_rule));
    for (size_t m = 0; m < kMethods.size(); ++m) {
      const std::string n = analysis::community_method_name(kMethods[m]);
      out << fmt::format(
          ",\n     \"{}\": {{\"q\": {}, \"communities\": {}, \"null_q\": {}, "
          "\"q_above_null\": {}}}",
          n, json_spread(row.q[m]), json_spread(row.communities[m]), json_spread(row.null_q[m]),
          json_spread(row.q_above_null[m]));
    }
    out << "}" << (r + 1 < rows.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
}

}  // namespace examples
}  // namespace eiprop
