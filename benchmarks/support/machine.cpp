#include "support/machine.h"

#include <torch/version.h>

#include <fstream>
#include <thread>

namespace eiprop {
namespace bench {

Machine describe_machine(const torch::Device& device) {
  Machine machine;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) machine.cpu = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  if (machine.cpu.empty()) machine.cpu = "unknown";
  machine.cores = std::thread::hardware_concurrency();
  machine.torch_threads = at::get_num_threads();
  machine.torch = TORCH_VERSION;
  machine.device = device.str();
  return machine;
}

}  // namespace bench
}  // namespace eiprop
