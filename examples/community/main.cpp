// The community study: layered and recurrent circuits trained by the plasticity rule and, as the
// control, by autograd-SGD at the same learning rates, on Fashion-MNIST and on a two-task
// regression, and on the latter also by the three-timescale simulator (finite timescale
// separation); for
// each trained circuit the modularity Q of its |W| graph (Louvain and Leiden), the number of
// communities, and Q of the same circuit with its weights shuffled within each projection.
// Writes runs.csv, summary.csv, summary.json and the figures into --out.
#include "common/command_line.h"
#include "community/figures.h"
#include "community/study.h"
#include "community/tasks.h"
#include "community/training.h"
#include "common/fashion_mnist.h"
#include "common/program.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace {

using namespace eiprop::examples;
namespace analysis = eiprop::analysis;

// n learning rates spaced evenly in log between lo and hi.
std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> grid;
  for (int i = 0; i < n; ++i) {
    grid.push_back(n == 1 ? lo : lo * std::pow(hi / lo, static_cast<double>(i) / (n - 1)));
  }
  return grid;
}

TrainingSettings study_training() {
  TrainingSettings training;
  training.hidden = 32;
  training.epochs = 2;
  training.batch = 32;
  return training;
}

struct Settings {
  std::vector<std::string> tasks{"fashion", "two_task"};
  std::vector<std::string> circuits{"layered", "recurrent"};
  bool simulated = true;
  double lr_min = 1e-3, lr_max = 1.0;
  int lr_count = 6;
  std::vector<double> lrs;  // after parse: --lrs, or the grid from --lr-min to --lr-max
  int seeds = 5;
  TrainingSettings training = study_training();
  int64_t fashion_train = 3000, fashion_test = 2000;
  int64_t two_task_train = 2000, two_task_test = 1000, two_task_inputs = 8, two_task_outputs = 2;
  int64_t null_samples = 2;
  int threads = 1;
  std::string data_dir = kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/community";
};

// What is trained: tasks, circuits, learners, the simulator's timescales and the grid.
void add_study_options(CLI::App& app, Settings& s) {
  app.add_option("--tasks", s.tasks, "tasks: fashion, two_task")
      ->delimiter(',')
      ->check(CLI::IsMember({"fashion", "two_task"}))
      ->capture_default_str();
  app.add_option("--circuits", s.circuits,
                 "circuits: layered (input -> hidden -> output), recurrent (and hidden -> hidden)")
      ->delimiter(',')
      ->check(CLI::IsMember({"layered", "recurrent"}))
      ->capture_default_str();
  app.add_option("--simulated", s.simulated,
                 "also train squared-error tasks with the three-timescale simulator (finite "
                 "timescale separation)")
      ->capture_default_str();
  add_positive_option(app, "--tau-c", s.training.tau_c,
                      "simulator: credit time constant (tau_r = 1)");
  add_positive_option(app, "--presentation", s.training.presentation,
                      "simulator: time each batch is presented (tau_r = 1); tau_W = presentation "
                      "/ lr");
  add_positive_option(app, "--dt", s.training.dt, "simulator: Euler step (<= tau_c and 1)");
  add_positive_option(app, "--lr-min", s.lr_min, "smallest learning rate");
  add_positive_option(app, "--lr-max", s.lr_max, "largest learning rate");
  add_positive_option(app, "--lr-count", s.lr_count,
                      "learning rates, log-spaced from --lr-min to --lr-max");
  app.add_option("--lrs", s.lrs, "explicit learning rates, comma-separated (replaces the grid)")
      ->delimiter(',')
      ->check(positive());
  add_positive_option(app, "--seeds", s.seeds, "seeds per learning rate");
  add_positive_option(app, "--hidden", s.training.hidden, "neurons in the hidden population");
  app.add_option("--activation", s.training.activation, "hidden activation")
      ->capture_default_str();
  add_positive_option(app, "--epochs", s.training.epochs, "training epochs per run");
  add_positive_option(app, "--batch", s.training.batch, "batch size");
}

// The data, the null model, threads and where the files go.
void add_data_options(CLI::App& app, Settings& s) {
  app.add_option("--fashion-train", s.fashion_train,
                 "Fashion-MNIST training images (0: all 60000)")
      ->capture_default_str();
  app.add_option("--fashion-test", s.fashion_test, "Fashion-MNIST test images (0: all 10000)")
      ->capture_default_str();
  add_positive_option(app, "--two-task-train", s.two_task_train, "two-task training samples");
  add_positive_option(app, "--two-task-test", s.two_task_test, "two-task test samples");
  add_positive_option(app, "--two-task-inputs", s.two_task_inputs,
                      "inputs of each of the two tasks");
  add_positive_option(app, "--two-task-outputs", s.two_task_outputs,
                      "outputs of each of the two tasks");
  add_positive_option(app, "--null-samples", s.null_samples,
                      "shuffled copies per circuit and method");
  add_positive_option(app, "--threads", s.threads, "LibTorch intra-op threads");
  add_fashion_mnist_options(app, s.data_dir, s.cache_dir);
  app.add_option("--out", s.out_dir, "output directory (CSV, JSON, PNG)")->capture_default_str();
}

// Returns the code to exit with now (see parse_command_line), or -1 to go on.
int parse(int argc, char** argv, Settings& settings) {
  CLI::App app{
      "Community structure (modularity Q) of circuits trained by the plasticity rule versus "
      "the learning rate, with an autograd-SGD control and a weight-shuffle null model"};
  add_study_options(app, settings);
  add_data_options(app, settings);
  if (const int code = parse_command_line(app, argc, argv); code >= 0) return code;
  if (settings.lrs.empty()) {
    settings.lrs = log_grid(settings.lr_min, settings.lr_max, settings.lr_count);
  }
  return -1;
}

std::vector<Task> load_tasks(const Settings& s) {
  std::vector<Task> tasks;
  for (const auto& name : s.tasks) {
    if (name == "fashion") {
      tasks.push_back(fashion_mnist_task(s.data_dir, s.cache_dir, s.fashion_train, s.fashion_test));
    } else {
      tasks.push_back(two_task_regression(s.two_task_train, s.two_task_test, s.two_task_inputs,
                                          s.two_task_outputs, /*teacher_hidden=*/16,
                                          /*seed=*/20240521));
    }
  }
  return tasks;
}

std::vector<CircuitKind> circuit_kinds(const Settings& settings) {
  std::vector<CircuitKind> kinds;
  for (const auto& name : settings.circuits) {
    kinds.push_back(name == "layered" ? CircuitKind::layered : CircuitKind::recurrent);
  }
  return kinds;
}

std::vector<Learner> learners_of(const Task& task, const Settings& settings) {
  std::vector<Learner> learners{Learner::rule, Learner::autograd};
  if (settings.simulated && learner_applies(Learner::simulated, task)) {
    learners.push_back(Learner::simulated);
  }
  return learners;
}

// Per task and circuit: each seed's untrained circuit, and each learner at each learning rate.
int64_t count_runs(const std::vector<Task>& tasks, size_t kinds, const Settings& settings) {
  int64_t total = 0;
  for (const auto& task : tasks) {
    total += static_cast<int64_t>(kinds) * settings.seeds *
             (1 + static_cast<int64_t>(learners_of(task, settings).size() * settings.lrs.size()));
  }
  return total;
}

// The line that opens the output: what is trained, and how many circuits.
void print_plan(const Settings& settings, int64_t total_runs) {
  const auto& t = settings.training;
  fmt::print("community study: tasks {}, circuits {}, hidden {}, {} epochs, batch {}, "
             "learning rates {::.3g}, {} seeds, {} null samples{}: {} circuits to train and "
             "analyse\n",
             settings.tasks, settings.circuits, t.hidden, t.epochs, t.batch, settings.lrs,
             settings.seeds, settings.null_samples,
             settings.simulated ? fmt::format(", simulator tau_c {} presentation {} dt {}",
                                              t.tau_c, t.presentation, t.dt)
                                : "",
             total_runs);
}

// Every circuit's record as it is done: a row of runs.csv and a progress line on stderr.
struct Progress {
  std::ofstream runs_csv;
  std::vector<RunRecord> runs;
  int64_t done = 0, total = 0;
  Clock::time_point start = Clock::now();

  void record(RunRecord run) {
    write_run(runs_csv, run);
    runs_csv.flush();
    ++done;
    const double elapsed = seconds_since(start);
    fmt::print(stderr,
               "[{:>4}/{}] {:<8} {:<9} {:<8} lr {:<9.3g} seed {}  score {:>7.3f}  "
               "Q louvain {:.3f} (null {:.3f})  Q leiden {:.3f}  communities {:>3}  "
               "{:.1f} s, ~{:.0f} s left{}\n",
               done, total, run.task, run.circuit, run.learner, run.lr, run.seed,
               run.test_score, run.measures[0].q, run.measures[0].null.mean, run.measures[1].q,
               run.measures[0].communities, run.seconds,
               elapsed / static_cast<double>(done) * static_cast<double>(total - done),
               run.diverged ? "  DIVERGED: " + run.failure.substr(0, run.failure.find('\n'))
                            : "");
    runs.push_back(std::move(run));
  }
};

// What identifies a run: its task, circuit, learner, learning rate and seed.
RunRecord run_record(const Task& task, CircuitKind kind, const std::string& learner, double lr,
                     int seed) {
  RunRecord run;
  run.task = task.name;
  run.circuit = circuit_kind_name(kind);
  run.learner = learner;
  run.lr = lr;
  run.seed = seed;
  return run;
}

// The untrained circuit of a seed (identical for every learner), as learner "init".
RunRecord initial_record(const Task& task, CircuitKind kind, int seed,
                         const TrainedCircuit& trained, int64_t null_samples) {
  auto initial = run_record(task, kind, "init", 0.0, seed);
  initial.test_score = std::nan("");
  initial.measures = measure_communities(trained.initial, null_samples, seed);
  return initial;
}

RunRecord trained_record(const Task& task, CircuitKind kind, Learner learner, double lr,
                         int seed, const TrainedCircuit& trained, int64_t null_samples) {
  auto run = run_record(task, kind, learner_name(learner), lr, seed);
  run.train_loss = trained.train_loss;
  run.test_loss = trained.test_loss;
  run.test_score = trained.test_score;
  run.diverged = trained.diverged;
  run.failure = trained.failure;
  if (!run.diverged) {
    run.weight_change = relative_distance(trained.trained, trained.initial);
    run.measures = measure_communities(trained.trained, null_samples, seed);
  }
  return run;
}

// Seed 0's rule-trained circuits at the smallest, middle and largest learning rate are drawn.
bool drawn(int seed, size_t lr_index, size_t lr_count) {
  const std::vector<size_t> shown{0, lr_count / 2, lr_count - 1};
  return seed == 0 && std::find(shown.begin(), shown.end(), lr_index) != shown.end();
}

// Every learner on one task, circuit, seed and learning rate (the lr_index-th).
void train_learners(const Task& task, CircuitKind kind, int seed, size_t lr_index,
                    const Settings& settings, Progress& progress,
                    std::vector<ReorderedMatrix>& panels) {
  const double lr = settings.lrs[lr_index];
  RunRecord rule_run;
  analysis::CircuitConnectivity rule_weights;
  for (const auto learner : learners_of(task, settings)) {
    const auto start = Clock::now();
    const auto trained = train_circuit(task, kind, learner, lr, seed, settings.training);
    if (lr_index == 0 && learner == Learner::rule) {
      auto initial = initial_record(task, kind, seed, trained, settings.null_samples);
      initial.seconds = seconds_since(start);
      progress.record(std::move(initial));
    }
    auto run = trained_record(task, kind, learner, lr, seed, trained, settings.null_samples);
    if (!run.diverged) {
      if (learner == Learner::rule) {
        rule_weights = trained.trained;
      } else if (!rule_run.diverged && !rule_weights.weights.empty()) {
        // Autograd: round-off apart from the rule; simulated: how far finite
        // timescale separation ends from it.
        run.gap_to_rule = relative_distance(trained.trained, rule_weights);
      }
    }
    if (learner == Learner::rule) rule_run = run;
    if (learner == Learner::rule && !run.diverged &&
        drawn(seed, lr_index, settings.lrs.size())) {
      panels.push_back(write_reordered_matrix(
          fmt::format("{}/matrix_{}_{}_lr{}.bin", settings.out_dir, task.name, run.circuit,
                      lr_index),
          fmt::format("{} {}, rule, lr {:.3g}: Q {:.3f}, {} communities", task.name,
                      run.circuit, lr, run.measures[0].q, run.measures[0].communities),
          trained.trained, run.measures[0].membership));
    }
    run.seconds = seconds_since(start);
    progress.record(std::move(run));
  }
}

struct Study {
  std::vector<RunRecord> runs;  // in the order of runs.csv
  std::vector<std::string> matrix_figures;
  Clock::time_point start;  // of the training
};

// Trains and analyses every circuit, writing runs.csv as it goes, and draws the matrices.
Study train(const std::vector<Task>& tasks, const std::vector<CircuitKind>& kinds,
            const Settings& settings, int64_t total_runs) {
  Progress progress;
  progress.runs_csv.open(settings.out_dir + "/runs.csv");
  write_run_header(progress.runs_csv);
  progress.total = total_runs;
  Study study;
  study.start = progress.start;
  for (const auto& task : tasks) {
    for (const auto kind : kinds) {
      std::vector<ReorderedMatrix> panels;
      for (int seed = 0; seed < settings.seeds; ++seed) {
        for (size_t i = 0; i < settings.lrs.size(); ++i) {
          train_learners(task, kind, seed, i, settings, progress, panels);
        }
      }
      const std::string figure = fmt::format("{}/community_matrices_{}_{}.png", settings.out_dir,
                                             task.name, circuit_kind_name(kind));
      if (!panels.empty() && plot_matrices(figure, panels)) study.matrix_figures.push_back(figure);
    }
  }
  study.runs = std::move(progress.runs);
  return study;
}

void write_summaries(const std::vector<SummaryRow>& rows, const Settings& s, double seconds) {
  std::ofstream summary_csv(s.out_dir + "/summary.csv");
  write_summary_csv(summary_csv, rows);
  summary_csv.close();
  const auto& t = s.training;
  const std::string settings_json = fmt::format(
      "{{\"tasks\": [\"{}\"], \"circuits\": [\"{}\"], \"hidden\": {}, \"activation\": \"{}\", "
      "\"epochs\": {}, \"batch\": {}, \"learning_rates\": [{}], \"seeds\": {}, "
      "\"fashion_train\": {}, \"fashion_test\": {}, \"two_task_train\": {}, "
      "\"two_task_inputs_per_task\": {}, \"two_task_outputs_per_task\": {}, "
      "\"null_samples\": {}, \"simulated\": {}, \"tau_r\": 1, \"tau_c\": {}, "
      "\"presentation\": {}, \"dt\": {}, \"seconds\": {:.1f}}}",
      fmt::join(s.tasks, "\", \""), fmt::join(s.circuits, "\", \""), t.hidden, t.activation,
      t.epochs, t.batch, fmt::join(s.lrs, ", "), s.seeds, s.fashion_train, s.fashion_test,
      s.two_task_train, s.two_task_inputs, s.two_task_outputs, s.null_samples, s.simulated,
      t.tau_c, t.presentation, t.dt, seconds);
  std::ofstream summary_json(s.out_dir + "/summary.json");
  write_summary_json(summary_json, rows, settings_json);
}

void print_table(const std::vector<SummaryRow>& rows) {
  fmt::print("\n{:<8} {:<9} {:<8} {:>9} {:>5} {:>9} {:>17} {:>17} {:>17} {:>11}\n", "task",
             "circuit", "learner", "lr", "runs", "score", "Q louvain", "null Q louvain",
             "Q leiden", "communities");
  for (const auto& row : rows) {
    fmt::print("{:<8} {:<9} {:<8} {:>9.3g} {:>5} {:>9.3f} {:>8.4f} +- {:.4f} {:>8.4f} +- "
               "{:.4f} {:>8.4f} +- {:.4f} {:>11.1f}{}\n",
               row.task, row.circuit, row.learner, row.lr, row.runs, row.test_score.mean,
               row.q[0].mean, row.q[0].sd, row.null_q[0].mean, row.null_q[0].sd, row.q[1].mean,
               row.q[1].sd, row.communities[0].mean,
               row.diverged > 0 ? fmt::format("  ({} diverged)", row.diverged) : "");
  }
}

// The summaries, the table, the modularity figures and the closing line.
void report(const Study& study, const Settings& settings) {
  const auto rows = summarise(study.runs);
  write_summaries(rows, settings, seconds_since(study.start));
  print_table(rows);
  std::vector<std::string> figures;
  for (size_t m = 0; m < kMethods.size(); ++m) {
    if (plot_modularity(settings.out_dir, rows, settings.tasks, settings.circuits, m)) {
      figures.push_back(fmt::format("{}/community_q_{}.png", settings.out_dir,
                                    analysis::community_method_name(kMethods[m])));
    }
  }
  figures.insert(figures.end(), study.matrix_figures.begin(), study.matrix_figures.end());
  fmt::print("\n{} circuits in {:.1f} s; wrote {}/runs.csv, summary.csv, summary.json and {} "
             "figures{}{}\n",
             study.runs.size(), seconds_since(study.start), settings.out_dir, figures.size(),
             figures.empty() ? "" : ": ", fmt::join(figures, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (const int code = parse(argc, argv, settings); code >= 0) return code;
  return run_program("community", [&] {
    torch::set_num_threads(settings.threads);
    std::filesystem::create_directories(settings.out_dir);
    const auto tasks = load_tasks(settings);
    const auto kinds = circuit_kinds(settings);
    const int64_t total_runs = count_runs(tasks, kinds.size(), settings);
    print_plan(settings, total_runs);
    report(train(tasks, kinds, settings, total_runs), settings);
  });
}
