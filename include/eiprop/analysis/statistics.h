// The statistics of the community study (docs/community.md): resampling-based intervals and
// tests that need no distributional assumption beyond exchangeability, each checked on synthetic
// data of known effect (tests/test_statistics.cpp: coverage of the intervals, size and power of
// the tests).
//
// - percentile bootstrap interval of a mean;
// - a slope (ordinary least squares) with a cluster bootstrap interval: whole clusters (seeds) are
//   resampled, so repeated measures of one seed are not counted as independent;
// - a permutation test of the within-cluster slope (x and y centred per cluster): the responses
//   are permuted within each cluster, which keeps every cluster's own level (exchangeability
//   under "no trend" within a seed);
// - several regressors at once (e.g. log lr and log displacement) with cluster bootstrap
//   intervals per coefficient;
// - two one-sided tests (TOST) for equivalence as the interval inclusion rule: equivalent at level
//   alpha when the 1 - 2 alpha interval lies inside (-bound, bound);
// - Holm's step-down adjustment of a family of p-values.
// Every resampling routine takes a seed and is deterministic for it (with a given C++ standard
// library: its distributions are implementation-defined).
#pragma once

#include <cstdint>
#include <vector>

namespace eiprop {
namespace analysis {

struct Interval {
  double estimate = 0.0;
  double low = 0.0;
  double high = 0.0;
  double level = 0.95;
};

// Mean of `values` with its percentile bootstrap interval at `level` (resamples draws).
Interval bootstrap_mean(const std::vector<double>& values, double level = 0.95,
                        int64_t resamples = 2000, uint64_t seed = 0);

// The OLS slope of y on x, with the percentile interval of the slope over resamples of whole
// clusters (cluster[i] labels observation i, e.g. its seed; at least 2 clusters, and few of them
// undercover). A resample with no spread in x is drawn again.
Interval clustered_slope(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<int64_t>& cluster, double level = 0.95,
                         int64_t resamples = 2000, uint64_t seed = 0);

// Two-sided permutation p-value of the within-cluster OLS slope of y on x against "no trend": y
// permuted within each cluster; p = (1 + #{|slope*| >= |slope|}) / (1 + permutations). Refused
// when x does not vary within any cluster.
double permutation_slope_p(const std::vector<double>& x, const std::vector<double>& y,
                           const std::vector<int64_t>& cluster, int64_t permutations = 2000,
                           uint64_t seed = 0);

// OLS of y on the columns of `regressors` (each as long as y) and an intercept; one interval per
// regressor (intercept not reported) from the cluster bootstrap.
std::vector<Interval> clustered_regression(const std::vector<std::vector<double>>& regressors,
                                           const std::vector<double>& y,
                                           const std::vector<int64_t>& cluster,
                                           double level = 0.95, int64_t resamples = 2000,
                                           uint64_t seed = 0);

// TOST at `alpha` by interval inclusion: `interval` must be the 1 - 2 alpha interval of the
// effect (e.g. 0.90 for alpha 0.05). Equivalent when it lies inside (-bound, bound).
bool equivalent(const Interval& interval, double bound, double alpha = 0.05);

// Holm's step-down adjusted p-values (same order as given; monotone, capped at 1).
std::vector<double> holm(const std::vector<double>& p_values);

}  // namespace analysis
}  // namespace eiprop
