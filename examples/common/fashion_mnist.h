// Fashion-MNIST from Debian's dataset-fashion-mnist package, read through LibTorch's MNIST
// dataset reader after a one-time decompression of the IDX files into a cache directory.
#pragma once

#include <CLI/CLI.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include <stdexcept>
#include <string>

namespace eiprop {
namespace examples {

constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Split {
  torch::Tensor images;  // [N, 784], in [0, 1]
  torch::Tensor labels;  // [N], int64 in 0..9
};

// Thrown when the dataset's files are not installed (examples exit with kMissingData).
struct MissingData : std::runtime_error {
  using std::runtime_error::runtime_error;
};
constexpr int kMissingData = 77;  // ctest's SKIP_RETURN_CODE for the example smoke tests

// Decompresses <data_dir>/*-idx?-ubyte.gz into cache_dir (once) and loads one split.
Split load_fashion_mnist(const std::string& data_dir, const std::string& cache_dir, bool train);

// The flags --data-dir and --cache-dir (where load_fashion_mnist reads and decompresses).
void add_fashion_mnist_options(CLI::App& app, std::string& data_dir, std::string& cache_dir);

}  // namespace examples
}  // namespace eiprop
