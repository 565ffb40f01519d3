// Contestants compared with each other, run by Google Benchmark: the repetitions of all of them
// are interleaved in random order in one process (--benchmark_enable_random_interleaving), so
// that load on the machine affects all alike, and the comparison (their ratios) is derived from
// Google Benchmark's medians once every contestant has run. The derived rows are Google
// Benchmark aggregates themselves, so that the JSON report holds them next to the runs and the
// machine's context.
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

using Run = benchmark::BenchmarkReporter::Run;

// The Google Benchmark flags the comparison programs start from (the user's own come after and
// win): random interleaving on.
std::vector<std::string> interleaved_defaults();

// Every repetition of a contestant is one step (Iterations(1)), so that all contestants take the
// same number of steps (their weights are compared afterwards); cpu_time is the process's CPU
// time, all LibTorch threads.
benchmark::internal::Benchmark* configure_contestant(benchmark::internal::Benchmark* benchmark,
                                                     int repetitions);

struct Median {
  double real_ms = 0.0;
  double cpu_ms = 0.0;
  Run run;  // Google Benchmark's median aggregate, or the only run when there is one repetition
};

// Medians of the runs reported so far, by the name each benchmark was registered with.
class Medians {
 public:
  void record(const std::vector<Run>& runs);
  const Median* find(const std::string& name) const;

 private:
  std::map<std::string, Median> medians_;
};

// An aggregate of `base`'s benchmark named `<base's name>_<aggregate_name>`, holding the ratios
// of two medians as Google Benchmark holds its coefficient of variation (a fraction in
// real_time and cpu_time), and `counters`.
Run ratio_aggregate(const Median& base, const Median& reference, const std::string& aggregate_name,
                    const benchmark::UserCounters& counters);

// What a program derives from the medians: aggregates for the JSON, a text table for the console.
struct Derived {
  std::vector<Run> aggregates;
  std::string table;
};

// Runs the registered benchmarks. Google Benchmark's console report (each contestant's
// aggregates) goes to stdout, followed by the derived table; with `json_path`, Google Benchmark's
// JSON (every repetition, the aggregates, the machine's context) plus the derived aggregates go
// into that file. `derive` is called once, after the last run. Returns false when `json_path`
// cannot be written.
bool run_interleaved(const std::function<Derived(const Medians&)>& derive,
                     const std::string& json_path);

}  // namespace bench
}  // namespace eiprop
