// eiprop_bench_recurrent: on a recurrent circuit, the rule's learning step (firing relaxation,
// credit relaxation, plasticity) against backprop through the unrolled firing iterations, for a
// growing number of iterations, as Google Benchmark runs interleaved in random order in one
// process: time, memory held between the forward and backward stages, and the gap between the
// two gradients, then a table of them.
#include "support/command_line.h"
#include "support/interleaved.h"
#include "support/recurrent_comparison.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

int main(int argc, char** argv) {
  using namespace eiprop::bench;
  CLI::App app{"eiprop_bench_recurrent: credit relaxation against backprop through the unrolled "
               "firing iterations on a recurrent circuit (input -> hidden <-> hidden -> output)"};
  RecurrentOptions options;
  std::vector<int64_t> iterations{10, 100, 1000};
  CommonFlags flags;
  flags.repetitions = options.repetitions;
  flags.warmup = options.warmup;
  app.add_option("--iterations", iterations, "iteration counts")
      ->delimiter(',')
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--input", options.input, "input width")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--hidden", options.hidden, "recurrent hidden width")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--output", options.output, "output width")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--batch", options.batch, "batch size")
      ->capture_default_str()
      ->check(kPositive);
  app.add_option("--radius", options.recurrent_radius,
                 "spectral radius of the hidden self-projection")
      ->capture_default_str();
  add_comparison_flags(app, flags);
  const int parsed = parse_command_line(app, argc, argv, interleaved_defaults());
  if (parsed >= 0) return parsed;
  const int applied = apply_common_flags(app, flags, options.device, options.dtype);
  if (applied >= 0) return applied;
  options.repetitions = flags.repetitions;
  options.warmup = flags.warmup;
  options.cpu_clock = flags.clock == "cpu";

  benchmark::AddCustomContext(
      "eiprop.circuit",
      fmt::format("{} -> {} (self, radius {}) -> {}, batch {}", options.input, options.hidden,
                  options.recurrent_radius, options.output, options.batch));
  RecurrentComparison comparison(options, iterations);
  comparison.register_benchmarks();
  try {
    if (!run_interleaved([&](const Medians& medians) { return comparison.derive(medians); },
                         flags.json)) {
      fmt::print(stderr, "eiprop_bench_recurrent: could not write {}\n", flags.json);
      return 1;
    }
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench_recurrent: {}\n", error.what_without_backtrace());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
