// Fashion-MNIST from Debian's dataset-fashion-mnist package, read through LibTorch's MNIST
// dataset reader after a one-time decompression of the IDX files into a cache directory.
#pragma once

#include <torch/torch.h>

#include <string>

namespace eiprop {
namespace examples {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Split {
  torch::Tensor images;  // [N, 784], in [0, 1]
  torch::Tensor labels;  // [N], int64 in 0..9
};

// Decompresses <data_dir>/*-idx?-ubyte.gz into cache_dir (once) and loads one split.
Split load_fashion_mnist(const std::string& data_dir, const std::string& cache_dir, bool train);

}  // namespace examples
}  // namespace eiprop
