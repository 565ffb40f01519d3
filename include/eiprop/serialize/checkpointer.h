// Checkpointer: periodic, atomic, checksummed training checkpoints — module parameters and
// buffers, optimizer state, RNG state and the data-loader position — keeping the last K.
//
//   eiprop::Checkpointer checkpoints("ckpt", eiprop::CheckpointerOptions().every(100).keep(3));
//   int64_t step = 0, position = 0;
//   if (auto resumed = checkpoints.load_latest(*net, optimizer)) {
//     step = resumed->step; position = resumed->loader_position;
//   }
//   for (; step < steps; ++step) {
//     ... one training step ...
//     checkpoints.maybe_save(step + 1, *net, optimizer, /*loader_position=*/...);
//   }
//
// A checkpoint is one file `<prefix>-<step>.ckpt`: a fixed header (magic, format version, step,
// payload size, CRC-32 of the payload) followed by the payload, a LibTorch archive. It is written
// to `<file>.tmp`, flushed and fsync'ed, renamed over the final name and the directory fsync'ed,
// so a crash (even SIGKILL mid-write) leaves either the complete new file or none. A file whose
// header, size or checksum does not match is refused with an error naming the file and the
// reason; load_latest then falls back to the next older checkpoint.
#pragma once

#include <ATen/core/Generator.h>
#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace eiprop {

// The settings a checkpoint is only valid for (name, value), in the order they are reported.
using CheckpointConfiguration = std::vector<std::pair<std::string, std::string>>;

struct CheckpointerOptions {
  // Save when the step is a positive multiple of `every`.
  TORCH_ARG(int64_t, every) = 1000;
  // Keep the newest `keep` checkpoints; older ones are deleted after each save.
  TORCH_ARG(int64_t, keep) = 3;
  // File names are `<prefix>-<step, 12 digits>.ckpt`.
  TORCH_ARG(std::string, prefix) = "checkpoint";
  // Also save and restore the default CPU generator's state (torch::manual_seed's generator).
  TORCH_ARG(bool, save_default_generator) = true;
  // The configuration the run was started with (network widths, activation, data, ...). Every
  // checkpoint records it, and a load refuses, before it changes anything, a checkpoint written
  // with another configuration, naming the file and each setting that differs.
  TORCH_ARG(CheckpointConfiguration, configuration);
};

// Where training stands in a checkpoint.
struct TrainingPosition {
  int64_t step = 0;             // the step given to save()
  int64_t loader_position = 0;  // the data-loader position given to save()
  std::string path;             // the file it was read from
};

class Checkpointer {
 public:
  using Options = CheckpointerOptions;

  // Creates `directory` if needed and removes temporary files left by interrupted saves.
  explicit Checkpointer(std::string directory, Options options = {});

  // Further state saved with every checkpoint and restored by every load, under a unique name.
  // The objects must outlive the Checkpointer. Tensors are restored by assignment (the variable
  // then holds the saved values); generators by set_state.
  Checkpointer& track(const std::string& name, torch::nn::Module& module);
  Checkpointer& track(const std::string& name, torch::optim::Optimizer& optimizer);
  Checkpointer& track(const std::string& name, at::Generator generator);
  Checkpointer& track(const std::string& name, at::Tensor& tensor);

  // Saves when `step` is a positive multiple of options().every(); returns whether it saved.
  bool maybe_save(int64_t step, int64_t loader_position);
  bool maybe_save(int64_t step, const torch::nn::Module& module,
                  const torch::optim::Optimizer& optimizer, int64_t loader_position);
  // Saves unconditionally; returns the checkpoint's path.
  std::string save(int64_t step, int64_t loader_position);
  std::string save(int64_t step, const torch::nn::Module& module,
                   const torch::optim::Optimizer& optimizer, int64_t loader_position);

  // Loads the newest checkpoint that passes its checks; corrupt ones are reported (a warning
  // naming the file and the reason) and skipped. nullopt when there is none.
  c10::optional<TrainingPosition> load_latest();
  c10::optional<TrainingPosition> load_latest(torch::nn::Module& module,
                                              torch::optim::Optimizer& optimizer);
  // Loads one checkpoint file; throws c10::Error naming the file when it is truncated, damaged
  // or does not hold the tracked state.
  TrainingPosition load(const std::string& path);
  TrainingPosition load(const std::string& path, torch::nn::Module& module,
                        torch::optim::Optimizer& optimizer);

  // The checkpoint files in the directory, oldest first (by step).
  std::vector<std::string> checkpoints() const;

  const std::string& directory() const { return directory_; }
  const Options& options() const { return options_; }

 private:
  struct Entry {
    std::string name;
    torch::nn::Module* module = nullptr;
    torch::optim::Optimizer* optimizer = nullptr;
    c10::optional<at::Generator> generator;
    at::Tensor* tensor = nullptr;
  };
  std::vector<Entry> entries_with(torch::nn::Module* module,
                                  torch::optim::Optimizer* optimizer) const;
  std::string write(int64_t step, int64_t loader_position, const std::vector<Entry>& entries);
  TrainingPosition read(const std::string& path, const std::vector<Entry>& entries);
  c10::optional<TrainingPosition> read_latest(const std::vector<Entry>& entries);
  void prune() const;
  void check_configuration(const std::string& path, torch::serialize::InputArchive& archive) const;
  void add(Entry entry);

  std::string directory_;
  Options options_;
  std::vector<Entry> tracked_;
};

}  // namespace eiprop
