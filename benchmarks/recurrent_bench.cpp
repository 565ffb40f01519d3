// eiprop_bench_recurrent: on a recurrent circuit, the rule's learning step (firing relaxation,
// credit relaxation, plasticity) against backprop through the unrolled firing iterations, for a
// growing number of iterations: time (interleaved, medians), memory held between the forward
// and backward stages, and the gap between the two gradients.
#include "support/recurrent_comparison.h"

#include <CLI/CLI.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include <fstream>
#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
  using namespace eiprop::bench;
  CLI::App app{"eiprop_bench_recurrent: credit relaxation against backprop through the unrolled "
               "firing iterations on a recurrent circuit (input -> hidden <-> hidden -> output)"};
  RecurrentOptions options;
  std::vector<int64_t> iterations{10, 100, 1000};
  std::string device_name = "cpu", dtype_name = "float32", clock_name = "wall", json_path;
  app.add_option("--iterations", iterations, "iteration counts")->delimiter(',')->capture_default_str();
  app.add_option("--input", options.input, "input width")->capture_default_str();
  app.add_option("--hidden", options.hidden, "recurrent hidden width")->capture_default_str();
  app.add_option("--output", options.output, "output width")->capture_default_str();
  app.add_option("--batch", options.batch, "batch size")->capture_default_str();
  app.add_option("--radius", options.recurrent_radius,
                 "spectral radius of the hidden self-projection")->capture_default_str();
  app.add_option("--repetitions", options.repetitions, "timed repetitions")->capture_default_str();
  app.add_option("--warmup", options.warmup, "untimed repetitions first")->capture_default_str();
  app.add_option("--device", device_name, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--dtype", dtype_name, "float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--clock", clock_name, "wall or cpu (CPU time of this process)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_option("--json", json_path, "also write the rows as JSON here");
  CLI11_PARSE(app, argc, argv);
  try {
    options.device = parse_device(device_name);
    options.dtype = parse_dtype(dtype_name);
    options.clock = parse_clock(clock_name);
  } catch (const std::invalid_argument& error) {
    std::cerr << error.what() << "\n";
    return 2;
  }
  std::cout << "recurrent circuit " << options.input << " -> " << options.hidden << " (self, radius "
            << options.recurrent_radius << ") -> " << options.output << ", batch " << options.batch
            << ", " << dtype_name << " on " << options.device << "\n";
  const auto rows = compare_recurrent(options, iterations);
  std::cout << recurrent_table(rows);
  if (!json_path.empty()) std::ofstream(json_path) << recurrent_json(rows, options);
  return 0;
}
