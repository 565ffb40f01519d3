// What the examples' main() functions share: the clock their timings read, and how an error
// that escapes the program ends it.
#pragma once

#include "common/fashion_mnist.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>

namespace eiprop {
namespace examples {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs the program's body after its command line is parsed. An error ends it with one line
// "<program>: <what>" on stderr and exit code 1, or kMissingData (ctest's skip) when the dataset
// is not installed; otherwise the exit code is 0.
inline int run_program(const char* program, const std::function<void()>& body) {
  try {
    body();
  } catch (const MissingData& error) {
    std::fprintf(stderr, "%s: %s\n", program, error.what());
    return kMissingData;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", program, error.what());
    return 1;
  }
  return 0;
}

}  // namespace examples
}  // namespace eiprop
