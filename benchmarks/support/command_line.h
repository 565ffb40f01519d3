// The benchmarks' command lines. Google Benchmark takes its own flags (--benchmark_*=VALUE) out of
// argv first; CLI11 parses what is left, so that an unknown or misspelt flag is a usage error:
// one line on stderr naming it, exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include <limits>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

constexpr int kUsageError = 2;

// Integer flags. (CLI11's PositiveNumber names the largest double in its message.)
const CLI::Range kPositive(1, std::numeric_limits<int>::max());
const CLI::Range kNonNegative(0, std::numeric_limits<int>::max());

// Parses argv: Google Benchmark's flags, then `app`'s. `benchmark_defaults` are Google Benchmark
// flags placed before the user's, so that the user's own win. --help prints `app`'s help and
// Google Benchmark's flags. Returns the code the program should exit with now (0 after --help,
// kUsageError after a usage error, whose message has been printed), or -1 to go on.
int parse_command_line(CLI::App& app, int argc, char** argv,
                       const std::vector<std::string>& benchmark_defaults = {});

// Prints "<program>: <problem>" on stderr and returns kUsageError, for the checks CLI11 cannot
// make (e.g. that this LibTorch sees a CUDA device).
int usage_error(const CLI::App& app, const std::string& problem);

// The flags the programs share: --device and --dtype (all), --repetitions, --warmup, --threads,
// --clock and --json (the interleaved comparisons).
struct CommonFlags {
  std::string device = "cpu";
  std::string dtype = "float32";
  int repetitions = 0;
  int warmup = 0;
  int threads = 0;
  std::string clock = "wall";
  std::string json;
};
void add_device_flags(CLI::App& app, CommonFlags& flags);
// `flags.repetitions` and `flags.warmup` hold their defaults.
void add_comparison_flags(CLI::App& app, CommonFlags& flags);

// After parsing: the device and dtype (a usage error when this LibTorch sees no CUDA device),
// the clock against the device, LibTorch's thread count; then the report's context (eiprop.*,
// libtorch, libtorch_threads). Returns kUsageError after a usage error, or -1 to go on.
int apply_common_flags(const CLI::App& app, const CommonFlags& flags, torch::Device& device,
                       torch::Dtype& dtype);

}  // namespace bench
}  // namespace eiprop
