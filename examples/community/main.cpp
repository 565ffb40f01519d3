// The community study (docs/community.md): does the learning rate of the plasticity rule change
// the community structure of the circuits it trains, once training progress, the null model and
// the task are controlled? Layered circuits are trained by the rule on a modular two-task problem
// (a new teacher per seed) and on its entangled control (the same inputs mixed by a rotation),
// under three schedules per learning rate (fixed epochs, equal training distance lr x steps,
// train to criterion); each circuit's modularity is compared with a strength-preserving null
// (primary) and a shuffle null, in three variants (|W|, projection-aware, signed), and its
// partition with the task's. A positive control (L1 connection cost, narrow hidden population)
// and a sensitivity curve show what the pipeline detects; the simulator's lr x separation grid
// varies the timescale separation at a fixed learning rate and the learning rate at a fixed
// separation. Writes runs.csv, summary.csv, endpoints.csv, sensitivity.csv and the figures into
// --out.
#include "common/command_line.h"
#include "common/fashion_mnist.h"
#include "common/program.h"
#include "community/control.h"
#include "community/endpoints.h"
#include "community/figures.h"
#include "community/study.h"
#include "community/tasks.h"
#include "community/training.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

using namespace eiprop::examples;
namespace analysis = eiprop::analysis;

struct Settings {
  std::vector<std::string> tasks{"modular", "entangled"};
  std::vector<std::string> circuits{"layered"};
  std::vector<std::string> schedules{"fixed_epochs", "equal_distance", "criterion"};
  std::vector<std::string> learners{"rule"};
  std::vector<double> lrs{0.01, 0.0316, 0.1, 0.316, 1.0};
  int seeds = 20;
  std::string method = "louvain";
  TrainingSettings training;
  double fashion_criterion = 75.0;  // fashion: training accuracy (%) to reach
  int64_t fashion_train = 3000, fashion_test = 2000;
  int64_t two_task_train = 1000, two_task_test = 1000, two_task_inputs = 8, two_task_outputs = 2;
  int64_t teacher_hidden = 4;
  int64_t null_samples = 20;
  int64_t null_sweeps = 300;
  // The positive control.
  int control_seeds = 20;
  int64_t control_hidden = 6;
  double control_cost = 2e-3, control_lr = 0.1;
  int64_t control_steps = 3000;
  std::vector<double> epsilons{0.0, 0.25, 0.5, 0.75, 0.9, 1.0};
  double equivalence_fraction = 0.1;
  // The simulator's grid: learning rate x timescale separation tau_W / tau_c, each cell presented
  // for T = separation x lr x tau_c (tau_W = T / lr).
  std::vector<double> simulator_lrs{0.02, 0.05, 0.2};
  std::vector<double> separations{50.0, 200.0, 800.0};
  int simulator_seeds = 10;
  int threads = 1;
  std::string data_dir = kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/community";
};

Settings default_settings() {
  Settings s;
  s.training.hidden = 16;
  s.training.batch = 32;
  s.training.epochs = 2;
  s.training.distance = 10.0;
  s.training.criterion = 0.8;
  s.training.max_steps = 2000;
  s.training.check_distance = 0.1;
  return s;
}

template <typename T>
CLI::Option* add_list(CLI::App& app, const std::string& name, std::vector<T>& values,
                      const std::string& description) {
  return app.add_option(name, values, description)->delimiter(',')->capture_default_str();
}

void add_study_options(CLI::App& app, Settings& s) {
  add_list(app, "--tasks", s.tasks,
           "tasks: modular (two teachers), entangled (its inputs rotated), fashion (opt-in)")
      ->check(CLI::IsMember({"modular", "entangled", "fashion"}));
  add_list(app, "--circuits", s.circuits,
           "circuits: layered, recurrent (and hidden -> hidden); the trends are tested on the "
           "first only, the figures drawn for layered only")
      ->check(CLI::IsMember({"layered", "recurrent"}));
  add_list(app, "--schedules", s.schedules, "schedules: fixed_epochs, equal_distance, criterion")
      ->check(CLI::IsMember({"fixed_epochs", "equal_distance", "criterion"}));
  add_list(app, "--learners", s.learners,
           "learners of the main grid: rule, autograd (the control, same initial weights and "
           "batches); the trends and figures are the rule's")
      ->check(CLI::IsMember({"rule", "autograd"}));
  add_list(app, "--lrs", s.lrs, "learning rates (sorted, duplicates dropped)")->check(positive());
  add_positive_option(app, "--seeds", s.seeds, "seeds per cell (a new teacher per seed)");
  app.add_option("--method", s.method, "community detection: louvain, leiden")
      ->check(CLI::IsMember({"louvain", "leiden"}))
      ->capture_default_str();
  add_positive_option(app, "--hidden", s.training.hidden, "neurons in the hidden population");
  add_positive_option(app, "--batch", s.training.batch, "batch size");
  add_positive_option(app, "--epochs", s.training.epochs, "fixed_epochs: epochs");
  add_positive_option(app, "--distance", s.training.distance,
                      "equal_distance: lr x steps (at most --max-steps steps at the smallest lr)");
  add_positive_option(app, "--criterion", s.training.criterion,
                      "criterion: training R^2 to reach");
  add_positive_option(app, "--fashion-criterion", s.fashion_criterion,
                      "criterion on fashion: training accuracy (%) to reach");
  add_positive_option(app, "--max-steps", s.training.max_steps,
                      "the step cap of fixed_epochs and criterion; equal_distance must fit in it");
  add_positive_option(app, "--check-distance", s.training.check_distance,
                      "criterion: lr x steps between checks of the training score (every "
                      "max(1, round(distance / lr)) steps)");
  add_positive_option(app, "--null-samples", s.null_samples,
                      "copies per circuit of each null model (strength, shuffle)");
  add_positive_option(app, "--null-sweeps", s.null_sweeps,
                      "strength null: annealing sweeps (swap proposals per synapse)");
}

void add_control_options(CLI::App& app, Settings& s) {
  app.add_option("--control-seeds", s.control_seeds, "positive control: seeds (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_positive_option(app, "--control-hidden", s.control_hidden,
                      "positive control: hidden neurons (fewer than the teachers' together)");
  add_positive_option(app, "--control-cost", s.control_cost,
                      "positive control: L1 connection cost lambda");
  add_positive_option(app, "--control-lr", s.control_lr, "positive control: learning rate");
  add_positive_option(app, "--control-steps", s.control_steps, "positive control: SGD steps");
  add_list(app, "--epsilons", s.epsilons,
           "sensitivity: cross-task synapses of the rule's circuits scaled by 1 - epsilon")
      ->check(CLI::Range(0.0, 1.0));
  add_positive_option(app, "--equivalence-fraction", s.equivalence_fraction,
                      "TOST bound per decade of lr, as a fraction of the positive control's "
                      "Q - null");
  add_list(app, "--simulator-lrs", s.simulator_lrs,
           "simulator grid: learning rates (empty: no simulator grid)")
      ->check(positive());
  add_list(app, "--separations", s.separations,
           "simulator grid: timescale separations tau_W / tau_c, each at every --simulator-lrs "
           "(presentation time T = separation x lr x tau_c, tau_r = 1, tau_W = T / lr)")
      ->check(positive());
  app.add_option("--simulator-seeds", s.simulator_seeds, "simulator grid: seeds (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_positive_option(app, "--tau-c", s.training.tau_c, "simulator: credit time constant");
  add_positive_option(app, "--dt", s.training.dt,
                      "simulator: Euler step (<= --tau-c and 1; every T = separation x lr x tau_c "
                      "a multiple of it)");
}

void add_data_options(CLI::App& app, Settings& s) {
  app.add_option("--fashion-train", s.fashion_train, "Fashion-MNIST training images (0: all)")
      ->capture_default_str();
  app.add_option("--fashion-test", s.fashion_test, "Fashion-MNIST test images (0: all)")
      ->capture_default_str();
  add_positive_option(app, "--two-task-train", s.two_task_train, "two-task training samples");
  add_positive_option(app, "--two-task-test", s.two_task_test, "two-task test samples");
  add_positive_option(app, "--two-task-inputs", s.two_task_inputs, "inputs of each task");
  add_positive_option(app, "--two-task-outputs", s.two_task_outputs, "outputs of each task");
  add_positive_option(app, "--teacher-hidden", s.teacher_hidden, "hidden units of each teacher");
  add_positive_option(app, "--threads", s.threads, "LibTorch intra-op threads");
  add_fashion_mnist_options(app, s.data_dir, s.cache_dir);
  app.add_option("--out", s.out_dir, "output directory (CSV, PNG)")->capture_default_str();
}

// Returns the code to exit with now (see parse_command_line), or -1 to go on.
int parse(int argc, char** argv, Settings& settings) {
  CLI::App app{
      "Community structure of circuits trained by the plasticity rule versus the learning rate, "
      "under three training schedules, against a strength-preserving null, with a positive "
      "control"};
  add_study_options(app, settings);
  add_control_options(app, settings);
  add_data_options(app, settings);
  if (const int code = parse_command_line(app, argc, argv); code >= 0) return code;
  auto& s = settings;
  std::sort(s.lrs.begin(), s.lrs.end());
  s.lrs.erase(std::unique(s.lrs.begin(), s.lrs.end()), s.lrs.end());
  if (s.lrs.empty()) {
    fmt::print(stderr, "community: --lrs needs at least one learning rate\n");
    return 2;
  }
  if (s.training.dt > s.training.tau_c || s.training.dt > 1.0) {
    fmt::print(stderr, "community: --dt ({}) must not exceed --tau-c ({}) or tau_r (1)\n",
               s.training.dt, s.training.tau_c);
    return 2;
  }
  if (s.simulator_seeds > 0) {
    for (const double lr : s.simulator_lrs) {
      for (const double separation : s.separations) {
        const double presentation = simulator_presentation(separation, lr, s.training.tau_c);
        const double ratio = presentation / s.training.dt;
        if (std::abs(ratio - std::round(ratio)) > 1e-6 * std::max(1.0, ratio)) {
          fmt::print(stderr,
                     "community: --separations {} at --simulator-lrs {} gives T = separation x lr "
                     "x --tau-c {} = {:g}, not a multiple of --dt {}\n",
                     separation, lr, s.training.tau_c, presentation, s.training.dt);
          return 2;
        }
      }
    }
  }
  const bool equal_distance =
      std::find(s.schedules.begin(), s.schedules.end(), "equal_distance") != s.schedules.end();
  const int64_t longest = std::llround(s.training.distance / s.lrs.front());
  if (equal_distance && longest > s.training.max_steps) {
    fmt::print(stderr,
               "community: --distance {} at the smallest of --lrs ({}) takes {} steps, more than "
               "--max-steps {}; lower --distance, raise --max-steps or leave out the smallest "
               "--lrs\n",
               s.training.distance, s.lrs.front(), longest, s.training.max_steps);
    return 2;
  }
  return -1;
}

MeasureSettings measure_settings(const Settings& s) {
  return {analysis::parse_community_method(s.method), s.null_samples, s.null_sweeps};
}

// The task of one seed: its own teacher (and, for the entangled control, its own rotation).
Task make_task(const std::string& name, int seed, const Settings& s) {
  if (name == "fashion") {
    return fashion_mnist_task(s.data_dir, s.cache_dir, s.fashion_train, s.fashion_test);
  }
  auto task = two_task_regression(s.two_task_train, s.two_task_test, s.two_task_inputs,
                                  s.two_task_outputs, s.teacher_hidden,
                                  /*seed=*/1000 + static_cast<uint64_t>(seed));
  return name == "entangled" ? entangled(std::move(task), 5000 + static_cast<uint64_t>(seed))
                             : task;
}

CircuitKind circuit_kind(const std::string& name) {
  return name == "layered" ? CircuitKind::layered : CircuitKind::recurrent;
}

Learner learner_of(const std::string& name) {
  return name == "rule" ? Learner::rule : Learner::autograd;
}

// Every circuit's record as it is done: a row of runs.csv and a progress line on stderr.
struct Progress {
  std::ofstream runs_csv;
  std::vector<RunRecord> runs;
  int64_t done = 0;
  Clock::time_point start = Clock::now();

  void record(RunRecord run) {
    write_run(runs_csv, run);
    runs_csv.flush();
    ++done;
    fmt::print(stderr,
               "[{:>4}] {:<9} {:<9} {:<14} lr {:<7.3g} T {:<4g} seed {:<2}  steps {:>5}  "
               "score {:>7.3f}  Q {:.3f} - null {:.3f} = {:+.3f}  NMI {:.2f}  {:.1f} s{}\n",
               done, run.task, run.learner, run.schedule, run.lr, run.presentation, run.seed,
               run.steps, run.test_score, run.measure.q, run.measure.strength_q.mean,
               run.measure.q_above_null(), run.measure.nmi, seconds_since(start),
               run.diverged ? "  DIVERGED: " + run.failure.substr(0, run.failure.find('\n'))
                            : "");
    runs.push_back(std::move(run));
  }
};

RunRecord record_of(const Task& task, const std::string& circuit, const std::string& learner,
                    const std::string& schedule, double lr, int seed) {
  RunRecord run;
  run.task = task.name;
  run.circuit = circuit;
  run.learner = learner;
  run.schedule = schedule;
  run.lr = lr;
  run.seed = static_cast<uint64_t>(seed);
  return run;
}

// Trains one circuit and measures it.
RunRecord train_and_measure(const Task& task, const std::string& circuit, Learner learner,
                            const std::string& learner_label, double lr, int seed,
                            const TrainingSettings& training, const Settings& settings,
                            analysis::CircuitConnectivity* trained_out = nullptr,
                            analysis::CircuitConnectivity* initial_out = nullptr) {
  const auto start = Clock::now();
  auto run = record_of(task, circuit, learner_label, schedule_name(training.schedule), lr, seed);
  const auto trained = train_circuit(task, circuit_kind(circuit), learner, lr,
                                     static_cast<uint64_t>(seed), training);
  run.steps = trained.steps;
  run.reached = trained.reached;
  run.train_loss = trained.train_loss;
  run.test_loss = trained.test_loss;
  run.test_score = trained.test_score;
  run.diverged = trained.diverged;
  run.failure = trained.failure;
  if (!run.diverged) {
    run.displacement = relative_distance(trained.trained, trained.initial);
    const auto partition = task.name == "fashion" ? TaskPartition{}
                                                  : two_task_partition(trained.trained);
    run.measure = measure_communities(trained.trained, measure_settings(settings),
                                      static_cast<uint64_t>(seed), partition);
    if (trained_out != nullptr) *trained_out = trained.trained;
  }
  if (initial_out != nullptr) *initial_out = trained.initial;
  run.seconds = seconds_since(start);
  return run;
}

// The sensitivity curve's input: the rule's circuits on the modular task at equal distance and
// the middle learning rate, one per seed.
struct Study {
  std::vector<RunRecord> runs;
  std::vector<analysis::CircuitConnectivity> sensitivity_circuits;
  std::vector<int> sensitivity_seeds;
};

// The main grid: tasks x circuits x schedules x learning rates x learners, per seed, and each
// seed's untrained circuit (learner "init").
void train_grid(const Settings& settings, Progress& progress, Study& study) {
  const double middle_lr = settings.lrs[settings.lrs.size() / 2];
  for (const auto& task_name : settings.tasks) {
    for (int seed = 0; seed < settings.seeds; ++seed) {
      const Task task = make_task(task_name, seed, settings);
      for (const auto& circuit : settings.circuits) {
        bool initial_recorded = false;
        for (const auto& schedule_label : settings.schedules) {
          TrainingSettings training = settings.training;
          training.schedule = parse_schedule(schedule_label);
          if (task_name == "fashion") training.criterion = settings.fashion_criterion;
          for (const double lr : settings.lrs) {
            for (const auto& learner : settings.learners) {
              analysis::CircuitConnectivity trained, initial;
              progress.record(train_and_measure(task, circuit, learner_of(learner), learner, lr,
                                                seed, training, settings, &trained, &initial));
              if (task_name == "modular" && circuit == "layered" && learner == "rule" &&
                  training.schedule == Schedule::equal_distance && lr == middle_lr &&
                  !progress.runs.back().diverged) {
                study.sensitivity_circuits.push_back(trained);
                study.sensitivity_seeds.push_back(seed);
              }
              if (!initial_recorded) {
                auto init = record_of(task, circuit, "init", "none", 0.0, seed);
                init.test_score = std::nan("");
                init.measure = measure_communities(
                    initial, measure_settings(settings), static_cast<uint64_t>(seed),
                    task_name == "fashion" ? TaskPartition{} : two_task_partition(initial));
                progress.record(std::move(init));
                initial_recorded = true;
              }
            }
          }
        }
      }
    }
  }
}

// The positive control: autograd-SGD with an L1 connection cost on a narrow layered circuit,
// modular task, a fixed number of steps; learner "autograd_l1", schedule "fixed_steps".
void train_positive_control(const Settings& settings, Progress& progress) {
  TrainingSettings training = settings.training;
  training.hidden = settings.control_hidden;
  training.connection_cost = settings.control_cost;
  // control_steps steps of control_lr, whatever the lr: an equal-distance schedule of that length.
  training.schedule = Schedule::equal_distance;
  training.distance = settings.control_lr * static_cast<double>(settings.control_steps);
  training.max_steps = settings.control_steps;
  for (int seed = 0; seed < settings.control_seeds; ++seed) {
    const Task task = make_task("modular", seed, settings);
    auto run = train_and_measure(task, "layered", Learner::autograd, "autograd_l1",
                                 settings.control_lr, seed, training, settings);
    run.schedule = "fixed_steps";
    progress.record(std::move(run));
  }
}

// Q - null and NMI of the rule's circuits with their cross-task synapses scaled by 1 - epsilon.
std::vector<SensitivityRow> sensitivity(const Study& study, const Settings& settings) {
  std::vector<SensitivityRow> rows;
  if (study.sensitivity_circuits.size() < 2) return rows;
  for (const double epsilon : settings.epsilons) {
    std::vector<double> q_above, nmi;
    for (size_t i = 0; i < study.sensitivity_circuits.size(); ++i) {
      const auto scaled = scale_cross_task(study.sensitivity_circuits[i], epsilon);
      const auto measure =
          measure_communities(scaled, measure_settings(settings),
                              static_cast<uint64_t>(study.sensitivity_seeds[i]),
                              two_task_partition(scaled));
      q_above.push_back(measure.q_above_null());
      nmi.push_back(measure.nmi);
    }
    rows.push_back({epsilon, analysis::bootstrap_mean(q_above, 0.95, 2000, 1),
                    analysis::bootstrap_mean(nmi, 0.95, 2000, 1)});
    fmt::print(stderr, "sensitivity: epsilon {:.2f}: Q - null {:+.4f} [{:+.4f}, {:+.4f}], NMI "
               "{:.3f} [{:.3f}, {:.3f}]\n",
               epsilon, rows.back().q_above.estimate, rows.back().q_above.low,
               rows.back().q_above.high, rows.back().nmi.estimate, rows.back().nmi.low,
               rows.back().nmi.high);
  }
  return rows;
}

// The simulator's grid at fixed epochs on the modular task: learning rate x timescale separation
// tau_W / tau_c = T / (lr tau_c), crossed, so that the separation varies at a fixed learning rate
// and the learning rate at a fixed separation (T then grows with lr).
void train_simulator_grid(const Settings& settings, Progress& progress) {
  if (settings.simulator_lrs.empty()) return;
  for (int seed = 0; seed < settings.simulator_seeds; ++seed) {
    const Task task = make_task("modular", seed, settings);
    for (const double separation : settings.separations) {
      for (const double lr : settings.simulator_lrs) {
        TrainingSettings training = settings.training;
        training.schedule = Schedule::fixed_epochs;
        const double presentation =
            simulator_presentation(separation, lr, settings.training.tau_c);
        // T on the dt grid (checked to be a multiple of dt up to round-off).
        training.presentation =
            std::round(presentation / settings.training.dt) * settings.training.dt;
        auto run = train_and_measure(task, "layered", Learner::simulated, "simulated", lr, seed,
                                     training, settings);
        run.presentation = training.presentation;
        progress.record(std::move(run));
      }
    }
  }
}

void write_sensitivity(const std::string& path, const std::vector<SensitivityRow>& rows) {
  std::ofstream out(path);
  out << "epsilon,q_above_strength_null_mean,low,high,nmi_mean,nmi_low,nmi_high\n";
  for (const auto& r : rows) {
    out << fmt::format("{:.3g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", r.epsilon,
                       r.q_above.estimate, r.q_above.low, r.q_above.high, r.nmi.estimate,
                       r.nmi.low, r.nmi.high);
  }
}

const CellSummary* find_cell(const std::vector<CellSummary>& cells, const std::string& learner) {
  for (const auto& cell : cells) {
    if (cell.learner == learner) return &cell;
  }
  return nullptr;
}

void print_table(const std::vector<CellSummary>& cells) {
  fmt::print("\n{:<9} {:<11} {:<14} {:>7} {:>5} {:>7} {:>7} {:>8} {:>26} {:>22} {:>9} {:>7}\n",
             "task", "learner", "schedule", "lr", "runs", "T", "Q", "null Q",
             "Q - strength null [95% CI]", "NMI [95% CI]", "score", "steps");
  for (const auto& c : cells) {
    const auto& above = c.value(Quantity::q_above_strength_null);
    const auto& nmi = c.value(Quantity::nmi);
    fmt::print("{:<9} {:<11} {:<14} {:>7.3g} {:>5} {:>7.3g} {:>7.4f} {:>8.4f} {:>+8.4f} "
               "[{:+.4f}, {:+.4f}] {:>6.3f} [{:.3f}, {:.3f}] {:>9.3f} {:>7.0f}{}\n",
               c.task, c.learner, c.schedule, c.lr, c.runs, c.presentation, c.q,
               c.strength_null_q, above.estimate, above.low, above.high, nmi.estimate, nmi.low,
               nmi.high, c.value(Quantity::test_score).estimate, c.value(Quantity::steps).estimate,
               c.diverged > 0 ? fmt::format("  ({} diverged)", c.diverged) : "");
  }
}

void report(const Study& study, const Settings& settings, double seconds) {
  const auto cells = summarise(study.runs, /*seed=*/1);
  std::ofstream summary_csv(settings.out_dir + "/summary.csv");
  write_summary_csv(summary_csv, cells);
  print_table(cells);
  const CellSummary* control = find_cell(cells, "autograd_l1");
  const double effect = control != nullptr
                            ? control->value(Quantity::q_above_strength_null).estimate
                            : std::nan("");
  if (control != nullptr) {
    const auto& above = control->value(Quantity::q_above_strength_null);
    const auto& nmi = control->value(Quantity::nmi);
    fmt::print("\nPositive control (hidden {}, L1 {:.3g}, lr {:.3g}, {} steps): Q - strength null "
               "{:+.4f} [{:+.4f}, {:+.4f}], NMI {:.3f} [{:.3f}, {:.3f}], R^2 {:.3f}\n",
               settings.control_hidden, settings.control_cost, settings.control_lr,
               settings.control_steps, effect, above.low, above.high, nmi.estimate, nmi.low,
               nmi.high, control->value(Quantity::test_score).estimate);
  }
  const auto sensitivity_rows = sensitivity(study, settings);
  write_sensitivity(settings.out_dir + "/sensitivity.csv", sensitivity_rows);
  // The bound is a fraction of the control's effect, and only a control shown to detect modularity
  // (lower 95 % limit above 0) gives one.
  std::string no_bound_reason;
  if (control == nullptr) {
    no_bound_reason = "no positive control";
  } else if (!(control->value(Quantity::q_above_strength_null).low > 0.0)) {
    no_bound_reason = "the positive control's lower 95 % limit is not above 0";
    fmt::print("The positive control failed (lower 95 % limit {:+.4f} <= 0): no equivalence "
               "bound, no TOST\n",
               control->value(Quantity::q_above_strength_null).low);
  }
  const double bound =
      no_bound_reason.empty() ? settings.equivalence_fraction * effect : std::nan("");
  if (std::find(settings.learners.begin(), settings.learners.end(), "rule") ==
      settings.learners.end()) {
    fmt::print("\nNo trend tests and no main-grid figures: they are the rule's, and --learners "
               "holds no rule\n");
  } else if (settings.circuits.size() > 1) {
    fmt::print("\nThe trends are tested on the {} circuits only (the first of --circuits)\n",
               settings.circuits.front());
  }
  auto endpoints = test_endpoints(study.runs, settings.circuits.front(), "rule", settings.tasks,
                                  settings.schedules, bound, /*seed=*/1);
  endpoints.no_bound_reason = no_bound_reason;
  test_separation(study.runs, settings.training.tau_c, /*seed=*/1, endpoints);
  std::ofstream endpoints_csv(settings.out_dir + "/endpoints.csv");
  write_endpoints_csv(endpoints_csv, endpoints);
  print_endpoints(endpoints);
  const auto figures =
      draw_figures(settings.out_dir, study.runs, cells, sensitivity_rows, control);
  fmt::print("\n{} circuits in {:.1f} s; wrote {}/runs.csv, summary.csv, endpoints.csv, "
             "sensitivity.csv and {} figures{}{}\n",
             study.runs.size(), seconds, settings.out_dir, figures.size(),
             figures.empty() ? "" : ": ", fmt::join(figures, ", "));
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings = default_settings();
  if (const int code = parse(argc, argv, settings); code >= 0) return code;
  return run_program("community", [&] {
    torch::set_num_threads(settings.threads);
    std::filesystem::create_directories(settings.out_dir);
    fmt::print("community study: tasks {}, circuits {}, schedules {}, learners {}, hidden {}, "
               "learning rates {::.3g}, {} seeds, {} null samples per model, {} (positive "
               "control: {} seeds; simulator grid: lrs {::.3g} x separations {::g}, {} seeds)\n",
               settings.tasks, settings.circuits, settings.schedules, settings.learners,
               settings.training.hidden, settings.lrs, settings.seeds, settings.null_samples,
               settings.method, settings.control_seeds, settings.simulator_lrs,
               settings.separations, settings.simulator_seeds);
    std::fflush(stdout);  // before the progress lines on stderr
    Progress progress;
    progress.runs_csv.open(settings.out_dir + "/runs.csv");
    write_run_header(progress.runs_csv);
    Study study;
    train_grid(settings, progress, study);
    train_positive_control(settings, progress);
    train_simulator_grid(settings, progress);
    study.runs = std::move(progress.runs);
    report(study, settings, seconds_since(progress.start));
  });
}
