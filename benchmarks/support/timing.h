// Wall-clock timing that covers queued device work, and the statistics the benchmarks report.
#pragma once

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <functional>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

// "cpu", "cuda" or "cuda:N"; throws std::invalid_argument when CUDA is asked for and this
// LibTorch sees no CUDA device.
torch::Device parse_device(const std::string& name);
// "float32" or "float64"; throws std::invalid_argument otherwise.
torch::Dtype parse_dtype(const std::string& name);

// Waits for the device's queued work (torch::cuda::synchronize); a no-op on CPU.
void synchronize(const torch::Device& device);

// wall: elapsed real time. cpu: CPU time of this process, all its threads (CPU devices only);
// on a machine shared with other work it counts the step's own work, not the time the
// scheduler gave to other processes.
enum class Clock { wall, cpu };
// "wall" or "cpu"; throws std::invalid_argument otherwise.
Clock parse_clock(const std::string& name);

// Milliseconds that `run` takes, from a synchronized start to a synchronized end.
double time_ms(const torch::Device& device, const std::function<void()>& run,
               Clock clock = Clock::wall);

double median(std::vector<double> values);

}  // namespace bench
}  // namespace eiprop
