#include "support/timing.h"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <time.h>

namespace eiprop {
namespace bench {

torch::Device parse_device(const std::string& name) {
  const torch::Device device = [&] {
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw std::invalid_argument("device '" + name + "' is not a device (cpu, cuda or cuda:N)");
    }
  }();
  if (!device.is_cpu() && !device.is_cuda()) {
    throw std::invalid_argument("device '" + name + "': only cpu and cuda are benchmarked");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw std::invalid_argument("device '" + name + "': this LibTorch sees no CUDA device");
  }
  return device;
}

torch::Dtype parse_dtype(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  throw std::invalid_argument("dtype '" + name + "' is not float32 or float64");
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

Clock parse_clock(const std::string& name) {
  if (name == "wall") return Clock::wall;
  if (name == "cpu") return Clock::cpu;
  throw std::invalid_argument("clock '" + name + "' is not wall or cpu");
}

namespace {
double process_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
}
}  // namespace

double time_ms(const torch::Device& device, const std::function<void()>& run, Clock clock) {
  if (clock == Clock::cpu) {
    if (!device.is_cpu()) {
      throw std::invalid_argument("the cpu clock times CPU work only; use the wall clock on " +
                                  device.str());
    }
    const double start = process_cpu_ms();
    run();
    return process_cpu_ms() - start;
  }
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  run();
  synchronize(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const auto middle = values.begin() + values.size() / 2;
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  return 0.5 * (*middle + *std::max_element(values.begin(), middle));
}

}  // namespace bench
}  // namespace eiprop
