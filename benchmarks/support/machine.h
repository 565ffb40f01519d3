// What a benchmark ran on, for its report.
#pragma once

#include <torch/types.h>
#include <torch/utils.h>

#include <string>

namespace eiprop {
namespace bench {

struct Machine {
  std::string cpu;       // /proc/cpuinfo's model name
  unsigned cores = 0;    // hardware threads
  int torch_threads = 0; // at::get_num_threads()
  std::string torch;     // LibTorch version
  std::string device;    // the device benchmarked
};

Machine describe_machine(const torch::Device& device);

}  // namespace bench
}  // namespace eiprop
