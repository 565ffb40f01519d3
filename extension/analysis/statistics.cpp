#include "eiprop/analysis/statistics.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace eiprop {
namespace analysis {
namespace {

using Engine = std::mt19937_64;

int64_t uniform_index(Engine& engine, int64_t n) {
  return std::uniform_int_distribution<int64_t>(0, n - 1)(engine);
}

void check_level(const char* function, double level) {
  TORCH_CHECK(level > 0.0 && level < 1.0, "eiprop::analysis::", function,
              ": level must lie in (0, 1), got ", level);
}

void check_resamples(const char* function, int64_t resamples) {
  TORCH_CHECK(resamples >= 1, "eiprop::analysis::", function, ": resamples must be >= 1, got ",
              resamples);
}

void check_paired(const char* function, size_t x, size_t y, size_t cluster) {
  TORCH_CHECK(x == y && y == cluster, "eiprop::analysis::", function,
              ": x, y and cluster must be as long as each other, got ", x, ", ", y, " and ",
              cluster);
  TORCH_CHECK(x >= 3, "eiprop::analysis::", function, ": needs at least 3 observations, got ", x);
}

// The percentile interval of `draws` around `estimate`.
Interval percentile(double estimate, std::vector<double> draws, double level) {
  std::sort(draws.begin(), draws.end());
  const auto n = static_cast<int64_t>(draws.size());
  const auto at_quantile = [&](double q) {
    const auto index = static_cast<int64_t>(std::floor(q * static_cast<double>(n - 1) + 0.5));
    return draws[std::clamp<int64_t>(index, 0, n - 1)];
  };
  const double tail = (1.0 - level) / 2.0;
  return {estimate, at_quantile(tail), at_quantile(1.0 - tail), level};
}

// The OLS slope of y on one regressor, cov(x, y) / var(x), in closed form; nullopt when x has
// no spread (up to rounding).
c10::optional<double> slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, scale = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    scale = std::max(scale, std::abs(x[i]));
  }
  if (!(sxx > 1e-24 * n * scale * scale)) return c10::nullopt;
  return sxy / sxx;
}

// OLS coefficients [b_1..b_k] (intercept dropped) of y on the rows' regressors; nullopt when the
// centred design is rank-deficient (e.g. every x equal).
c10::optional<std::vector<double>> least_squares(const std::vector<std::vector<double>>& rows,
                                                 const std::vector<double>& y) {
  const auto n = static_cast<int64_t>(rows.size());
  const auto k = static_cast<int64_t>(rows.front().size());
  if (k == 1) {
    std::vector<double> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = rows[i][0];
    const auto b = slope(x, y);
    if (!b.has_value()) return c10::nullopt;
    return std::vector<double>{*b};
  }
  auto x = at::empty({n, k}, at::kDouble);
  auto* entries = x.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) std::copy(rows[i].begin(), rows[i].end(), entries + i * k);
  const auto centred = x - x.mean(0, /*keepdim=*/true);
  const auto response = at::tensor(y, at::kDouble);
  if (at::linalg_matrix_rank(centred).item<int64_t>() < k) return c10::nullopt;
  const auto solution = std::get<0>(
      at::linalg_lstsq(centred, (response - response.mean()).unsqueeze(1), c10::nullopt,
                       std::string("gelsd")));
  const auto coefficients = solution.squeeze(1).contiguous();
  return std::vector<double>(coefficients.data_ptr<double>(),
                             coefficients.data_ptr<double>() + k);
}

// Observation indices of each cluster, in label order.
std::vector<std::vector<size_t>> clusters_of(const std::vector<int64_t>& cluster) {
  std::map<int64_t, std::vector<size_t>> members;
  for (size_t i = 0; i < cluster.size(); ++i) members[cluster[i]].push_back(i);
  std::vector<std::vector<size_t>> groups;
  for (auto& entry : members) groups.push_back(std::move(entry.second));
  return groups;
}

}  // namespace

Interval bootstrap_mean(const std::vector<double>& values, double level, int64_t resamples,
                        uint64_t seed) {
  check_level("bootstrap_mean", level);
  check_resamples("bootstrap_mean", resamples);
  TORCH_CHECK(!values.empty(), "eiprop::analysis::bootstrap_mean: values is empty");
  const auto n = static_cast<int64_t>(values.size());
  Engine engine(seed);
  std::vector<double> means(resamples);
  for (auto& mean : means) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += values[uniform_index(engine, n)];
    mean = sum / static_cast<double>(n);
  }
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  return percentile(mean, std::move(means), level);
}

Interval clustered_slope(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<int64_t>& cluster, double level, int64_t resamples,
                         uint64_t seed) {
  return clustered_regression({x}, y, cluster, level, resamples, seed).front();
}

double permutation_slope_p(const std::vector<double>& x, const std::vector<double>& y,
                           const std::vector<int64_t>& cluster, int64_t permutations,
                           uint64_t seed) {
  check_paired("permutation_slope_p", x.size(), y.size(), cluster.size());
  check_resamples("permutation_slope_p", permutations);
  // The within-cluster slope: x and y centred in each cluster. Permuting y within clusters
  // leaves the clusters' means, and so any between-cluster part of a pooled slope, fixed; only
  // the within part tests the trend.
  const auto groups = clusters_of(cluster);
  std::vector<double> xc(x.size()), yc(y.size());
  bool varies = false;
  for (const auto& members : groups) {
    double mx = 0.0, my = 0.0;
    for (size_t i : members) {
      mx += x[i];
      my += y[i];
    }
    mx /= static_cast<double>(members.size());
    my /= static_cast<double>(members.size());
    for (size_t i : members) {
      xc[i] = x[i] - mx;
      yc[i] = y[i] - my;
      varies = varies || xc[i] != 0.0;
    }
  }
  TORCH_CHECK(varies, "eiprop::analysis::permutation_slope_p: x does not vary within any "
              "cluster, so permuting within clusters cannot test a trend");
  const auto fitted = slope(xc, yc);
  TORCH_CHECK(fitted.has_value() && std::isfinite(*fitted),
              "eiprop::analysis::permutation_slope_p: x has no spread within the clusters, or x or "
              "y holds NaN or Inf");
  const double observed = std::abs(*fitted);
  Engine engine(seed);
  int64_t as_extreme = 0;
  auto permuted = yc;
  for (int64_t s = 0; s < permutations; ++s) {
    for (const auto& members : groups) {
      // Fisher-Yates over the cluster's members.
      for (auto i = static_cast<int64_t>(members.size()) - 1; i > 0; --i) {
        std::swap(permuted[members[i]], permuted[members[uniform_index(engine, i + 1)]]);
      }
    }
    // A relative margin: permutations that reproduce the observed slope up to rounding count.
    if (std::abs(*slope(xc, permuted)) >= observed * (1.0 - 1e-12)) ++as_extreme;
  }
  return static_cast<double>(1 + as_extreme) / static_cast<double>(1 + permutations);
}

std::vector<Interval> clustered_regression(const std::vector<std::vector<double>>& regressors,
                                           const std::vector<double>& y,
                                           const std::vector<int64_t>& cluster, double level,
                                           int64_t resamples, uint64_t seed) {
  TORCH_CHECK(!regressors.empty(), "eiprop::analysis::clustered_regression: no regressors");
  for (const auto& regressor : regressors) {
    check_paired("clustered_regression", regressor.size(), y.size(), cluster.size());
  }
  check_level("clustered_regression", level);
  check_resamples("clustered_regression", resamples);
  const auto k = regressors.size();
  std::vector<std::vector<double>> rows(y.size(), std::vector<double>(k));
  for (size_t i = 0; i < y.size(); ++i) {
    for (size_t j = 0; j < k; ++j) rows[i][j] = regressors[j][i];
  }
  const auto fitted = least_squares(rows, y);
  TORCH_CHECK(fitted.has_value(), "eiprop::analysis::clustered_regression: the regressors are "
              "collinear or have no spread; their coefficients are not identified");
  const auto groups = clusters_of(cluster);
  const auto count = static_cast<int64_t>(groups.size());
  TORCH_CHECK(count >= 2, "eiprop::analysis::clustered_regression: one cluster; resampling "
              "clusters needs at least 2 (and undercovers with few)");
  Engine engine(seed);
  std::vector<std::vector<double>> draws(k);
  const int64_t attempts = 20 * resamples;
  int64_t drawn = 0;
  for (int64_t attempt = 0; attempt < attempts && drawn < resamples; ++attempt) {
    std::vector<std::vector<double>> sample_rows;
    std::vector<double> sample_y;
    for (int64_t c = 0; c < count; ++c) {
      for (size_t i : groups[uniform_index(engine, count)]) {
        sample_rows.push_back(rows[i]);
        sample_y.push_back(y[i]);
      }
    }
    const auto coefficients = least_squares(sample_rows, sample_y);
    if (!coefficients.has_value()) continue;  // a resample without spread: drawn again
    for (size_t j = 0; j < k; ++j) draws[j].push_back((*coefficients)[j]);
    ++drawn;
  }
  TORCH_CHECK(drawn == resamples, "eiprop::analysis::clustered_regression: only ", drawn, " of ",
              resamples, " cluster resamples had spread in the regressors (", attempts,
              " attempts); the data need more clusters with different regressor values");
  std::vector<Interval> intervals;
  for (size_t j = 0; j < k; ++j) {
    intervals.push_back(percentile((*fitted)[j], std::move(draws[j]), level));
  }
  return intervals;
}

bool equivalent(const Interval& interval, double bound, double alpha) {
  TORCH_CHECK(bound > 0.0, "eiprop::analysis::equivalent: bound must be > 0, got ", bound);
  TORCH_CHECK(alpha > 0.0 && alpha < 0.5, "eiprop::analysis::equivalent: alpha must lie in "
              "(0, 0.5), got ", alpha);
  TORCH_CHECK(std::abs(interval.level - (1.0 - 2.0 * alpha)) < 1e-9,
              "eiprop::analysis::equivalent: TOST at alpha ", alpha, " needs the ",
              1.0 - 2.0 * alpha, " interval, got a ", interval.level, " interval");
  return interval.low > -bound && interval.high < bound;
}

std::vector<double> holm(const std::vector<double>& p_values) {
  const auto m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = 0; i < m; ++i) {
    TORCH_CHECK(p_values[i] >= 0.0 && p_values[i] <= 1.0, "eiprop::analysis::holm: p_values[",
                i, "] is ", p_values[i], ", not a probability");
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(m);
  double running = 0.0;
  for (size_t rank = 0; rank < m; ++rank) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - rank) * p_values[order[rank]]));
    adjusted[order[rank]] = running;
  }
  return adjusted;
}

}  // namespace analysis
}  // namespace eiprop
