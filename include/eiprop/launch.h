// Starts the ranks of a data-parallel job as processes on this machine, as torchrun does for
// Python: each gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT
// in its environment (what eiprop::ProcessGroupOptions::from_environment reads). Across
// machines, run one launch per machine with its ranks' offset, or start ranks by hand.
#pragma once

#include <torch/arg.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace eiprop {

struct LaunchOptions {
  // Ranks started here: first_rank, ..., first_rank + nproc - 1 of world_size (0: nproc).
  TORCH_ARG(int64_t, nproc) = 1;
  TORCH_ARG(int64_t, first_rank) = 0;
  TORCH_ARG(int64_t, world_size) = 0;
  TORCH_ARG(std::string, master_addr) = "127.0.0.1";
  // 0: a port on master_addr that is free when the ranks start (picked by binding port 0).
  TORCH_ARG(int64_t, master_port) = 0;
  // When not empty: rank r's stdout and stderr go to <log_dir>/rank<r>.log; otherwise they are
  // this process's.
  TORCH_ARG(std::string, log_dir) = "";
  // When a rank fails (non-zero exit or a signal), kill the others (torchrun's behaviour).
  TORCH_ARG(bool, stop_all_on_failure) = true;
  // After this long, the ranks still running are killed; 0: wait as long as they run.
  TORCH_ARG(std::chrono::milliseconds, deadline) = std::chrono::milliseconds(0);
};

struct RankExit {
  int64_t rank = 0;
  bool exited = false;  // ended by itself, not killed by the launcher
  int exit_code = -1;   // when it returned or called exit
  int signal = 0;       // when a signal ended it
  double seconds = 0;   // from the start of the launch to its end
  bool succeeded() const { return exited && signal == 0 && exit_code == 0; }
};

// A TCP port on this address that was free a moment ago (bound to port 0, then released).
int free_port(const std::string& address = "127.0.0.1");

// Starts nproc copies of program with arguments, waits for them, returns one result per rank.
std::vector<RankExit> launch_local(const std::string& program,
                                   const std::vector<std::string>& arguments,
                                   const LaunchOptions& options);

}  // namespace eiprop
