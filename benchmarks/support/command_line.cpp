#include "support/command_line.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

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

}  // namespace bench
}  // namespace eiprop
