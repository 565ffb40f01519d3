// Data-parallel training on c10d: N ranks on loopback, each on its shard of every global batch,
// end with the weights of one process trained on the whole batches (float64); a rank that dies
// or stops answering makes the others fail with a clear error within the group's timeout.
#include "data_parallel_problem.h"
#include "reference.h"
#include "scratch_directory.h"

#include <eiprop/distributed/data_parallel.h>
#include <eiprop/distributed/process_group.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/serialize.h>

extern char** environ;

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

// The names in a directory, without "." and ".." (not std::filesystem: see scratch_directory.h).
std::vector<std::string> directory_entries(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* listing = ::opendir(directory.c_str())) {
    while (const dirent* entry = ::readdir(listing)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(listing);
  }
  return names;
}

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (socket_fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in endpoint{};
  endpoint.sin_family = AF_INET;
  endpoint.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(endpoint);
  const bool bound =
      ::bind(socket_fd, reinterpret_cast<sockaddr*>(&endpoint), sizeof(endpoint)) == 0 &&
      ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&endpoint), &length) == 0;
  ::close(socket_fd);
  if (!bound) throw std::runtime_error("cannot bind a port on 127.0.0.1");
  return ntohs(endpoint.sin_port);
}

// Starts command with its stdout and stderr going to log.
pid_t start_process(const std::vector<std::string>& command, const std::string& log) {
  std::vector<std::string> text = command;
  std::vector<char*> argv;
  for (auto& argument : text) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int error = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot start " + command[0]);
  return pid;
}

// Runs the worker's ranks under torchrun, `python -m torch.distributed.run` of the interpreter
// whose torch this build uses, with each rank's stdout and stderr in files of its own
// (--redirects 3). Options are spelled with underscores, which every torchrun accepts (the
// hyphenated spellings came later). The rendezvous is torchrun's static one (its agent of node 0
// serves a TCPStore on a free port) rather than --standalone, whose port is fixed before
// PyTorch 2.0, so that tests can run side by side.
struct RankResult {
  std::string output;  // its stdout and stderr
  // In torchrun's report of failed ranks, with its exit code (minus the signal's number when a
  // signal ended it); a rank that is not in it ended with 0, or was stopped by torchrun because
  // another rank had failed (torchrun 2.x then reports it too, with -SIGTERM).
  bool reported_failed = false;
  int exit_code = 0;
  // Seconds from the job's start to the lines where the rank says it joined the group and
  // where it says it fails (-1: no such line).
  double joined_after = -1.0;
  double failed_after = -1.0;
};

struct Job {
  std::vector<RankResult> ranks;
  std::vector<int> torchrun_status;  // one per torchrun (its exit status; -1: stopped by us)
  std::string torchrun_output;       // what the torchruns printed, with their failure reports
  bool timed_out = false;
  std::vector<at::Tensor> parameters;  // saved by rank 0
};

// torchrun's report lists each failed rank as "rank      : R (local_rank: L)" followed by
// "exitcode  : C (pid: P)".
std::map<int, int> reported_exit_codes(const std::string& torchrun_output) {
  static const std::regex failure(
      R"(rank\s*:\s*(\d+)\s*\(local_rank:\s*\d+\)\s*\n\s*exitcode\s*:\s*(-?\d+))");
  std::map<int, int> codes;
  for (std::sregex_iterator match(torchrun_output.begin(), torchrun_output.end(), failure), end;
       match != end; ++match) {
    codes[std::stoi((*match)[1])] = std::stoi((*match)[2]);
  }
  return codes;
}

// The time T in the worker's line "... <what> at T s", on the machine's monotonic clock.
double time_of(const std::string& output, const std::string& what) {
  const std::regex line(what + R"( at (\d+\.\d+) s)");
  std::smatch match;
  return std::regex_search(output, match, line) ? std::stod(match[1]) : -1.0;
}

double monotonic_seconds() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Runs the worker on world_size ranks; FileStore rendezvous unless tcp. One torchrun starts all
// ranks, and stops the others when one fails; with torchrun_per_rank, each rank has a torchrun of
// its own (--nnodes world_size), as ranks on separate machines do: nothing then stops a rank
// when another fails, each must fail by itself. After the deadline the torchruns are stopped
// (SIGTERM, which they pass on to their ranks).
Job run_job(int world_size, std::vector<std::string> arguments, bool tcp = false,
            milliseconds deadline = milliseconds(120000), bool torchrun_per_rank = false) {
  const ScratchDirectory scratch("eiprop-data-parallel");
  const auto& directory = scratch.path();
  const auto parameters_file = directory + "/parameters.pt";
  arguments.insert(arguments.end(), {"--out", parameters_file});
  if (!tcp) arguments.insert(arguments.end(), {"--store-file", directory + "/store"});
  const int torchruns = torchrun_per_rank ? world_size : 1;
  const int ranks_per_torchrun = torchrun_per_rank ? 1 : world_size;
  const auto port = std::to_string(free_port());

  const auto start = Clock::now();
  const double start_seconds = monotonic_seconds();
  std::vector<pid_t> pids;
  for (int node = 0; node < torchruns; ++node) {
    std::vector<std::string> command{
        EIPROP_PYTHON, "-m", "torch.distributed.run", "--nnodes", std::to_string(torchruns),
        "--node_rank", std::to_string(node), "--nproc_per_node", std::to_string(ranks_per_torchrun),
        "--master_addr", "127.0.0.1", "--master_port", port, "--max_restarts", "0",
        // torchrun 2.x's default; 1.13 looks at its ranks every 5 s only.
        "--monitor_interval", "0.1",
        "--log_dir", directory + "/logs" + std::to_string(node), "--redirects", "3",
        "--no_python", EIPROP_DATA_PARALLEL_WORKER};
    command.insert(command.end(), arguments.begin(), arguments.end());
    pids.push_back(start_process(command, directory + "/torchrun" + std::to_string(node) + ".log"));
  }

  Job job;
  job.torchrun_status.assign(torchruns, -1);
  for (int node = 0; node < torchruns; ++node) {
    int status = 0;
    while (::waitpid(pids[node], &status, WNOHANG) == 0) {
      if (!job.timed_out && Clock::now() - start > deadline) {
        job.timed_out = true;
        for (int other = 0; other < torchruns; ++other) ::kill(pids[other], SIGTERM);
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    job.torchrun_status[node] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    job.torchrun_output += read_text(directory + "/torchrun" + std::to_string(node) + ".log");
  }

  const auto codes = reported_exit_codes(job.torchrun_output);
  for (int rank = 0; rank < world_size; ++rank) {
    RankResult result;
    // <log_dir>/<run id>_<random>/attempt_0/<local rank>/{stdout,stderr}.log
    const int node = torchrun_per_rank ? rank : 0;
    const int local_rank = torchrun_per_rank ? 0 : rank;
    const auto logs = directory + "/logs" + std::to_string(node);
    for (const auto& run : directory_entries(logs)) {
      const auto files = logs + "/" + run + "/attempt_0/" + std::to_string(local_rank);
      result.output += read_text(files + "/stdout.log") + read_text(files + "/stderr.log");
    }
    if (const auto code = codes.find(rank); code != codes.end()) {
      result.reported_failed = true;
      result.exit_code = code->second;
    }
    const double joined = time_of(result.output, "joined the group");
    const double failed = time_of(result.output, R"((?:failing \(\w+\) before step \d+|error))");
    if (joined >= 0) result.joined_after = joined - start_seconds;
    if (failed >= 0) result.failed_after = failed - start_seconds;
    job.ranks.push_back(result);
  }
  if (::access(parameters_file.c_str(), R_OK) == 0) torch::load(job.parameters, parameters_file);
  return job;
}

void expect_all_succeeded(const Job& job) {
  EXPECT_FALSE(job.timed_out) << job.torchrun_output;
  for (size_t node = 0; node < job.torchrun_status.size(); ++node) {
    EXPECT_EQ(job.torchrun_status[node], 0) << job.torchrun_output;
  }
  for (size_t rank = 0; rank < job.ranks.size(); ++rank) {
    const auto& result = job.ranks[rank];
    EXPECT_FALSE(result.reported_failed)
        << "rank " << rank << " (exit " << result.exit_code << "):\n" << result.output;
    EXPECT_NE(result.output.find("rank " + std::to_string(rank) + " of "), std::string::npos)
        << "rank " << rank << " did not finish:\n" << result.output << job.torchrun_output;
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
  const ScratchDirectory scratch("eiprop-data-parallel");
  const auto& directory = scratch.path();
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
}

// A rank that dies: the others must stop with DataParallel's error, soon after, by themselves:
// within_seconds after `after_seconds`, the time of `event`.
void expect_survivors_fail(const Job& job, int dead_rank, double within_seconds,
                           double after_seconds, const std::string& event = "its peer") {
  EXPECT_FALSE(job.timed_out) << "a rank hung until the test's deadline:\n" << job.torchrun_output;
  for (size_t rank = 0; rank < job.ranks.size(); ++rank) {
    if (static_cast<int>(rank) == dead_rank) continue;
    const auto& result = job.ranks[rank];
    EXPECT_TRUE(result.reported_failed && result.exit_code == 1)
        << "rank " << rank << " (exit " << result.exit_code << "):\n" << result.output
        << job.torchrun_output;
    EXPECT_NE(result.output.find("eiprop::DataParallel: the all-reduce of bucket 0"),
              std::string::npos) << result.output;
    EXPECT_NE(result.output.find("a peer rank died or stopped answering"), std::string::npos)
        << result.output;
    EXPECT_GE(result.failed_after, 0.0) << "rank " << rank << " says no time:\n" << result.output;
    EXPECT_LE(result.failed_after - after_seconds, within_seconds)
        << "rank " << rank << " failed " << result.failed_after - after_seconds << " s after "
        << event;
    std::printf("rank %zu failed %.2f s after %s\n", rank, result.failed_after - after_seconds,
                event.c_str());
  }
}

// The dying rank and its peers each under a torchrun of their own, as on separate machines: a
// single torchrun would stop the peers as soon as it saw the rank end, before they could show
// that they fail by themselves.
TEST(DataParallel, KilledRankMakesTheOthersFailFast) {
  const auto job = run_job(3, {"--steps", "1000", "--timeout-ms", "3000", "--fail-rank", "1",
                               "--fail-step", "3", "--fail-how", "kill"},
                           false, milliseconds(60000), /*torchrun_per_rank=*/true);
  EXPECT_EQ(job.ranks[1].exit_code, -SIGKILL) << job.ranks[1].output << job.torchrun_output;
  ASSERT_GE(job.ranks[1].failed_after, 0.0) << job.ranks[1].output;
  // Its sockets close with it: the others see it at once, well before the 3 s timeout.
  expect_survivors_fail(job, 1, 3.0, job.ranks[1].failed_after);
}

TEST(DataParallel, ExitedRankMakesTheOthersFailFast) {
  const auto job = run_job(2, {"--steps", "1000", "--timeout-ms", "3000", "--fail-rank", "0",
                               "--fail-step", "2", "--fail-how", "exit"},
                           false, milliseconds(60000), /*torchrun_per_rank=*/true);
  EXPECT_EQ(job.ranks[0].exit_code, 3) << job.ranks[0].output << job.torchrun_output;
  ASSERT_GE(job.ranks[0].failed_after, 0.0) << job.ranks[0].output;
  expect_survivors_fail(job, 0, 3.0, job.ranks[0].failed_after);
}

TEST(DataParallel, UnresponsiveRankMakesTheOthersFailWithinTheTimeout) {
  // Rank 1 stays alive but never joins another collective; once rank 0 has failed by itself,
  // torchrun stops rank 1 (SIGTERM; torchrun 2.x reports it with -SIGTERM, 1.13 leaves it out).
  const auto job = run_job(2, {"--steps", "1000", "--timeout-ms", "2000", "--fail-rank", "1",
                               "--fail-step", "3", "--fail-how", "hang"},
                           false, milliseconds(60000));
  EXPECT_TRUE(!job.ranks[1].reported_failed || job.ranks[1].exit_code == -SIGTERM)
      << "exit " << job.ranks[1].exit_code << ":\n" << job.ranks[1].output << job.torchrun_output;
  EXPECT_NE(job.ranks[1].output.find("failing (hang) before step 3"), std::string::npos);
  // Rank 0 gives up once the 2 s timeout has passed, long before the 60 s deadline (the bound
  // allows for a busy machine), counted from when it joined the group, after torchrun's and
  // its own start-up.
  const double joined = job.ranks[0].joined_after;
  ASSERT_GE(joined, 0.0) << job.ranks[0].output;
  expect_survivors_fail(job, 1, 30.0, joined, "joining the group");
  EXPECT_GE(job.ranks[0].failed_after - joined, 2.0)
      << "rank 0 failed before the timeout could pass";
  EXPECT_NE(job.ranks[0].output.find("2000"), std::string::npos)
      << "the error names the timeout:\n" << job.ranks[0].output;
}

TEST(ProcessGroup, MissingRanksFailTheRendezvousWithinTheTimeout) {
  const ScratchDirectory scratch("eiprop-data-parallel");
  const auto& directory = scratch.path();
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
  const ScratchDirectory scratch("eiprop-data-parallel");
  const auto& directory = scratch.path();
  auto group = init_process_group(ProcessGroupOptions().store_file(directory + "/store"));
  DataParallel parallel(make_problem_module(), group);
  PlasticityRule other(make_problem_module(), 0.1);
  const auto batch = problem_batch(0, 4);
  expect_error([&] { parallel.step(other, batch.input, batch.target); },
               {"eiprop::DataParallel::step", "another module"});
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
