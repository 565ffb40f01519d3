#include "common/threads.h"

#include "common/command_line.h"

#include <torch/utils.h>

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace eiprop {
namespace examples {
namespace {

// Cores this process may run on (its affinity mask; the hardware count where that is unknown).
int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runnable processes other than this one, right now (-1 when /proc/stat cannot be read).
int other_runnable() {
  std::ifstream stat("/proc/stat");
  std::string line;
  while (std::getline(stat, line)) {
    std::istringstream fields(line);
    std::string key;
    int count = 0;
    if (fields >> key >> count && key == "procs_running") return std::max(0, count - 1);
  }
  return -1;
}

}  // namespace

ThreadChoice choose_threads(int requested) {
  if (requested > 0) return {requested, "as requested (--threads)"};
  const int cores = usable_cores();
  const int busy = other_runnable();
  if (busy < 0) return {cores, std::to_string(cores) + " cores (load unknown)"};
  const int threads = std::max(1, cores - busy);
  return {threads, std::to_string(cores) + " cores, " + std::to_string(std::min(busy, cores)) +
                       " busy at start"};
}

CLI::Option* add_threads_option(CLI::App& app, int& threads) {
  return app.add_option("--threads", threads,
                        "LibTorch intra-op threads (0: the cores free at start, at least 1)")
      ->capture_default_str()
      ->check(non_negative());
}

ThreadChoice set_intra_op_threads(int requested) {
  const auto choice = choose_threads(requested);
  torch::set_num_threads(choice.threads);
  return choice;
}

}  // namespace examples
}  // namespace eiprop
