// The examples' command lines: CLI11 parses and validates every flag before a program starts, and
// every usage error ends the program the same way: one line naming the flag, exit code 2.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace eiprop {
namespace examples {

constexpr int kUsageError = 2;

// Parses argv into `app`. Returns the code the program should exit with now (0 after --help,
// kUsageError after a usage error, whose message CLI11 has printed), or -1 to go on.
int parse_command_line(CLI::App& app, int argc, char** argv);

// Prints "<program>: <flag> <problem>" on stderr and returns kUsageError, for the checks that
// need more than one flag (e.g. --train-limit against --batch).
int usage_error(const CLI::App& app, const std::string& flag, const std::string& problem);

// A flag that names a LibTorch device: cpu, cuda or cuda:N.
CLI::Validator device_name();

// Number flags (each element of a list flag): "must be > 0, got -3" / "must be >= 0, got -1".
CLI::Validator positive();
CLI::Validator non_negative();

// The flag `name` into `value`, which (each element of a list) must be > 0; --help shows its
// default. The common case of the examples' numeric flags, declared in one line each.
template <typename T>
CLI::Option* add_positive_option(CLI::App& app, const std::string& name, T& value,
                                 const std::string& description) {
  return app.add_option(name, value, description)->capture_default_str()->check(positive());
}

}  // namespace examples
}  // namespace eiprop
