// The community study's statistics (eiprop/analysis/statistics.h) on synthetic data of known
// effect: the intervals cover the true value about as often as their level says, the permutation
// test rejects a true null about as often as its level and a real trend almost always, the
// cluster bootstrap is wider than a naive one when observations share a cluster effect, TOST
// accepts a null effect and refuses one beyond its bound, and Holm's adjustment matches a worked
// example.
#include <eiprop/analysis/statistics.h>

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace eiprop {
namespace analysis {
namespace {

// y = slope * x + seed effect + noise, over `seeds` seeds and the given x levels (e.g. log lr).
struct Trend {
  std::vector<double> x, y;
  std::vector<int64_t> cluster;
};

Trend trend(double slope, int64_t seeds, const std::vector<double>& levels, double seed_sd,
            double noise_sd, std::mt19937_64& engine) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Trend data;
  for (int64_t s = 0; s < seeds; ++s) {
    const double seed_effect = seed_sd * normal(engine);
    for (double level : levels) {
      data.x.push_back(level);
      data.y.push_back(slope * level + seed_effect + noise_sd * normal(engine));
      data.cluster.push_back(s);
    }
  }
  return data;
}

const std::vector<double> kLevels{-3.0, -2.5, -2.0, -1.5, -1.0};

TEST(Statistics, BootstrapMeanCoversTheTrueMean) {
  std::mt19937_64 engine(1);
  std::normal_distribution<double> normal(2.0, 1.5);
  int covered = 0;
  const int replicates = 300;
  for (int r = 0; r < replicates; ++r) {
    std::vector<double> values(20);
    for (auto& value : values) value = normal(engine);
    const auto interval = bootstrap_mean(values, 0.95, 1000, static_cast<uint64_t>(r));
    EXPECT_LE(interval.low, interval.estimate);
    EXPECT_GE(interval.high, interval.estimate);
    covered += interval.low <= 2.0 && 2.0 <= interval.high;
  }
  // The percentile bootstrap of a mean of 20 undercovers slightly (about 93 %).
  const double coverage = static_cast<double>(covered) / replicates;
  EXPECT_GE(coverage, 0.89);
  EXPECT_LE(coverage, 0.985);
}

TEST(Statistics, ClusteredSlopeCoversTheTrueSlope) {
  std::mt19937_64 engine(2);
  int covered = 0;
  const int replicates = 200;
  for (int r = 0; r < replicates; ++r) {
    const auto data = trend(0.3, 20, kLevels, 1.0, 0.5, engine);
    const auto interval =
        clustered_slope(data.x, data.y, data.cluster, 0.95, 500, static_cast<uint64_t>(r));
    covered += interval.low <= 0.3 && 0.3 <= interval.high;
  }
  const double coverage = static_cast<double>(covered) / replicates;
  EXPECT_GE(coverage, 0.88);
  EXPECT_LE(coverage, 0.99);
}

// With a random per-seed slope, observations of one seed are correlated: resampling whole seeds
// gives the spread of the mean slope over seeds (0.4 / sqrt(20) here), where resampling
// observations one by one treats the seeds' own slopes as noise around x = 0 and comes out about
// half as wide: too narrow.
TEST(Statistics, ClusterBootstrapCountsSeedsNotObservations) {
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal(0.0, 1.0);
  Trend data;
  for (int64_t s = 0; s < 20; ++s) {
    const double seed_slope = 0.3 + 0.4 * normal(engine);
    for (double level : {-1.0, -0.5, 0.0, 0.5, 1.0}) {
      data.x.push_back(level);
      data.y.push_back(seed_slope * level + 0.1 * normal(engine));
      data.cluster.push_back(s);
    }
  }
  std::vector<int64_t> singletons(data.x.size());
  for (size_t i = 0; i < singletons.size(); ++i) singletons[i] = static_cast<int64_t>(i);
  const auto by_seed = clustered_slope(data.x, data.y, data.cluster, 0.95, 1000, 7);
  const auto by_observation = clustered_slope(data.x, data.y, singletons, 0.95, 1000, 7);
  EXPECT_DOUBLE_EQ(by_seed.estimate, by_observation.estimate);
  EXPECT_GT(by_seed.high - by_seed.low, 1.5 * (by_observation.high - by_observation.low));
  // The cluster interval is about 2 x 1.96 x 0.4 / sqrt(20) = 0.35 wide.
  EXPECT_GT(by_seed.high - by_seed.low, 0.25);
  EXPECT_LT(by_seed.high - by_seed.low, 0.5);
}

TEST(Statistics, PermutationTestHasItsSizeAndPower) {
  std::mt19937_64 engine(4);
  int false_rejections = 0, rejections = 0;
  const int replicates = 200;
  for (int r = 0; r < replicates; ++r) {
    const auto null = trend(0.0, 20, kLevels, 1.0, 0.5, engine);
    false_rejections +=
        permutation_slope_p(null.x, null.y, null.cluster, 200, static_cast<uint64_t>(r)) <= 0.05;
    const auto effect = trend(0.3, 20, kLevels, 1.0, 0.5, engine);
    rejections += permutation_slope_p(effect.x, effect.y, effect.cluster, 200,
                                      static_cast<uint64_t>(r)) <= 0.05;
  }
  const double size = static_cast<double>(false_rejections) / replicates;
  EXPECT_GE(size, 0.01);
  EXPECT_LE(size, 0.10);
  EXPECT_GE(static_cast<double>(rejections) / replicates, 0.95);
}

TEST(Statistics, RegressionSeparatesTwoRegressors) {
  // y depends on the second regressor only; the two are correlated but not collinear. Over
  // replicates, each coefficient's interval covers its true value (0 and 0.8) about 95 % of the
  // time, and the estimates centre on them.
  std::mt19937_64 engine(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int replicates = 40;
  int covered_a = 0, covered_b = 0;
  double sum_a = 0.0, sum_b = 0.0;
  for (int r = 0; r < replicates; ++r) {
    std::vector<double> a, b, y;
    std::vector<int64_t> cluster;
    for (int64_t s = 0; s < 25; ++s) {
      for (double level : kLevels) {
        const double other = 0.5 * level + normal(engine);
        a.push_back(level);
        b.push_back(other);
        y.push_back(0.8 * other + 0.2 * normal(engine));
        cluster.push_back(s);
      }
    }
    const auto intervals =
        clustered_regression({a, b}, y, cluster, 0.95, 400, static_cast<uint64_t>(r));
    ASSERT_EQ(intervals.size(), 2u);
    covered_a += intervals[0].low <= 0.0 && 0.0 <= intervals[0].high;
    covered_b += intervals[1].low <= 0.8 && 0.8 <= intervals[1].high;
    sum_a += intervals[0].estimate;
    sum_b += intervals[1].estimate;
  }
  EXPECT_GE(covered_a, 34);
  EXPECT_GE(covered_b, 34);
  EXPECT_NEAR(sum_a / replicates, 0.0, 0.01);
  EXPECT_NEAR(sum_b / replicates, 0.8, 0.01);
}

TEST(Statistics, EquivalenceAcceptsANullEffectAndRefusesOneBeyondItsBound) {
  std::mt19937_64 engine(6);
  const auto null = trend(0.0, 20, kLevels, 1.0, 0.5, engine);
  const auto large = trend(0.5, 20, kLevels, 1.0, 0.5, engine);
  const auto null_interval = clustered_slope(null.x, null.y, null.cluster, 0.90, 1000, 1);
  const auto large_interval = clustered_slope(large.x, large.y, large.cluster, 0.90, 1000, 1);
  EXPECT_TRUE(equivalent(null_interval, 0.25));
  EXPECT_FALSE(equivalent(large_interval, 0.25));
  // A 95 % interval is not TOST's interval at alpha 0.05.
  const auto wrong_level = clustered_slope(null.x, null.y, null.cluster, 0.95, 100, 1);
  EXPECT_THROW(equivalent(wrong_level, 0.25), c10::Error);
}

TEST(Statistics, HolmMatchesAWorkedExample) {
  // p = (0.01, 0.04, 0.03, 0.005): sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03,
  // 0.06, 0.04 -> running maximum 0.02, 0.03, 0.06, 0.06.
  const auto adjusted = holm({0.01, 0.04, 0.03, 0.005});
  const std::vector<double> expected{0.03, 0.06, 0.06, 0.02};
  ASSERT_EQ(adjusted.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(adjusted[i], expected[i], 1e-15);
  EXPECT_EQ(holm({0.9, 0.6}), (std::vector<double>{1.0, 1.0}));
  EXPECT_THROW(holm({0.5, 1.5}), c10::Error);
}

TEST(Statistics, DeterministicForASeedAndRefusesBadInput) {
  std::mt19937_64 engine(7);
  const auto data = trend(0.2, 10, kLevels, 1.0, 0.5, engine);
  const auto first = clustered_slope(data.x, data.y, data.cluster, 0.95, 300, 42);
  const auto second = clustered_slope(data.x, data.y, data.cluster, 0.95, 300, 42);
  EXPECT_EQ(first.low, second.low);
  EXPECT_EQ(first.high, second.high);
  EXPECT_EQ(permutation_slope_p(data.x, data.y, data.cluster, 100, 3),
            permutation_slope_p(data.x, data.y, data.cluster, 100, 3));
  // Another seed draws other resamples.
  const auto other = clustered_slope(data.x, data.y, data.cluster, 0.95, 300, 43);
  EXPECT_TRUE(other.low != first.low || other.high != first.high);
  EXPECT_THROW(bootstrap_mean({}, 0.95), c10::Error);
  EXPECT_THROW(bootstrap_mean({1.0, 2.0}, 1.5), c10::Error);
  EXPECT_THROW(clustered_slope({1.0, 2.0, 3.0}, {1.0, 2.0}, {0, 0, 1}), c10::Error);
  EXPECT_THROW(permutation_slope_p({1.0, 1.0, 1.0}, {1.0, 2.0, 3.0}, {0, 1, 2}), c10::Error);
  // x varies only between clusters: nothing to permute within them.
  EXPECT_THROW(permutation_slope_p({1.0, 1.0, 2.0, 2.0}, {1.0, 2.0, 3.0, 4.0}, {0, 0, 1, 1}),
               c10::Error);
  EXPECT_THROW(clustered_slope({1.0, 2.0, 3.0}, {1.0, 2.0, 2.5}, {0, 0, 0}), c10::Error);
  EXPECT_THROW(clustered_regression({{1.0, 2.0, 3.0, 4.0}, {2.0, 4.0, 6.0, 8.0}},
                                    {1.0, 2.0, 3.0, 4.0}, {0, 1, 2, 3}),
               c10::Error);
}

}  // namespace
}  // namespace analysis
}  // namespace eiprop
