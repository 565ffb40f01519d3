// Wall-clock timing that covers queued device work, and the statistics the benchmarks report.
#pragma once

#include <torch/torch.h>

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

// Milliseconds that `run` takes, from a synchronized start to a synchronized end.
double time_ms(const torch::Device& device, const std::function<void()>& run);

double median(std::vector<double> values);

}  // namespace bench
}  // namespace eiprop
