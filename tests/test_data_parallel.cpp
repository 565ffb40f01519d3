// Data-parallel training on c10d: N ranks on loopback, each on its shard of every global batch,
// end with the weights of one process trained on the whole batches (float64); a rank that dies
// or stops answering makes the others fail with a clear error within the group's timeout.
#include "data_parallel_problem.h"
#include "reference.h"

#include <eiprop/data_parallel.h>
#include <eiprop/launch.h>
#include <eiprop/process_group.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <unistd.h>
#include <torch/serialize.h>

namespace eiprop {
namespace testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int64_t kSteps = 12;
constexpr double kTolerance = 1e-12;

double max_relative_error(const std::vector<at::Tensor>& actual, const std::vector<at::Tensor>& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  double worst = 0.0;
  for (size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    worst = std::max(worst, relative_error(actual[i], expected[i]));
  }
  return worst;
}

// A fresh directory under the system's temporary directory.
std::string temporary_directory() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/eiprop-data-parallel-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
  return pattern;
}

// Removes a directory of files. (Not std::filesystem: PyPI's libtorch exports its own copy of
// some std::filesystem symbols, which the dynamic linker may pick instead of libstdc++'s.)
void remove_directory(const std::string& directory) {
  if (DIR* listing = ::opendir(directory.c_str())) {
    while (const dirent* entry = ::readdir(listing)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") ::unlink((directory + "/" + name).c_str());
    }
    ::closedir(listing);
  }
  ::rmdir(directory.c_str());
}

struct RankResult : RankExit {
  std::string output;  // its stdout and stderr
};

struct Job {
  std::vector<RankResult> ranks;
  std::vector<at::Tensor> parameters;  // saved by rank 0
};

// Runs the worker on world_size ranks; FileStore rendezvous unless tcp. Unless
// stop_all_on_failure, nothing stops a rank when another fails: each must fail by itself.
Job run_job(int world_size, std::vector<std::string> arguments, bool tcp = false,
            milliseconds deadline = milliseconds(120000), bool stop_all_on_failure = false) {
  const auto directory = temporary_directory();
  const auto parameters_file = directory + "/parameters.pt";
  arguments.insert(arguments.end(), {"--out", parameters_file});
  if (!tcp) arguments.insert(arguments.end(), {"--store-file", directory + "/store"});
  const auto exits = launch_local(EIPROP_DATA_PARALLEL_WORKER, arguments,
                                  LaunchOptions()
                                      .nproc(world_size)
                                      .log_dir(directory)
                                      .stop_all_on_failure(stop_all_on_failure)
                                      .deadline(deadline));
  Job job;
  for (const auto& exit : exits) {
    RankResult result;
    static_cast<RankExit&>(result) = exit;
    std::ifstream log(directory + "/rank" + std::to_string(exit.rank) + ".log");
    std::stringstream text;
    text << log.rdbuf();
    result.output = text.str();
    job.ranks.push_back(result);
  }
  if (::access(parameters_file.c_str(), R_OK) == 0) torch::load(job.parameters, parameters_file);
  remove_directory(directory);
  return job;
}

void expect_all_succeeded(const Job& job) {
  for (size_t rank = 0; rank < job.ranks.size(); ++rank) {
    const auto& result = job.ranks[rank];
    EXPECT_TRUE(result.exited && result.exit_code == 0)
        << "rank " << rank << " (exit " << result.exit_code << ", signal " << result.signal
        << "):\n" << result.output;
  }
}

struct Equivalence {
  std::string mode;
  int world_size;
  int64_t batch;
  std::vector<std::string> extra = {};
};

class DataParallelEquivalence : public ::testing::TestWithParam<Equivalence> {};

TEST_P(DataParallelEquivalence, SameWeightsAsOneProcessOnTheWholeBatch) {
  const auto& p = GetParam();
  std::vector<std::string> arguments{"--mode", p.mode, "--steps", std::to_string(kSteps),
                                     "--batch", std::to_string(p.batch)};
  arguments.insert(arguments.end(), p.extra.begin(), p.extra.end());
  const auto job = run_job(p.world_size, arguments);
  expect_all_succeeded(job);
  // Each rank learned from its own shard: sizes differ by at most one and sum to the batch.
  for (int rank = 0; rank < p.world_size; ++rank) {
    const int64_t rows = p.batch / p.world_size + (rank < p.batch % p.world_size ? 1 : 0);
    EXPECT_NE(job.ranks[rank].output.find("; " + std::to_string(rows) + " rows of the first batch"),
              std::string::npos) << "rank " << rank << ":\n" << job.ranks[rank].output;
  }
  ASSERT_FALSE(job.parameters.empty()) << "rank 0 saved no parameters";
  const auto reference = train_single_process(p.mode, kSteps, p.batch);
  const double error = max_relative_error(job.parameters, reference);
  // The parameters did move: the comparison is not between two copies of the initial weights.
  EXPECT_GT(max_relative_error(make_problem_module()->parameters(), reference), 1e-3);
  EXPECT_LE(error, kTolerance);
  RecordProperty("max_relative_error", std::to_string(error));
  std::printf("%s, %d ranks, global batch %lld, %lld steps: largest relative error %.3e\n",
              p.mode.c_str(), p.world_size, static_cast<long long>(p.batch),
              static_cast<long long>(kSteps), error);
}

INSTANTIATE_TEST_SUITE_P(
    Loopback, DataParallelEquivalence,
    ::testing::Values(Equivalence{"rule", 2, 16}, Equivalence{"rule", 4, 16},
                      Equivalence{"rule", 4, 10},  // shards of 3, 3, 2, 2 rows
                      Equivalence{"rule", 2, 16, {"--bucket-bytes", "512"}},  // 4 buckets
                      Equivalence{"rule_ce", 2, 16}, Equivalence{"rule_ce", 4, 16},
                      Equivalence{"sgd", 2, 16}, Equivalence{"sgd", 4, 10},
                      Equivalence{"adam", 2, 16}, Equivalence{"adam", 4, 16}),
    [](const ::testing::TestParamInfo<Equivalence>& info) {
      return info.param.mode + "_" + std::to_string(info.param.world_size) + "ranks_batch" +
             std::to_string(info.param.batch) + (info.param.extra.empty() ? "" : "_small_buckets");
    });

TEST(DataParallel, SmallBucketsMeanMoreAllReduces) {
  const auto job = run_job(2, {"--steps", "1", "--bucket-bytes", "512"});
  expect_all_succeeded(job);
  // 512 bytes: [w0 1536 B], [b0 128 B] (w1 would overflow it), [w1 1280 B], [b1, w2, b2 432 B].
  EXPECT_NE(job.ranks[0].output.find("in 4 bucket(s)"), std::string::npos) << job.ranks[0].output;
  const auto one = run_job(2, {"--steps", "1"});
  expect_all_succeeded(one);
  EXPECT_NE(one.ranks[0].output.find("in 1 bucket(s)"), std::string::npos) << one.ranks[0].output;
}

TEST(DataParallel, RendezvousThroughTCPStoreFromTheEnvironment) {
  const auto job = run_job(2, {"--mode", "rule", "--steps", std::to_string(kSteps)}, /*tcp=*/true);
  expect_all_succeeded(job);
  ASSERT_FALSE(job.parameters.empty());
  EXPECT_LE(max_relative_error(job.parameters, train_single_process("rule", kSteps, 16)), kTolerance);
}

TEST(DataParallel, OneRankGroupInProcessEqualsPlainTraining) {
  const auto directory = temporary_directory();
  auto group = init_process_group(ProcessGroupOptions().store_file(directory + "/store"));
  auto module = make_problem_module();
  DataParallel parallel(module, group);
  Trainer trainer(module, "rule");
  for (int64_t s = 0; s < kSteps; ++s) {
    trainer.step(
        problem_batch(s, 16),
        [&](PlasticityRule& rule, const at::Tensor& input,
            const std::function<at::Tensor(const at::Tensor&)>& imbalance) {
          parallel.step(rule, input, imbalance);
        },
        [](int64_t) {});
  }
  EXPECT_LE(max_relative_error(module->parameters(), train_single_process("rule", kSteps, 16)),
            kTolerance);
  // The squared-error step returns the loss of the global batch before the step.
  auto expected_module = make_problem_module();
  const auto batch = problem_batch(0, 16);
  PlasticityRule expected_rule(expected_module, 0.2);
  PlasticityRule rule(module, 0.2);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < module->parameters().size(); ++i) {
    module->parameters()[i].copy_(expected_module->parameters()[i]);
  }
  EXPECT_NEAR(parallel.step(rule, batch.input, batch.target),
              expected_rule.step(batch.input, batch.target), 1e-14);
  remove_directory(directory);
}

// A rank that dies: the others must stop with DataParallel's error, soon after, by themselves.
void expect_survivors_fail(const Job& job, int dead_rank, double within_seconds,
                           double after_seconds) {
  for (size_t rank = 0; rank < job.ranks.size(); ++rank) {
    if (static_cast<int>(rank) == dead_rank) continue;
    const auto& result = job.ranks[rank];
    EXPECT_TRUE(result.exited) << "rank " << rank << " hung until the test's deadline:\n"
                               << result.output;
    EXPECT_EQ(result.exit_code, 1) << "rank " << rank << ":\n" << result.output;
    EXPECT_NE(result.output.find("eiprop::DataParallel: the all-reduce of bucket 0"),
              std::string::npos) << result.output;
    EXPECT_NE(result.output.find("a peer rank died or stopped answering"), std::string::npos)
        << result.output;
    EXPECT_LE(result.seconds - after_seconds, within_seconds)
        << "rank " << rank << " failed " << result.seconds - after_seconds << " s after its peer";
    std::printf("rank %zu failed %.2f s after its peer\n", rank, result.seconds - after_seconds);
  }
}

TEST(DataParallel, KilledRankMakesTheOthersFailFast) {
  const auto job = run_job(3, {"--steps", "1000", "--timeout-ms", "3000", "--fail-rank", "1",
                               "--fail-step", "3", "--fail-how", "kill"},
                           false, milliseconds(60000));
  EXPECT_EQ(job.ranks[1].signal, SIGKILL) << job.ranks[1].output;
  // Its sockets close with it: the others see it at once, well before the 3 s timeout.
  expect_survivors_fail(job, 1, 3.0, job.ranks[1].seconds);
}

TEST(DataParallel, ExitedRankMakesTheOthersFailFast) {
  const auto job = run_job(2, {"--steps", "1000", "--timeout-ms", "3000", "--fail-rank", "0",
                               "--fail-step", "2", "--fail-how", "exit"},
                           false, milliseconds(60000));
  EXPECT_EQ(job.ranks[0].exit_code, 3) << job.ranks[0].output;
  expect_survivors_fail(job, 0, 3.0, job.ranks[0].seconds);
}

TEST(DataParallel, UnresponsiveRankMakesTheOthersFailWithinTheTimeout) {
  // Rank 1 stays alive but never joins another collective; once rank 0 has failed by itself,
  // the launcher kills rank 1.
  const auto job = run_job(2, {"--steps", "1000", "--timeout-ms", "2000", "--fail-rank", "1",
                               "--fail-step", "3", "--fail-how", "hang"},
                           false, milliseconds(60000), /*stop_all_on_failure=*/true);
  EXPECT_FALSE(job.ranks[1].exited) << job.ranks[1].output;
  EXPECT_NE(job.ranks[1].output.find("failing (hang) before step 3"), std::string::npos);
  // Rank 0 gives up once the 2 s timeout has passed, long before the 60 s deadline (the bound
  // allows for start-up on a busy machine).
  expect_survivors_fail(job, 1, 30.0, 0.0);
  EXPECT_GE(job.ranks[0].seconds, 2.0) << "rank 0 failed before the timeout could pass";
  EXPECT_NE(job.ranks[0].output.find("2000"), std::string::npos)
      << "the error names the timeout:\n" << job.ranks[0].output;
}

TEST(ProcessGroup, MissingRanksFailTheRendezvousWithinTheTimeout) {
  const auto directory = temporary_directory();
  for (bool tcp : {false, true}) {
    auto options = ProcessGroupOptions().world_size(2).timeout(milliseconds(1500));
    if (tcp) {
      options.rank(1).master_port(free_port());  // no rank 0 serves the store
    } else {
      options.store_file(directory + "/store");
    }
    const auto start = Clock::now();
    expect_error([&] { init_process_group(options); },
                 {"eiprop::init_process_group: rank", "of 2 could not meet the other ranks through",
                  tcp ? "TCPStore at 127.0.0.1:" : "FileStore", "within 1500 ms"});
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 15.0) << tcp;
  }
  remove_directory(directory);
}

TEST(ProcessGroup, BadOptionsAreRefusedByName) {
  expect_error([] { init_process_group(ProcessGroupOptions().world_size(2).rank(2)); },
               {"eiprop::init_process_group", "rank (RANK) must be in [0, 2), got 2"});
  expect_error([] { init_process_group(ProcessGroupOptions().world_size(0)); },
               {"eiprop::init_process_group", "world_size (WORLD_SIZE) must be >= 1, got 0"});
  expect_error([] { init_process_group(ProcessGroupOptions().master_port(70000)); },
               {"eiprop::init_process_group", "master_port (MASTER_PORT)", "70000"});
  ::setenv("WORLD_SIZE", "four", 1);
  expect_error([] { ProcessGroupOptions::from_environment(); },
               {"from_environment", "WORLD_SIZE='four' is not an integer"});
  ::unsetenv("WORLD_SIZE");
  ::setenv("RANK", "3", 1);
  ::setenv("MASTER_ADDR", "10.1.2.3", 1);
  const auto options = ProcessGroupOptions::from_environment();
  EXPECT_EQ(options.rank(), 3);
  EXPECT_EQ(options.master_addr(), "10.1.2.3");
  EXPECT_EQ(options.world_size(), 1);
  EXPECT_TRUE(options.serve_store());
  ::unsetenv("RANK");
  ::unsetenv("MASTER_ADDR");
  // torchrun's agent serves the store itself and says so.
  ::setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
  EXPECT_FALSE(ProcessGroupOptions::from_environment().serve_store());
  ::setenv("TORCHELASTIC_USE_AGENT_STORE", "False", 1);
  EXPECT_TRUE(ProcessGroupOptions::from_environment().serve_store());
  ::unsetenv("TORCHELASTIC_USE_AGENT_STORE");
}

TEST(DataParallel, RefusesARuleOnAnotherModule) {
  const auto directory = temporary_directory();
  auto group = init_process_group(ProcessGroupOptions().store_file(directory + "/store"));
  DataParallel parallel(make_problem_module(), group);
  PlasticityRule other(make_problem_module(), 0.1);
  const auto batch = problem_batch(0, 4);
  expect_error([&] { parallel.step(other, batch.input, batch.target); },
               {"eiprop::DataParallel::step", "another module"});
  remove_directory(directory);
}

TEST(PlasticityRule, ComputeUpdatesEqualsTheStepsChange) {
  auto module = make_problem_module();
  PlasticityRule rule(module, 0.2);
  const auto batch = problem_batch(0, 8);
  std::vector<at::Tensor> weight_updates, bias_updates;
  for (const auto& w : module->weights()) weight_updates.push_back(torch::full_like(w, NAN));
  for (const auto& b : module->biases()) bias_updates.push_back(torch::full_like(*b, NAN));
  const auto target = batch.target;
  rule.compute_updates(batch.input, [&](const at::Tensor& r) { return target - r; },
                       weight_updates, bias_updates);
  std::vector<at::Tensor> before;
  for (const auto& p : module->parameters()) before.push_back(p.detach().clone());
  rule.step(batch.input, batch.target);
  for (int64_t l = 0; l < module->layers(); ++l) {
    EXPECT_LE(relative_error(module->weights()[l] - before[2 * l], weight_updates[l]), 1e-12) << l;
    EXPECT_LE(relative_error(*module->biases()[l] - before[2 * l + 1], bias_updates[l]), 1e-12) << l;
  }
  weight_updates.pop_back();
  expect_error([&] {
    rule.compute_updates(batch.input, [&](const at::Tensor& r) { return target - r; },
                         weight_updates, bias_updates);
  }, {"eiprop::PlasticityRule::compute_updates", "2 weight_updates and 3 bias_updates"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
