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

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace {

using namespace eiprop::examples;
namespace analysis = eiprop::analysis;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// n learning rates spaced evenly in log between lo and hi.
std::vector<double> log_grid(double lo, double hi, int n) {
  std::vector<double> grid;
  for (int i = 0; i < n; ++i) {
    grid.push_back(n == 1 ? lo : lo * std::pow(hi / lo, static_cast<double>(i) / (n - 1)));
  }
  return grid;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Community structure (modularity Q) of circuits trained by the plasticity rule versus "
      "the learning rate, with an autograd-SGD control and a weight-shuffle null model"};
  std::vector<std::string> tasks{"fashion", "two_task"};
  std::vector<std::string> circuits{"layered", "recurrent"};
  bool simulated = true;
  double lr_min = 1e-3, lr_max = 1.0;
  int lr_count = 6;
  std::vector<double> lrs;
  int seeds = 5;
  TrainingSettings training;
  training.hidden = 32;
  training.epochs = 2;
  training.batch = 32;
  int64_t fashion_train = 3000, fashion_test = 2000;
  int64_t two_task_train = 2000, two_task_test = 1000, two_task_inputs = 8, two_task_outputs = 2;
  int64_t null_samples = 2;
  int threads = 1;
  std::string data_dir = kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/community";

  app.add_option("--tasks", tasks, "tasks: fashion, two_task")
      ->delimiter(',')
      ->check(CLI::IsMember({"fashion", "two_task"}))
      ->capture_default_str();
  app.add_option("--circuits", circuits,
                 "circuits: layered (input -> hidden -> output), recurrent (and hidden -> hidden)")
      ->delimiter(',')
      ->check(CLI::IsMember({"layered", "recurrent"}))
      ->capture_default_str();
  app.add_option("--simulated", simulated,
                 "also train squared-error tasks with the three-timescale simulator (finite "
                 "timescale separation)")
      ->capture_default_str();
  app.add_option("--tau-c", training.tau_c, "simulator: credit time constant (tau_r = 1)")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--presentation", training.presentation,
                 "simulator: time each batch is presented (tau_r = 1); tau_W = presentation / lr")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--dt", training.dt, "simulator: Euler step (<= tau_c and 1)")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--lr-min", lr_min, "smallest learning rate")->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--lr-max", lr_max, "largest learning rate")->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--lr-count", lr_count, "learning rates, log-spaced from --lr-min to --lr-max")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--lrs", lrs, "explicit learning rates, comma-separated (replaces the grid)")
      ->delimiter(',')
      ->check(eiprop::examples::positive());
  app.add_option("--seeds", seeds, "seeds per learning rate")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--hidden", training.hidden, "neurons in the hidden population")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--activation", training.activation, "hidden activation")->capture_default_str();
  app.add_option("--epochs", training.epochs, "training epochs per run")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--batch", training.batch, "batch size")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--fashion-train", fashion_train, "Fashion-MNIST training images (0: all 60000)")
      ->capture_default_str();
  app.add_option("--fashion-test", fashion_test, "Fashion-MNIST test images (0: all 10000)")
      ->capture_default_str();
  app.add_option("--two-task-train", two_task_train, "two-task training samples")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--two-task-test", two_task_test, "two-task test samples")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--two-task-inputs", two_task_inputs, "inputs of each of the two tasks")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--two-task-outputs", two_task_outputs, "outputs of each of the two tasks")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--null-samples", null_samples, "shuffled copies per circuit and method")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads")
      ->check(eiprop::examples::positive())
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "directory of the Fashion-MNIST .gz files")
      ->capture_default_str();
  app.add_option("--cache-dir", cache_dir, "where the decompressed IDX files go")
      ->capture_default_str();
  app.add_option("--out", out_dir, "output directory (CSV, JSON, PNG)")->capture_default_str();
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }
  if (lrs.empty()) lrs = log_grid(lr_min, lr_max, lr_count);

  try {
    torch::set_num_threads(threads);
    std::filesystem::create_directories(out_dir);
    std::vector<Task> task_data;
    for (const auto& name : tasks) {
      if (name == "fashion") {
        task_data.push_back(fashion_mnist_task(data_dir, cache_dir, fashion_train, fashion_test));
      } else {
        task_data.push_back(two_task_regression(two_task_train, two_task_test, two_task_inputs,
                                                two_task_outputs, /*teacher_hidden=*/16,
                                                /*seed=*/20240521));
      }
    }
    std::vector<CircuitKind> circuit_kinds;
    for (const auto& name : circuits) {
      circuit_kinds.push_back(name == "layered" ? CircuitKind::layered : CircuitKind::recurrent);
    }
    const auto learners_of = [&](const Task& task) {
      std::vector<Learner> learners{Learner::rule, Learner::autograd};
      if (simulated && learner_applies(Learner::simulated, task)) {
        learners.push_back(Learner::simulated);
      }
      return learners;
    };
    int64_t total_runs = 0;
    for (const auto& task : task_data) {
      total_runs += static_cast<int64_t>(circuit_kinds.size()) * seeds *
                    (1 + static_cast<int64_t>(learners_of(task).size() * lrs.size()));
    }
    fmt::print("community study: tasks {}, circuits {}, hidden {}, {} epochs, batch {}, "
               "learning rates {::.3g}, {} seeds, {} null samples{}: {} circuits to train and "
               "analyse\n",
               tasks, circuits, training.hidden, training.epochs, training.batch, lrs, seeds,
               null_samples,
               simulated ? fmt::format(", simulator tau_c {} presentation {} dt {}",
                                       training.tau_c, training.presentation, training.dt)
                         : "",
               total_runs);

    std::ofstream runs_csv(out_dir + "/runs.csv");
    write_run_header(runs_csv);
    std::vector<RunRecord> runs;
    std::vector<ReorderedMatrix> matrices;
    std::vector<std::string> matrix_figures;
    const auto start_all = Clock::now();
    int64_t done = 0;
    auto record = [&](RunRecord run) {
      write_run(runs_csv, run);
      runs_csv.flush();
      ++done;
      const double elapsed = seconds_since(start_all);
      fmt::print(stderr,
                 "[{:>4}/{}] {:<8} {:<9} {:<8} lr {:<9.3g} seed {}  score {:>7.3f}  "
                 "Q louvain {:.3f} (null {:.3f})  Q leiden {:.3f}  communities {:>3}  "
                 "{:.1f} s, ~{:.0f} s left{}\n",
                 done, total_runs, run.task, run.circuit, run.learner, run.lr, run.seed,
                 run.test_score, run.measures[0].q, run.measures[0].null.mean,
                 run.measures[1].q, run.measures[0].communities, run.seconds,
                 elapsed / static_cast<double>(done) * static_cast<double>(total_runs - done),
                 run.diverged ? "  DIVERGED: " + run.failure.substr(0, run.failure.find('\n'))
                              : "");
      runs.push_back(std::move(run));
    };

    for (const auto& task : task_data) {
      for (const auto kind : circuit_kinds) {
        std::vector<ReorderedMatrix> panels;
        const std::vector<size_t> shown{0, lrs.size() / 2, lrs.size() - 1};
        for (int seed = 0; seed < seeds; ++seed) {
          for (size_t i = 0; i < lrs.size(); ++i) {
            RunRecord rule_run;
            analysis::CircuitConnectivity rule_weights;
            for (const auto learner : learners_of(task)) {
              const auto start = Clock::now();
              const auto trained = train_circuit(task, kind, learner, lrs[i], seed, training);
              if (i == 0 && learner == Learner::rule) {
                // The untrained circuit of this seed (identical for both learners).
                RunRecord initial;
                initial.task = task.name;
                initial.circuit = circuit_kind_name(kind);
                initial.learner = "init";
                initial.seed = seed;
                initial.test_score = std::nan("");
                initial.measures = measure_communities(trained.initial, null_samples, seed);
                initial.seconds = seconds_since(start);
                record(std::move(initial));
              }
              RunRecord run;
              run.task = task.name;
              run.circuit = circuit_kind_name(kind);
              run.learner = learner_name(learner);
              run.lr = lrs[i];
              run.seed = seed;
              run.train_loss = trained.train_loss;
              run.test_loss = trained.test_loss;
              run.test_score = trained.test_score;
              run.diverged = trained.diverged;
              run.failure = trained.failure;
              if (!run.diverged) {
                run.weight_change = relative_distance(trained.trained, trained.initial);
                run.measures = measure_communities(trained.trained, null_samples, seed);
                if (learner == Learner::rule) {
                  rule_weights = trained.trained;
                } else if (!rule_run.diverged && !rule_weights.weights.empty()) {
                  // Autograd: round-off apart from the rule; simulated: how far finite
                  // timescale separation ends from it.
                  run.gap_to_rule = relative_distance(trained.trained, rule_weights);
                }
              }
              if (learner == Learner::rule) rule_run = run;
              if (seed == 0 && learner == Learner::rule && !run.diverged &&
                  std::find(shown.begin(), shown.end(), i) != shown.end()) {
                panels.push_back(write_reordered_matrix(
                    fmt::format("{}/matrix_{}_{}_lr{}.bin", out_dir, task.name, run.circuit, i),
                    fmt::format("{} {}, rule, lr {:.3g}: Q {:.3f}, {} communities", task.name,
                                run.circuit, lrs[i], run.measures[0].q,
                                run.measures[0].communities),
                    trained.trained, run.measures[0].membership));
              }
              run.seconds = seconds_since(start);
              record(std::move(run));
            }
          }
        }
        const std::string figure =
            fmt::format("{}/community_matrices_{}_{}.png", out_dir, task.name,
                        circuit_kind_name(kind));
        if (!panels.empty() && plot_matrices(figure, panels)) matrix_figures.push_back(figure);
      }
    }
    runs_csv.close();

    const auto rows = summarise(runs);
    std::ofstream summary_csv(out_dir + "/summary.csv");
    write_summary_csv(summary_csv, rows);
    summary_csv.close();
    const std::string settings = fmt::format(
        "{{\"tasks\": [\"{}\"], \"circuits\": [\"{}\"], \"hidden\": {}, \"activation\": \"{}\", "
        "\"epochs\": {}, \"batch\": {}, \"learning_rates\": [{}], \"seeds\": {}, "
        "\"fashion_train\": {}, \"fashion_test\": {}, \"two_task_train\": {}, "
        "\"two_task_inputs_per_task\": {}, \"two_task_outputs_per_task\": {}, "
        "\"null_samples\": {}, \"simulated\": {}, \"tau_r\": 1, \"tau_c\": {}, "
        "\"presentation\": {}, \"dt\": {}, \"seconds\": {:.1f}}}",
        fmt::join(tasks, "\", \""), fmt::join(circuits, "\", \""), training.hidden,
        training.activation, training.epochs, training.batch, fmt::join(lrs, ", "), seeds,
        fashion_train, fashion_test, two_task_train, two_task_inputs, two_task_outputs,
        null_samples, simulated, training.tau_c, training.presentation, training.dt,
        seconds_since(start_all));
    std::ofstream summary_json(out_dir + "/summary.json");
    write_summary_json(summary_json, rows, settings);
    summary_json.close();

    // The table.
    fmt::print("\n{:<8} {:<9} {:<8} {:>9} {:>5} {:>9} {:>17} {:>17} {:>17} {:>11}\n", "task",
               "circuit", "learner", "lr", "runs", "score", "Q louvain", "null Q louvain",
               "Q leiden", "communities");
    for (const auto& row : rows) {
      fmt::print("{:<8} {:<9} {:<8} {:>9.3g} {:>5} {:>9.3f} {:>8.4f} +- {:.4f} {:>8.4f} +- "
                 "{:.4f} {:>8.4f} +- {:.4f} {:>11.1f}{}\n",
                 row.task, row.circuit, row.learner, row.lr, row.runs, row.test_score.mean,
                 row.q[0].mean, row.q[0].sd, row.null_q[0].mean, row.null_q[0].sd,
                 row.q[1].mean, row.q[1].sd, row.communities[0].mean,
                 row.diverged > 0 ? fmt::format("  ({} diverged)", row.diverged) : "");
    }
    std::vector<std::string> figures;
    for (size_t m = 0; m < kMethods.size(); ++m) {
      if (plot_modularity(out_dir, rows, tasks, circuits, m)) {
        figures.push_back(fmt::format("{}/community_q_{}.png", out_dir,
                                      analysis::community_method_name(kMethods[m])));
      }
    }
    figures.insert(figures.end(), matrix_figures.begin(), matrix_figures.end());
    fmt::print("\n{} circuits in {:.1f} s; wrote {}/runs.csv, summary.csv, summary.json and {} "
               "figures{}{}\n",
               done, seconds_since(start_all), out_dir, figures.size(),
               figures.empty() ? "" : ": ", fmt::join(figures, ", "));
  } catch (const MissingData& error) {
    fmt::print(stderr, "community: {}\n", error.what());
    return kMissingData;
  } catch (const std::exception& error) {
    fmt::print(stderr, "community: {}\n", error.what());
    return 1;
  }
  return 0;
}
