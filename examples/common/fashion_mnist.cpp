#include "fashion_mnist.h"

#include <torch/data/datasets/mnist.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace eiprop {
namespace examples {
namespace {

void gunzip(const std::filesystem::path& source, const std::filesystem::path& target) {
  gzFile in = gzopen(source.c_str(), "rb");
  if (in == nullptr) throw std::runtime_error("cannot open " + source.string());
  const auto partial = target.string() + ".partial";
  std::ofstream out(partial, std::ios::binary);
  char buffer[1 << 16];
  int read = 0;
  while ((read = gzread(in, buffer, sizeof buffer)) > 0) out.write(buffer, read);
  const bool failed = read < 0;
  gzclose(in);
  out.close();
  if (failed || !out) throw std::runtime_error("cannot decompress " + source.string());
  std::filesystem::rename(partial, target);  // complete files only
}

}  // namespace

Split load_fashion_mnist(const std::string& data_dir, const std::string& cache_dir, bool train) {
  namespace fs = std::filesystem;
  fs::create_directories(cache_dir);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    const fs::path target = fs::path(cache_dir) / name;
    if (fs::exists(target)) continue;
    const fs::path source = fs::path(data_dir) / (std::string(name) + ".gz");
    if (!fs::exists(source)) {
      throw MissingData(source.string() +
                        " not found: install Debian's dataset-fashion-mnist package");
    }
    gunzip(source, target);
  }
  torch::data::datasets::MNIST dataset(
      cache_dir, train ? torch::data::datasets::MNIST::Mode::kTrain
                       : torch::data::datasets::MNIST::Mode::kTest);
  return {dataset.images().reshape({dataset.images().size(0), -1}), dataset.targets()};
}

void add_fashion_mnist_options(CLI::App& app, std::string& data_dir, std::string& cache_dir) {
  app.add_option("--data-dir", data_dir, "directory of the Fashion-MNIST .gz files")
      ->capture_default_str();
  app.add_option("--cache-dir", cache_dir, "where the decompressed IDX files go")
      ->capture_default_str();
}

}  // namespace examples
}  // namespace eiprop
