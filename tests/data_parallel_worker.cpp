// One rank of the data-parallel tests: joins the process group (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT, or --store-file), trains the test problem on its shard of every batch, and
// rank 0 saves the parameters. --fail-rank/--fail-step/--fail-how make one rank die (exit or
// SIGKILL) or stop answering (hang) before a step, for the dead-rank tests. The lines that say
// a rank joined the group or fails carry the time on the machine's monotonic clock
// (std::chrono::steady_clock, which every process on one machine shares), so that the test can
// tell when each rank failed: the launcher (torchrun) reports exit codes, not when ranks ended.
#include "data_parallel_problem.h"

#include <CLI/CLI.hpp>
#include <eiprop/distributed/data_parallel.h>
#include <eiprop/distributed/process_group.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <unistd.h>
#include <torch/serialize.h>

namespace {
double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"one rank of eiprop's data-parallel tests"};
  std::string mode = "rule", out, store_file, fail_how = "exit";
  int64_t steps = 10, batch = 16, timeout_ms = 30000, fail_rank = -1, fail_step = 0;
  int64_t bucket_bytes = eiprop::DataParallelOptions().bucket_bytes();
  app.add_option("--mode", mode)->check(CLI::IsMember(eiprop::testing::kTrainingModes));
  app.add_option("--steps", steps);
  app.add_option("--batch", batch, "global batch size");
  app.add_option("--out", out, "rank 0 saves the parameters here (torch::save)");
  app.add_option("--store-file", store_file, "FileStore path (default: TCPStore from the environment)");
  app.add_option("--timeout-ms", timeout_ms);
  app.add_option("--bucket-bytes", bucket_bytes);
  app.add_option("--fail-rank", fail_rank);
  app.add_option("--fail-step", fail_step);
  app.add_option("--fail-how", fail_how)->check(CLI::IsMember({"exit", "kill", "hang"}));
  CLI11_PARSE(app, argc, argv);

  int64_t rank = -1;
  try {
    auto options = eiprop::ProcessGroupOptions::from_environment()
                       .store_file(store_file)
                       .timeout(std::chrono::milliseconds(timeout_ms));
    rank = options.rank();
    auto group = eiprop::init_process_group(options);
    std::cerr << "rank " << rank << ": joined the group at " << std::fixed << monotonic_seconds()
              << " s" << std::endl;
    auto module = eiprop::testing::make_problem_module();
    eiprop::DataParallel parallel(module, group,
                                  eiprop::DataParallelOptions().bucket_bytes(bucket_bytes));
    parallel.broadcast_parameters();
    eiprop::testing::Trainer trainer(module, mode);
    int64_t first_shard_rows = -1;
    for (int64_t s = 0; s < steps; ++s) {
      if (rank == fail_rank && s == fail_step) {
        std::cerr << "rank " << rank << ": failing (" << fail_how << ") before step " << s
                  << " at " << std::fixed << monotonic_seconds() << " s" << std::endl;
        if (fail_how == "exit") std::_Exit(3);
        if (fail_how == "kill") std::raise(SIGKILL);
        for (;;) pause();  // alive, never answering again
      }
      const auto global = eiprop::testing::problem_batch(s, batch);
      const eiprop::testing::ProblemBatch local{parallel.shard(global.input),
                                                parallel.shard(global.target),
                                                parallel.shard(global.labels)};
      if (s == 0) first_shard_rows = local.input.size(0);
      trainer.step(
          local,
          [&](eiprop::PlasticityRule& rule, const at::Tensor& input,
              const std::function<at::Tensor(const at::Tensor&)>& imbalance) {
            parallel.step(rule, input, imbalance);
          },
          [&](int64_t samples) { parallel.average_gradients(samples); });
    }
    if (rank == 0 && !out.empty()) torch::save(module->parameters(), out);
    std::cout << "rank " << rank << " of " << group->getSize() << ": " << steps << " steps in "
              << parallel.buckets() << " bucket(s); " << first_shard_rows
              << " rows of the first batch" << std::endl;
  } catch (const std::exception& error) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
    std::cerr << "rank " << rank << ": error at " << std::fixed << monotonic_seconds() << " s: "
              << (c10_error ? c10_error->what_without_backtrace() : error.what()) << std::endl;
    // Leave at once: the process group's destructor may wait on peers that are gone.
    std::_Exit(1);
  }
  return 0;
}
