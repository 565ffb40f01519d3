#include "support/command_line.h"

#include "support/device.h"

#include <benchmark/benchmark.h>
#include <torch/version.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace eiprop {
namespace bench {
namespace {

// benchmark::Initialize prints the help through a plain function pointer.
const CLI::App* help_app = nullptr;

void print_help() {
  std::cout << help_app->help() << "\n";
  std::cout.flush();
  benchmark::PrintDefaultHelp();
}

}  // namespace

int parse_command_line(CLI::App& app, int argc, char** argv,
                       const std::vector<std::string>& benchmark_defaults) {
  // argv[0] stays the caller's: Google Benchmark keeps the pointer for its report's context.
  std::vector<std::string> defaults = benchmark_defaults;
  std::vector<char*> args{argv[0]};
  for (auto& flag : defaults) args.push_back(flag.data());
  args.insert(args.end(), argv + 1, argv + argc);
  args.push_back(nullptr);
  int count = static_cast<int>(args.size()) - 1;
  // Named before parsing, for the help that Google Benchmark's --help prints first.
  app.name(std::filesystem::path(argv[0]).filename().string());
  app.footer("Google Benchmark's flags (--benchmark_*=VALUE) are accepted too; --help lists them.");
  help_app = &app;
  benchmark::Initialize(&count, args.data(), print_help);

  // One line per usage error: the program, then CLI11's message, which names the flag.
  app.failure_message([](const CLI::App* failed, const CLI::Error& error) {
    return failed->get_name() + ": " + error.what() + "\n";
  });
  try {
    app.parse(count, args.data());
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kUsageError;
  }
  return -1;
}

int usage_error(const CLI::App& app, const std::string& problem) {
  std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), problem.c_str());
  return kUsageError;
}

void add_device_flags(CLI::App& app, CommonFlags& flags) {
  app.add_option("--device", flags.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--dtype", flags.dtype, "float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
}

void add_comparison_flags(CLI::App& app, CommonFlags& flags) {
  add_device_flags(app, flags);
  app.add_option("--repetitions", flags.repetitions,
                 "timed steps of each contestant (medians reported); Google Benchmark's "
                 "--benchmark_repetitions does not apply")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--warmup", flags.warmup, "untimed steps of each contestant first")
      ->capture_default_str()
      ->check(kNonNegative);
  app.add_option("--threads", flags.threads, "LibTorch intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(kNonNegative);
  app.add_option("--clock", flags.clock,
                 "the table's ratios from wall: real time; cpu: this process's CPU time (CPU "
                 "device only; for a machine shared with other work, with --threads 1). Google "
                 "Benchmark reports both")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_option("--json", flags.json,
                 "also write Google Benchmark's JSON (every repetition, medians, machine context) "
                 "with the ratios (aggregates named ..._ratio_to_autograd) to this file");
}

int apply_common_flags(const CLI::App& app, const CommonFlags& flags, torch::Device& device,
                       torch::Dtype& dtype) {
  try {
    device = parse_device(flags.device);
    dtype = parse_dtype(flags.dtype);
  } catch (const std::invalid_argument& error) {
    return usage_error(app, error.what());
  }
  if (flags.clock == "cpu" && !device.is_cpu()) {
    return usage_error(app, "--clock cpu times CPU work only; use --clock wall on " +
                                device.str());
  }
  if (flags.threads > 0) torch::set_num_threads(flags.threads);
  benchmark::AddCustomContext("eiprop.device", device.str());
  benchmark::AddCustomContext("eiprop.dtype", flags.dtype);
  if (app.get_option_no_throw("--clock")) benchmark::AddCustomContext("eiprop.clock", flags.clock);
  benchmark::AddCustomContext("libtorch", TORCH_VERSION);
  benchmark::AddCustomContext("libtorch_threads", std::to_string(at::get_num_threads()));
  return -1;
}

}  // namespace bench
}  // namespace eiprop
