// The study's tests. The primary endpoint: on the modular task at equal training distance, the
// slope of (Q - strength null) per decade of learning rate, with a seed-clustered bootstrap
// interval, a within-seed permutation test, and an equivalence test (TOST) against a bound set
// from the positive control's effect. Secondary endpoints (the other schedules, the entangled
// control, the other modularity variants and the shuffle null) get the same slope and test, their
// p-values Holm-adjusted as one family. At equal distance, Q - null is also regressed on log lr
// and log displacement together.
#pragma once

#include "community/study.h"

#include <ostream>
#include <string>
#include <vector>

namespace eiprop {
namespace examples {

struct TrendEndpoint {
  std::string task, schedule;
  Quantity quantity = Quantity::q_above_strength_null;
  bool primary = false;
  int64_t runs = 0;
  analysis::Interval slope;     // per decade of lr, 95 % cluster bootstrap
  analysis::Interval slope_90;  // the 90 % interval the TOST reads
  double p = 0.0;               // permutation p-value
  double p_holm = 0.0;          // Holm-adjusted within the secondary family (primary: p)
  // The TOST applies to the Q - null quantities only (the bound is a Q - null effect), and only
  // with a bound.
  bool equivalence_tested = false;
  bool equivalent = false;  // |slope| < bound by TOST at alpha 0.05
};

struct DistanceRegression {
  std::string task;
  analysis::Interval per_decade_lr, per_decade_displacement;  // 95 % cluster bootstrap
};

// The simulator grid at one learning rate: Q - strength null per decade of timescale separation
// tau_W / tau_c = T / (lr tau_c), over the separations.
struct SeparationEndpoint {
  double lr = 0.0;
  int64_t runs = 0;
  analysis::Interval slope;  // 95 % cluster bootstrap
  double p = 0.0;            // permutation p-value
  double p_holm = 0.0;       // Holm-adjusted over the grid's learning rates (a family of its own)
};

// The simulator grid at one timescale separation: Q - strength null per decade of learning rate,
// over the learning rates that share it (T = separation x lr x tau_c grows with lr).
struct LearningRateEndpoint {
  double separation = 0.0;  // tau_W / tau_c
  int64_t runs = 0, lrs = 0;
  analysis::Interval slope;  // 95 % cluster bootstrap
  double p = 0.0;            // permutation p-value
  double p_holm = 0.0;       // Holm-adjusted over the shared separations (a family of its own)
};

struct Endpoints {
  // TOST bound on |slope per decade| (NaN without a usable positive control: none, or one whose
  // lower 95 % limit is not above 0).
  double bound = 0.0;
  std::string no_bound_reason;  // why bound is NaN
  std::vector<TrendEndpoint> trends;  // the primary first
  std::vector<DistanceRegression> regressions;
  std::vector<SeparationEndpoint> separations;
  std::vector<LearningRateEndpoint> learning_rates;
  std::vector<std::string> skipped;  // the endpoints not tested, and why
};

// The endpoints of the simulated learner's runs (tau_c: its credit time constant) are added to
// `endpoints`: one SeparationEndpoint per learning rate with at least two separations, one
// LearningRateEndpoint per separation shared by at least two learning rates.
void test_separation(const std::vector<RunRecord>& runs, double tau_c, uint64_t seed,
                     Endpoints& endpoints);

// The endpoints of `learner`'s runs on `circuit`; bound: the equivalence bound per decade. A trend
// needs two seeds and two learning rates (a regression also two displacements); one that lacks
// them is listed in `skipped` with the reason.
Endpoints test_endpoints(const std::vector<RunRecord>& runs, const std::string& circuit,
                         const std::string& learner, const std::vector<std::string>& tasks,
                         const std::vector<std::string>& schedules, double bound, uint64_t seed);

void write_endpoints_csv(std::ostream& out, const Endpoints& endpoints);
void print_endpoints(const Endpoints& endpoints);

}  // namespace examples
}  // namespace eiprop
