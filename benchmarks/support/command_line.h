// The benchmarks' command lines. Google Benchmark takes its own flags (--benchmark_*=VALUE) out of
// argv first; CLI11 parses what is left, so that an unknown or misspelt flag is a usage error:
// one line on stderr naming it, exit code 2.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace eiprop {
namespace bench {

constexpr int kUsageError = 2;

// Parses argv: Google Benchmark's flags, then `app`'s. `benchmark_defaults` are Google Benchmark
// flags placed before the user's, so that the user's own win. --help prints `app`'s help and
// Google Benchmark's flags. Returns the code the program should exit with now (0 after --help,
// kUsageError after a usage error, whose message has been printed), or -1 to go on.
int parse_command_line(CLI::App& app, int argc, char** argv,
                       const std::vector<std::string>& benchmark_defaults = {});

// Prints "<program>: <problem>" on stderr and returns kUsageError, for the checks CLI11 cannot
// make (e.g. that this LibTorch sees a CUDA device).
int usage_error(const CLI::App& app, const std::string& problem);

}  // namespace bench
}  // namespace eiprop
