#include "support/device.h"

#include <torch/cuda.h>

#include <stdexcept>

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

const char* dtype_name(torch::Dtype dtype) {
  return dtype == torch::kFloat64 ? "float64" : "float32";
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

}  // namespace bench
}  // namespace eiprop
