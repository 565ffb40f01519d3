// Intra-op threads sized to the cores that are free. LibTorch's default, one thread per core,
// makes every parallel operation wait at its barrier for the thread whose core another process
// holds: on the 2-core build machine with one busy core, the Fashion-MNIST A/B ran about 25 times
// slower than idle. A program that starts with some cores busy therefore takes only the free
// ones (at least one); README, "Under load", has the measured times.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace eiprop {
namespace examples {

struct ThreadChoice {
  int threads = 1;
  std::string why;  // e.g. "2 cores, 1 busy at start"
};

// requested > 0: that many. requested == 0 (auto): the cores this process may run on, less
// those busy with other runnable processes at start (/proc/stat procs_running), at least 1.
ThreadChoice choose_threads(int requested);

// The flag --threads N (0, the default: the cores free at start), into `threads`.
CLI::Option* add_threads_option(CLI::App& app, int& threads);

// choose_threads, applied with torch::set_num_threads; returns the choice.
ThreadChoice set_intra_op_threads(int requested);

}  // namespace examples
}  // namespace eiprop
