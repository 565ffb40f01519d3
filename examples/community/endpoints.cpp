#include "community/endpoints.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <set>

namespace eiprop {
namespace examples {
namespace {

struct Series {
  std::vector<double> log_lr, log_displacement, y;
  std::vector<int64_t> seed;
};

Series series(const std::vector<RunRecord>& runs, const std::string& circuit,
              const std::string& learner, const std::string& task, const std::string& schedule,
              Quantity quantity) {
  Series s;
  for (const auto& run : runs) {
    if (run.diverged || run.circuit != circuit || run.learner != learner || run.task != task ||
        run.schedule != schedule) {
      continue;
    }
    const double y = quantity_of(run, quantity);
    if (!std::isfinite(y)) continue;
    s.log_lr.push_back(std::log10(run.lr));
    s.log_displacement.push_back(std::log10(run.displacement));
    s.y.push_back(y);
    s.seed.push_back(static_cast<int64_t>(run.seed));
  }
  return s;
}

bool is_q_above_null(Quantity quantity) {
  return quantity == Quantity::q_above_strength_null ||
         quantity == Quantity::q_above_shuffle_null ||
         quantity == Quantity::projection_above_null || quantity == Quantity::signed_above_null;
}

// Why a series cannot carry a seed-clustered trend on log lr (empty: it can).
std::string untestable(const Series& s) {
  const std::set<double> lrs(s.log_lr.begin(), s.log_lr.end());
  const std::set<int64_t> seeds(s.seed.begin(), s.seed.end());
  if (seeds.size() < 2) {
    return fmt::format("{} seed(s); the seed-clustered bootstrap needs --seeds >= 2",
                       seeds.size());
  }
  if (lrs.size() < 2) {
    return fmt::format("{} learning rate(s); a slope on log lr needs >= 2 distinct --lrs",
                       lrs.size());
  }
  return "";
}

}  // namespace

Endpoints test_endpoints(const std::vector<RunRecord>& runs, const std::string& circuit,
                         const std::string& learner, const std::vector<std::string>& tasks,
                         const std::vector<std::string>& schedules, double bound, uint64_t seed) {
  Endpoints endpoints;
  endpoints.bound = bound;
  const auto add = [&](const std::string& task, const std::string& schedule, Quantity quantity,
                       bool primary) {
    const auto s = series(runs, circuit, learner, task, schedule, quantity);
    if (s.y.empty()) return;
    if (const auto reason = untestable(s); !reason.empty() || s.y.size() < 3) {
      endpoints.skipped.push_back(fmt::format(
          "trend {} {} {}: {}", task, schedule, quantity_name(quantity),
          reason.empty() ? fmt::format("{} runs, fewer than 3", s.y.size()) : reason));
      return;
    }
    TrendEndpoint trend;
    trend.task = task;
    trend.schedule = schedule;
    trend.quantity = quantity;
    trend.primary = primary;
    trend.runs = static_cast<int64_t>(s.y.size());
    trend.slope = analysis::clustered_slope(s.log_lr, s.y, s.seed, 0.95, 2000, seed);
    trend.slope_90 = analysis::clustered_slope(s.log_lr, s.y, s.seed, 0.90, 2000, seed);
    trend.p = analysis::permutation_slope_p(s.log_lr, s.y, s.seed, 2000, seed);
    trend.p_holm = trend.p;
    // No usable positive control, no bound: no equivalence test. The bound is a Q - null effect:
    // no equivalence test of NMI either.
    trend.equivalence_tested = std::isfinite(bound) && is_q_above_null(quantity);
    trend.equivalent =
        trend.equivalence_tested && analysis::equivalent(trend.slope_90, bound);
    endpoints.trends.push_back(trend);
  };
  const std::string primary_task = "modular", primary_schedule = "equal_distance";
  add(primary_task, primary_schedule, Quantity::q_above_strength_null, true);
  for (const auto& task : tasks) {
    for (const auto& schedule : schedules) {
      if (task == primary_task && schedule == primary_schedule) continue;
      add(task, schedule, Quantity::q_above_strength_null, false);
    }
  }
  for (const Quantity quantity :
       {Quantity::projection_above_null, Quantity::signed_above_null,
        Quantity::q_above_shuffle_null, Quantity::nmi}) {
    add(primary_task, primary_schedule, quantity, false);
  }
  std::vector<double> secondary;
  for (const auto& trend : endpoints.trends) {
    if (!trend.primary) secondary.push_back(trend.p);
  }
  if (!secondary.empty()) {
    const auto adjusted = analysis::holm(secondary);
    size_t i = 0;
    for (auto& trend : endpoints.trends) {
      if (!trend.primary) trend.p_holm = adjusted[i++];
    }
  }
  for (const auto& task : tasks) {
    const auto s = series(runs, circuit, learner, task, "equal_distance",
                          Quantity::q_above_strength_null);
    if (s.y.empty()) continue;
    const std::set<double> displacements(s.log_displacement.begin(), s.log_displacement.end());
    std::string reason = untestable(s);
    if (reason.empty() && displacements.size() < 2) reason = "a single displacement";
    if (reason.empty() && s.y.size() < 4) reason = fmt::format("{} runs, fewer than 4", s.y.size());
    if (!reason.empty()) {
      endpoints.skipped.push_back(
          fmt::format("regression {} equal_distance on log lr and log displacement: {}", task,
                      reason));
      continue;
    }
    const auto fit =
        analysis::clustered_regression({s.log_lr, s.log_displacement}, s.y, s.seed, 0.95, 2000,
                                       seed);
    endpoints.regressions.push_back({task, fit[0], fit[1]});
  }
  return endpoints;
}

namespace {

// A simulated run's separation as a key that equal separations share (4 significant digits of
// its log), so that T = separation x lr x tau_c rounded to the dt grid still groups.
int64_t separation_key(double separation) {
  return std::llround(std::log10(separation) * 1e4);
}

struct SimulatedSeries {
  std::vector<double> x, y;
  std::vector<int64_t> seed;
  std::set<int64_t> levels;  // the distinct values of x (separation keys or lr keys)
};

// The simulated runs for which `keep` holds: log10 of `x` against Q - strength null.
template <typename Keep, typename X>
SimulatedSeries simulated_series(const std::vector<RunRecord>& runs, Keep keep, X x) {
  SimulatedSeries s;
  for (const auto& run : runs) {
    if (run.learner != "simulated" || run.diverged || !keep(run)) continue;
    const double y = run.measure.q_above_null();
    if (!std::isfinite(y)) continue;
    s.x.push_back(std::log10(x(run)));
    s.y.push_back(y);
    s.seed.push_back(static_cast<int64_t>(run.seed));
    s.levels.insert(std::llround(s.x.back() * 1e4));
  }
  return s;
}

bool testable(const SimulatedSeries& s) {
  return s.levels.size() >= 2 && std::set<int64_t>(s.seed.begin(), s.seed.end()).size() >= 2 &&
         s.y.size() >= 3;
}

void holm_adjust(std::vector<double>& p, std::vector<double*> out) {
  if (p.empty()) return;
  const auto adjusted = analysis::holm(p);
  for (size_t i = 0; i < adjusted.size(); ++i) *out[i] = adjusted[i];
}

}  // namespace

void test_separation(const std::vector<RunRecord>& runs, double tau_c, uint64_t seed,
                     Endpoints& endpoints) {
  const auto separation_of = [tau_c](const RunRecord& run) {
    return simulator_separation(run.presentation, run.lr, tau_c);
  };
  std::set<double> lrs;
  std::map<int64_t, double> separations;  // key -> the first separation seen
  for (const auto& run : runs) {
    if (run.learner != "simulated" || run.diverged) continue;
    lrs.insert(run.lr);
    separations.emplace(separation_key(separation_of(run)), separation_of(run));
  }
  // The separation at a fixed learning rate.
  std::vector<double> p_values;
  for (const double lr : lrs) {
    const auto s = simulated_series(
        runs, [lr](const RunRecord& run) { return run.lr == lr; }, separation_of);
    if (!testable(s)) {
      endpoints.skipped.push_back(fmt::format(
          "simulator lr {:.4g}: a slope on log separation needs >= 2 --separations and "
          "--simulator-seeds >= 2",
          lr));
      continue;
    }
    SeparationEndpoint endpoint;
    endpoint.lr = lr;
    endpoint.runs = static_cast<int64_t>(s.y.size());
    endpoint.slope = analysis::clustered_slope(s.x, s.y, s.seed, 0.95, 2000, seed);
    endpoint.p = analysis::permutation_slope_p(s.x, s.y, s.seed, 2000, seed);
    endpoints.separations.push_back(endpoint);
    p_values.push_back(endpoint.p);
  }
  std::vector<double*> adjusted;
  for (auto& e : endpoints.separations) adjusted.push_back(&e.p_holm);
  holm_adjust(p_values, adjusted);
  // The learning rate at a fixed separation.
  p_values.clear();
  for (const auto& [key, separation] : separations) {
    const auto s = simulated_series(
        runs,
        [&, key = key](const RunRecord& run) {
          return separation_key(separation_of(run)) == key;
        },
        [](const RunRecord& run) { return run.lr; });
    if (!testable(s)) {
      endpoints.skipped.push_back(fmt::format(
          "simulator separation {:.4g}: a slope on log lr needs >= 2 --simulator-lrs at this "
          "separation and --simulator-seeds >= 2",
          separation));
      continue;
    }
    LearningRateEndpoint endpoint;
    endpoint.separation = separation;
    endpoint.runs = static_cast<int64_t>(s.y.size());
    endpoint.lrs = static_cast<int64_t>(s.levels.size());
    endpoint.slope = analysis::clustered_slope(s.x, s.y, s.seed, 0.95, 2000, seed);
    endpoint.p = analysis::permutation_slope_p(s.x, s.y, s.seed, 2000, seed);
    endpoints.learning_rates.push_back(endpoint);
    p_values.push_back(endpoint.p);
  }
  adjusted.clear();
  for (auto& e : endpoints.learning_rates) adjusted.push_back(&e.p_holm);
  holm_adjust(p_values, adjusted);
}

void write_endpoints_csv(std::ostream& out, const Endpoints& endpoints) {
  out << "endpoint,task,schedule,quantity,runs,slope_per_decade,low_95,high_95,low_90,high_90,"
         "permutation_p,holm_p,tost_bound,equivalent\n";
  for (const auto& t : endpoints.trends) {
    out << fmt::format("{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.4g},{:.4g},{},{}\n",
                       t.primary ? "primary" : "secondary", t.task, t.schedule,
                       quantity_name(t.quantity), t.runs, t.slope.estimate, t.slope.low,
                       t.slope.high, t.slope_90.low, t.slope_90.high, t.p, t.p_holm,
                       t.equivalence_tested ? fmt::format("{:.6g}", endpoints.bound) : "",
                       t.equivalence_tested ? (t.equivalent ? "1" : "0") : "");
  }
  for (const auto& r : endpoints.regressions) {
    out << fmt::format(
        "regression,{},equal_distance,q_above_strength_null per decade of lr (given "
        "displacement),,{:.6g},{:.6g},{:.6g},,,,,,\n"
        "regression,{},equal_distance,q_above_strength_null per decade of displacement (given "
        "lr),,{:.6g},{:.6g},{:.6g},,,,,,\n",
        r.task, r.per_decade_lr.estimate, r.per_decade_lr.low, r.per_decade_lr.high, r.task,
        r.per_decade_displacement.estimate, r.per_decade_displacement.low,
        r.per_decade_displacement.high);
  }
  for (const auto& e : endpoints.separations) {
    out << fmt::format(
        "simulator,modular,fixed_epochs,q_above_strength_null per decade of T/lr at lr {:.4g},{},"
        "{:.6g},{:.6g},{:.6g},,,{:.4g},{:.4g},,\n",
        e.lr, e.runs, e.slope.estimate, e.slope.low, e.slope.high, e.p, e.p_holm);
  }
  for (const auto& e : endpoints.learning_rates) {
    out << fmt::format(
        "simulator,modular,fixed_epochs,q_above_strength_null per decade of lr at T/lr {:.4g},{},"
        "{:.6g},{:.6g},{:.6g},,,{:.4g},{:.4g},,\n",
        e.separation, e.runs, e.slope.estimate, e.slope.low, e.slope.high, e.p, e.p_holm);
  }
}

void print_endpoints(const Endpoints& endpoints) {
  fmt::print("\nTrends: slope per decade of lr (95 % seed-clustered bootstrap), permutation p, "
             "Holm p (secondary family), {}\n",
             std::isfinite(endpoints.bound)
                 ? fmt::format("TOST at bound +-{:.4g} per decade", endpoints.bound)
                 : "no TOST (" + endpoints.no_bound_reason + ")");
  for (const auto& t : endpoints.trends) {
    fmt::print("{:<9} {:<9} {:<14} {:<34} n {:>4}  slope {:+.4f} [{:+.4f}, {:+.4f}]  p {:.4f}  "
               "Holm p {:.4f}  {}\n",
               t.primary ? "PRIMARY" : "secondary", t.task, t.schedule,
               quantity_name(t.quantity), t.runs, t.slope.estimate, t.slope.low, t.slope.high,
               t.p, t.p_holm,
               !std::isfinite(endpoints.bound) ? "no TOST (" + endpoints.no_bound_reason + ")"
               : !t.equivalence_tested         ? std::string("no TOST (the bound is for Q - null)")
               : t.equivalent                  ? std::string("equivalent to 0")
                                               : std::string("not shown equivalent"));
  }
  for (const auto& r : endpoints.regressions) {
    fmt::print("{:<9} equal distance: Q - null = b1 log10 lr + b2 log10 displacement: b1 {:+.4f} "
               "[{:+.4f}, {:+.4f}], b2 {:+.4f} [{:+.4f}, {:+.4f}]\n",
               r.task, r.per_decade_lr.estimate, r.per_decade_lr.low, r.per_decade_lr.high,
               r.per_decade_displacement.estimate, r.per_decade_displacement.low,
               r.per_decade_displacement.high);
  }
  for (const auto& e : endpoints.separations) {
    fmt::print("simulator lr {:<6.3g} Q - null per decade of separation T / lr: {:+.4f} [{:+.4f}, "
               "{:+.4f}]  n {}  p {:.4f}  Holm p (over the grid's lrs) {:.4f}\n",
               e.lr, e.slope.estimate, e.slope.low, e.slope.high, e.runs, e.p, e.p_holm);
  }
  for (const auto& e : endpoints.learning_rates) {
    fmt::print("simulator separation {:<6.4g} Q - null per decade of lr ({} lrs): {:+.4f} "
               "[{:+.4f}, {:+.4f}]  n {}  p {:.4f}  Holm p (over the shared separations) {:.4f}\n",
               e.separation, e.lrs, e.slope.estimate, e.slope.low, e.slope.high, e.runs, e.p,
               e.p_holm);
  }
  for (const auto& reason : endpoints.skipped) fmt::print("not tested: {}\n", reason);
}

}  // namespace examples
}  // namespace eiprop
