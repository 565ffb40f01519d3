#include "support/interleaved.h"

#include <fstream>
#include <memory>
#include <optional>

#include <unistd.h>

namespace eiprop {
namespace bench {
namespace {

double milliseconds(double time, benchmark::TimeUnit unit) {
  return time / benchmark::GetTimeUnitMultiplier(unit) * 1e3;
}

// The medians, and what is derived from them once, shared by the console and the JSON reporter.
class Session {
 public:
  explicit Session(const std::function<Derived(const Medians&)>& derive) : derive_(derive) {}
  Medians medians;
  const Derived& derived() {
    if (!derived_) derived_ = derive_(medians);
    return *derived_;
  }

 private:
  const std::function<Derived(const Medians&)>& derive_;
  std::optional<Derived> derived_;
};

class JsonReporter : public benchmark::JSONReporter {
 public:
  explicit JsonReporter(Session& session) : session_(session) {}
  void Finalize() override {
    JSONReporter::ReportRuns(session_.derived().aggregates);
    JSONReporter::Finalize();
  }

 private:
  Session& session_;
};

// Google Benchmark's console report, the derived table after it, and the JSON file when asked
// for. Google Benchmark takes one display reporter and writes its own file reporter only to
// --benchmark_out, without the derived aggregates; this one feeds both.
class Reporter : public benchmark::ConsoleReporter {
 public:
  Reporter(Session& session, std::ostream* json)
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Color : OO_None), session_(session) {
    if (json) {
      json_ = std::make_unique<JsonReporter>(session);
      json_->SetOutputStream(json);
    }
  }
  bool ReportContext(const Context& context) override {
    const bool go_on = ConsoleReporter::ReportContext(context);
    return json_ ? json_->ReportContext(context) && go_on : go_on;
  }
  // Google Benchmark reports a contestant's repetitions, then its aggregates. The console shows
  // the aggregates only (as --benchmark_display_aggregates_only would, but that flag would keep
  // the repetitions from this reporter, hence from the JSON too); the JSON gets everything.
  void ReportRuns(const std::vector<Run>& runs) override {
    session_.medians.record(runs);
    if (json_) json_->ReportRuns(runs);
    const bool repetitions = !runs.empty() && runs.front().run_type == Run::RT_Iteration &&
                             runs.front().repetitions > 1;
    if (!repetitions) ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    GetOutputStream() << "\n" << session_.derived().table;
    ConsoleReporter::Finalize();
    if (json_) json_->Finalize();
  }

 private:
  Session& session_;
  std::unique_ptr<JsonReporter> json_;
};

}  // namespace

std::vector<std::string> interleaved_defaults() {
  return {"--benchmark_enable_random_interleaving=true"};
}

benchmark::internal::Benchmark* configure_contestant(benchmark::internal::Benchmark* benchmark,
                                                     int repetitions) {
  return benchmark->Iterations(1)
      ->Repetitions(repetitions)
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
}

void Medians::record(const std::vector<Run>& runs) {
  for (const auto& run : runs) {
    if (run.error_occurred) continue;
    // With one repetition Google Benchmark computes no aggregates: that run is the median.
    const bool median = run.run_type == Run::RT_Aggregate
                            ? run.aggregate_name == "median"
                            : run.repetitions <= 1;
    if (!median) continue;
    medians_[run.run_name.function_name] = {
        milliseconds(run.GetAdjustedRealTime(), run.time_unit),
        milliseconds(run.GetAdjustedCPUTime(), run.time_unit), run};
  }
}

const Median* Medians::find(const std::string& name) const {
  const auto found = medians_.find(name);
  return found == medians_.end() ? nullptr : &found->second;
}

Run ratio_aggregate(const Median& base, const Median& reference, const std::string& aggregate_name,
                    const benchmark::UserCounters& counters) {
  Run run = base.run;
  run.run_type = Run::RT_Aggregate;
  run.aggregate_name = aggregate_name;
  run.aggregate_unit = benchmark::kPercentage;
  run.repetition_index = Run::no_repetition_index;
  run.real_accumulated_time = base.real_ms / reference.real_ms;
  run.cpu_accumulated_time = base.cpu_ms / reference.cpu_ms;
  run.counters = counters;
  return run;
}

bool run_interleaved(const std::function<Derived(const Medians&)>& derive,
                     const std::string& json_path) {
  Session session(derive);
  std::ofstream json;
  if (!json_path.empty()) {
    json.open(json_path);
    if (!json) return false;
  }
  Reporter reporter(session, json_path.empty() ? nullptr : &json);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  json.flush();
  return json_path.empty() || static_cast<bool>(json);
}

}  // namespace bench
}  // namespace eiprop
