#include "common/command_line.h"

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <cstdio>
#include <exception>
#include <filesystem>

namespace eiprop {
namespace examples {

int parse_command_line(CLI::App& app, int argc, char** argv) {
  // One line per usage error: CLI11's message, which names the flag.
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string(error.what()) + "\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kUsageError;
  }
  return -1;
}

int usage_error(const CLI::App& app, const std::string& flag, const std::string& problem) {
  const auto program = std::filesystem::path(app.get_name()).filename().string();
  std::fprintf(stderr, "%s: %s %s\n", program.c_str(), flag.c_str(), problem.c_str());
  return kUsageError;
}

CLI::Validator device_name() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        try {
          c10::Device device(name);
          (void)device;
          return "";
        } catch (const c10::Error&) {
          return "'" + name + "' is not a device; expected cpu, cuda or cuda:N";
        }
      },
      "DEVICE");
}

namespace {

// Accepts a number for which `accept(value)` holds; otherwise "must be <bound>, got <text>".
template <typename Accept>
CLI::Validator number(const char* bound, const char* description, Accept accept) {
  return CLI::Validator(
      [bound, accept](std::string& text) -> std::string {
        double value = 0.0;
        try {
          size_t used = 0;
          value = std::stod(text, &used);
          if (used != text.size()) return "must be a number, got '" + text + "'";
        } catch (const std::exception&) {
          return "must be a number, got '" + text + "'";
        }
        return accept(value) ? "" : std::string("must be ") + bound + ", got " + text;
      },
      description);
}

}  // namespace

CLI::Validator positive() {
  return number("> 0", "POSITIVE", [](double value) { return value > 0; });
}

CLI::Validator non_negative() {
  return number(">= 0", "NON-NEGATIVE", [](double value) { return value >= 0; });
}

}  // namespace examples
}  // namespace eiprop
