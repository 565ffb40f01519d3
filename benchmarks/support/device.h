// The device and dtype a benchmark runs on, and waiting for the device's queued work.
#pragma once

#include <torch/types.h>
#include <torch/utils.h>

#include <string>

namespace eiprop {
namespace bench {

// "cpu", "cuda" or "cuda:N"; throws std::invalid_argument when CUDA is asked for and this
// LibTorch sees no CUDA device.
torch::Device parse_device(const std::string& name);
// "float32" or "float64"; throws std::invalid_argument otherwise.
torch::Dtype parse_dtype(const std::string& name);
const char* dtype_name(torch::Dtype dtype);

// Waits for the device's queued work (torch::cuda::synchronize); a no-op on CPU. Google
// Benchmark's clock runs on the host, so a timed step ends with this to cover its CUDA kernels.
void synchronize(const torch::Device& device);

}  // namespace bench
}  // namespace eiprop
