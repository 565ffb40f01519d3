// A/B: the same initialisation trained side by side on the same Fashion-MNIST batches, once by
// the rule (BalancedMLP, learning=credit: E-I equilibrium forward, credit relaxation backward)
// and once by LibTorch autograd, each with its own SGD-with-momentum optimizer. Per step and layer
// it records how the rule's gradient agrees with autograd's on the rule model's own weights; per
// epoch loss, train/test accuracy and step time of both. Writes CSV, JSON and a PNG figure.
#include "common/command_line.h"
#include "common/fashion_mnist.h"
#include "common/gnuplot.h"
#include "common/program.h"
#include "common/threads.h"

#include <eiprop/analysis/ei_balance.h>
#include <eiprop/eiprop.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <fmt/ostream.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

namespace {

namespace F = torch::nn::functional;
using eiprop::examples::Clock;
using eiprop::examples::add_positive_option;
using eiprop::examples::seconds_since;

struct Settings {
  std::vector<int64_t> hidden{256, 128};
  std::string activation = "tanh";
  std::string method = "sweep";
  std::string dtype_name = "float32";
  int epochs = 8;
  int64_t batch = 64;
  double lr = 0.05;
  double momentum = 0.9;
  int64_t train_limit = 0;
  int agreement_every = 1;
  uint64_t seed = 0;
  int threads = 0;
  std::string data_dir = eiprop::examples::kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/ab_autograd";
  std::string checkpoint_dir;
  int64_t checkpoint_every = 500;
  int64_t checkpoint_keep = 3;
  bool resume = false;
  int64_t max_steps = 0;

  torch::ScalarType dtype() const {
    return dtype_name == "float64" ? torch::kFloat64 : torch::kFloat32;
  }
};

void add_training_options(CLI::App& app, Settings& s) {
  add_positive_option(app, "--hidden", s.hidden,
                                        "hidden widths, comma-separated")
      ->delimiter(',');
  app.add_option("--activation", s.activation, "hidden activation")->capture_default_str();
  app.add_option("--method", s.method, "relaxation method: sweep, jacobi, euler")
      ->capture_default_str();
  app.add_option("--dtype", s.dtype_name, "float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
  add_positive_option(app, "--epochs", s.epochs, "epochs");
  add_positive_option(app, "--batch", s.batch, "batch size");
  app.add_option("--lr", s.lr, "SGD learning rate")->capture_default_str();
  app.add_option("--momentum", s.momentum, "SGD momentum")->capture_default_str();
  app.add_option("--train-limit", s.train_limit, "use only the first N training images (0: all)")
      ->capture_default_str();
  add_positive_option(
      app, "--agreement-every", s.agreement_every,
      "compare the rule's gradient with autograd's every N steps");
  app.add_option("--seed", s.seed, "random seed")->capture_default_str();
}

void add_checkpoint_options(CLI::App& app, Settings& s) {
  app.add_option("--checkpoint-dir", s.checkpoint_dir,
                 "save checkpoints (both models, optimizers, RNG, data position) here");
  add_positive_option(app, "--checkpoint-every", s.checkpoint_every,
                                        "steps between checkpoints");
  add_positive_option(app, "--checkpoint-keep", s.checkpoint_keep,
                                        "checkpoints kept");
  app.add_flag("--resume", s.resume,
               "continue from the newest valid checkpoint in --checkpoint-dir (bitwise the run "
               "that was interrupted)");
  app.add_option("--max-steps", s.max_steps,
                 "stop after this many training steps in all, as an interrupted run would (0: "
                 "train all epochs); --resume continues from the newest checkpoint")
      ->capture_default_str()
      ->check(eiprop::examples::non_negative());
}

// Returns the code to exit with now (see parse_command_line), or -1 to go on.
int parse(int argc, char** argv, Settings& settings) {
  CLI::App app{"A/B test of the eiprop rule against LibTorch autograd on Fashion-MNIST"};
  add_training_options(app, settings);
  eiprop::examples::add_threads_option(app, settings.threads);
  eiprop::examples::add_fashion_mnist_options(app, settings.data_dir, settings.cache_dir);
  app.add_option("--out", settings.out_dir, "output directory (CSV, JSON, PNG)")
      ->capture_default_str();
  add_checkpoint_options(app, settings);
  return eiprop::examples::parse_command_line(app, argc, argv);
}

struct Data {
  eiprop::examples::Split train, test;  // training images in the run's dtype
};

Data load_data(const Settings& settings) {
  auto train = eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, true);
  auto test = eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, false);
  const int64_t limit = settings.train_limit;
  if (limit > 0 && limit < train.images.size(0)) {
    train = {train.images.narrow(0, 0, limit), train.labels.narrow(0, 0, limit)};
  }
  train.images = train.images.to(settings.dtype());
  return {train, test};
}

double accuracy(eiprop::BalancedMLP& model, const eiprop::examples::Split& split,
                torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  const int64_t n = split.images.size(0);
  for (int64_t start = 0; start < n; start += 1000) {
    const int64_t count = std::min<int64_t>(1000, n - start);
    const auto logits = model->forward(split.images.narrow(0, start, count).to(dtype));
    correct += logits.argmax(1).eq(split.labels.narrow(0, start, count)).sum().item<int64_t>();
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

struct Side {
  std::string name;
  eiprop::BalancedMLP model;
  std::unique_ptr<torch::optim::SGD> optimizer;
  double loss_sum = 0.0;
  int64_t correct = 0;
  double step_seconds = 0.0;
};

// forward + backward + optimizer step; returns the logits.
torch::Tensor train_step(Side& side, const torch::Tensor& x, const torch::Tensor& y) {
  const auto start = Clock::now();
  side.optimizer->zero_grad();
  const auto logits = side.model->forward(x);
  const auto loss = F::cross_entropy(logits, y);
  loss.backward();
  side.optimizer->step();
  side.step_seconds += seconds_since(start);
  side.loss_sum += loss.item<double>() * static_cast<double>(x.size(0));
  side.correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  return logits;
}

// FNV-1a over the bytes of every parameter: equal fingerprints mean bitwise-equal weights (how
// the resumption test compares an interrupted and resumed run with an uninterrupted one).
std::string fingerprint(const torch::nn::Module& model) {
  uint64_t hash = 14695981039346656037ULL;
  for (const auto& parameter : model.parameters()) {
    const auto values = parameter.detach().contiguous().cpu();
    const auto* bytes = static_cast<const uint8_t*>(values.data_ptr());
    for (size_t i = 0; i < values.nbytes(); ++i) {
      hash = (hash ^ bytes[i]) * 1099511628211ULL;
    }
  }
  return fmt::format("{:016x}", hash);
}

// Drops the rows of a CSV written after a checkpoint (first column >= limit), so a resumed run
// appends to what the interrupted run had written up to its checkpoint.
void keep_rows_before(const std::string& path, int64_t limit) {
  std::ifstream in(path);
  std::string header, line, kept;
  std::getline(in, header);
  while (std::getline(in, line)) {
    if (!line.empty() && std::stoll(line.substr(0, line.find(','))) < limit) kept += line + "\n";
  }
  in.close();
  std::ofstream(path) << header << "\n" << kept;
}

// The training in progress: both sides, the data order and the running statistics, which is
// what a checkpoint holds. The checkpointer tracks these members by reference: not movable.
struct Run {
  Side rule, reference;
  int64_t n = 0;  // training images
  int64_t steps_per_epoch = 0;
  int64_t step = 0;  // steps done
  at::Generator generator;
  double worst_relative_error = 0.0;
  double worst_cosine = 1.0;
  double max_accuracy_gap = 0.0;
  std::vector<std::array<double, 4>> accuracies;  // rule/autograd train, rule/autograd test
  // Checkpoints: the data order's generator as it was when the epoch's permutation was drawn,
  // and the running statistics (pack_progress); the position is the step.
  std::unique_ptr<eiprop::Checkpointer> checkpoints;
  torch::Tensor epoch_generator_state;
  torch::Tensor progress;
  bool resumed = false;
  std::ofstream agreement_csv, epochs_csv;
  Clock::time_point start;  // of the training loop

  // Both sides from one initialisation (drawn from --seed), each with its own optimizer.
  Run(const Settings& settings, int64_t training_images);
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
};

eiprop::BalancedMLP initial_model(const Settings& settings) {
  std::vector<int64_t> widths{784};
  widths.insert(widths.end(), settings.hidden.begin(), settings.hidden.end());
  widths.push_back(10);
  torch::manual_seed(settings.seed);
  return eiprop::BalancedMLP(eiprop::BalancedMLPOptions(widths)
                                 .activation(settings.activation)
                                 .relaxation(eiprop::RelaxationOptions(settings.method)));
}

Run::Run(const Settings& settings, int64_t training_images)
    : rule{"rule", initial_model(settings), nullptr},
      reference{"autograd", nullptr, nullptr},
      n(training_images),
      steps_per_epoch((training_images + settings.batch - 1) / settings.batch),
      generator(at::make_generator<at::CPUGeneratorImpl>(settings.seed + 1)) {
  rule.model->to(settings.dtype());
  reference.model = std::dynamic_pointer_cast<eiprop::BalancedMLPImpl>(rule.model->clone());
  reference.model->set_learning(eiprop::Learning::autograd);
  const auto sgd = torch::optim::SGDOptions(settings.lr).momentum(settings.momentum);
  for (Side* side : {&rule, &reference}) {
    side->optimizer = std::make_unique<torch::optim::SGD>(side->model->parameters(), sgd);
  }
}

void pack_progress(Run& run, const Settings& settings) {
  const auto last = run.accuracies.empty() ? std::array<double, 4>{} : run.accuracies.back();
  run.progress = torch::tensor(
      {run.rule.loss_sum, static_cast<double>(run.rule.correct), run.rule.step_seconds,
       run.reference.loss_sum, static_cast<double>(run.reference.correct),
       run.reference.step_seconds, run.worst_relative_error, run.worst_cosine,
       run.max_accuracy_gap, last[0], last[1], last[2], last[3], static_cast<double>(run.n),
       static_cast<double>(settings.batch), static_cast<double>(settings.seed)},
      torch::kDouble);
}

void unpack_progress(Run& run) {
  const auto p = run.progress.accessor<double, 1>();
  run.rule.loss_sum = p[0];
  run.rule.correct = static_cast<int64_t>(p[1]);
  run.rule.step_seconds = p[2];
  run.reference.loss_sum = p[3];
  run.reference.correct = static_cast<int64_t>(p[4]);
  run.reference.step_seconds = p[5];
  run.worst_relative_error = p[6];
  run.worst_cosine = p[7];
  run.max_accuracy_gap = p[8];
  if (run.step >= run.steps_per_epoch) run.accuracies.push_back({p[9], p[10], p[11], p[12]});
}

void attach_checkpoints(Run& run, const Settings& settings) {
  // A checkpoint is only valid for the network, training and data it was written with.
  const eiprop::CheckpointConfiguration configuration{
      {"--hidden", fmt::format("{}", fmt::join(settings.hidden, ","))},
      {"--activation", settings.activation},
      {"--method", settings.method},
      {"--dtype", settings.dtype_name},
      {"--lr", fmt::format("{}", settings.lr)},
      {"--momentum", fmt::format("{}", settings.momentum)},
      {"--batch", std::to_string(settings.batch)},
      {"--seed", std::to_string(settings.seed)},
      {"training images (--train-limit)", std::to_string(run.n)}};
  run.checkpoints = std::make_unique<eiprop::Checkpointer>(
      settings.checkpoint_dir, eiprop::CheckpointerOptions()
                                   .every(settings.checkpoint_every)
                                   .keep(settings.checkpoint_keep)
                                   .configuration(configuration));
  run.checkpoints->track("rule", *run.rule.model)
      .track("rule_optimizer", *run.rule.optimizer)
      .track("autograd", *run.reference.model)
      .track("autograd_optimizer", *run.reference.optimizer)
      .track("data_generator_at_epoch_start", run.epoch_generator_state)
      .track("progress", run.progress);
}

// --resume: the newest valid checkpoint's state, if there is one.
void resume(Run& run, const Settings& settings) {
  const auto position = run.checkpoints->load_latest();
  if (!position) {
    fmt::print("no checkpoint in {}: starting from step 0\n", settings.checkpoint_dir);
    return;
  }
  run.step = position->step;
  TORCH_CHECK(run.progress.dim() == 1 && run.progress.size(0) == 16,
              position->path, " is not a checkpoint of this program");
  unpack_progress(run);
  run.resumed = true;
  fmt::print("resumed from {} at step {}\n", position->path, run.step);
}

// The checkpoints, the state of a resumed run, and the CSVs: new, or after a resume the
// interrupted run's rows up to its checkpoint, appended to.
void prepare(Run& run, const Settings& settings) {
  TORCH_CHECK(!settings.resume || !settings.checkpoint_dir.empty(),
              "--resume needs --checkpoint-dir");
  if (!settings.checkpoint_dir.empty()) attach_checkpoints(run, settings);
  if (settings.resume) resume(run, settings);
  const std::string& out = settings.out_dir;
  if (run.resumed) {
    keep_rows_before(out + "/agreement.csv", run.step);
    keep_rows_before(out + "/epochs.csv", run.step / run.steps_per_epoch + 1);
  }
  const auto csv_mode = run.resumed ? std::ios::app : std::ios::out;
  run.agreement_csv.open(out + "/agreement.csv", csv_mode);
  run.epochs_csv.open(out + "/epochs.csv", csv_mode);
  if (!run.resumed) {
    run.agreement_csv << "step,layer,relative_error,cosine\n";
    run.epochs_csv << "epoch,rule_loss,autograd_loss,rule_train_acc,autograd_train_acc,"
                      "rule_test_acc,autograd_test_acc,rule_ms_per_step,autograd_ms_per_step\n";
  }
}

// A checkpoint at step `done`, taken after the epoch's statistics are complete.
void save_checkpoint(Run& run, const Settings& settings, int64_t done) {
  if (!run.checkpoints || done % settings.checkpoint_every != 0) return;
  pack_progress(run, settings);
  run.checkpoints->save(done, done);
}

// Both gradients on the rule model's current weights and this batch, compared per layer.
void record_agreement(Run& run, const torch::Tensor& x, const torch::Tensor& y) {
  auto& model = run.rule.model;
  const auto parameters = model->weights();
  const auto credit_grads =
      torch::autograd::grad({F::cross_entropy(model->forward(x), y)}, parameters);
  model->set_learning(eiprop::Learning::autograd);
  const auto autograd_grads =
      torch::autograd::grad({F::cross_entropy(model->forward(x), y)}, parameters);
  model->set_learning(eiprop::Learning::credit);
  for (size_t l = 0; l < parameters.size(); ++l) {
    const double error = eiprop::relative_error(credit_grads[l], autograd_grads[l]);
    const double cosine = eiprop::cosine_similarity(credit_grads[l], autograd_grads[l]);
    run.worst_relative_error = std::max(run.worst_relative_error, error);
    run.worst_cosine = std::min(run.worst_cosine, cosine);
    run.agreement_csv << run.step << "," << l << "," << fmt::format("{:.6e}", error) << ","
                      << fmt::format("{:.15f}", cosine) << "\n";
  }
}

// The steps of one epoch from step `first` of it; false when --max-steps stopped it.
bool train_epoch(Run& run, const Data& data, const Settings& settings, int epoch, int64_t first) {
  const int64_t n = run.n, batch = settings.batch, steps = run.steps_per_epoch;
  const auto order = torch::randperm(n, run.generator, torch::kLong);
  for (int64_t s = first; s < steps; ++s, ++run.step) {
    const auto index = order.narrow(0, s * batch, std::min(batch, n - s * batch));
    const auto x = data.train.images.index_select(0, index);
    const auto y = data.train.labels.index_select(0, index);
    if (run.step % settings.agreement_every == 0) record_agreement(run, x, y);
    train_step(run.rule, x, y);
    train_step(run.reference, x, y);
    if (s + 1 < steps) save_checkpoint(run, settings, run.step + 1);  // the epoch's last: later
    if (settings.max_steps > 0 && run.step + 1 >= settings.max_steps) {
      fmt::print(stderr, "\nstopped after step {} (--max-steps)\n", run.step + 1);
      return false;
    }
    if (s % 50 == 0 || s + 1 == steps) {
      const auto seen = static_cast<double>(std::min(n, (s + 1) * batch));
      fmt::print(stderr, "\repoch {}/{}  step {:>5}/{}  rule loss {:.4f}  autograd loss {:.4f}",
                 epoch, settings.epochs, s + 1, steps, run.rule.loss_sum / seen,
                 run.reference.loss_sum / seen);
    }
  }
  fmt::print(stderr, "\n");
  return true;
}

// The epoch's test accuracies and its row of epochs.csv, then the epoch-end checkpoint.
void finish_epoch(Run& run, const Data& data, const Settings& settings, int epoch) {
  const auto n = static_cast<double>(run.n);
  const auto dtype = settings.dtype();
  const std::array<double, 4> epoch_accuracy{
      100.0 * static_cast<double>(run.rule.correct) / n,
      100.0 * static_cast<double>(run.reference.correct) / n,
      accuracy(run.rule.model, data.test, dtype), accuracy(run.reference.model, data.test, dtype)};
  run.accuracies.push_back(epoch_accuracy);
  run.max_accuracy_gap =
      std::max(run.max_accuracy_gap, std::abs(epoch_accuracy[2] - epoch_accuracy[3]));
  const auto steps = static_cast<double>(run.steps_per_epoch);
  run.epochs_csv << fmt::format("{},{:.6f},{:.6f},{:.3f},{:.3f},{:.3f},{:.3f},{:.4f},{:.4f}\n",
                                epoch, run.rule.loss_sum / n, run.reference.loss_sum / n,
                                epoch_accuracy[0], epoch_accuracy[1], epoch_accuracy[2],
                                epoch_accuracy[3], 1e3 * run.rule.step_seconds / steps,
                                1e3 * run.reference.step_seconds / steps);
  run.epochs_csv.flush();
  run.agreement_csv.flush();
  save_checkpoint(run, settings, run.step);
}

// The epochs left after a resume (all of them otherwise); false when --max-steps stopped it.
bool train(Run& run, const Data& data, const Settings& settings) {
  const int first_epoch = static_cast<int>(run.step / run.steps_per_epoch) + 1;
  const bool resumed_mid_epoch = run.resumed && run.step % run.steps_per_epoch != 0;
  if (run.resumed) {
    // The generator as it was when the checkpoint's epoch drew its order; at an epoch
    // boundary that epoch is complete and its draw is repeated to move past it.
    run.generator.set_state(run.epoch_generator_state);
    if (!resumed_mid_epoch) torch::randperm(run.n, run.generator, torch::kLong);
  }
  run.start = Clock::now();
  for (int epoch = first_epoch; epoch <= settings.epochs; ++epoch) {
    const bool resumed_epoch = resumed_mid_epoch && epoch == first_epoch;
    if (!resumed_epoch) {
      run.epoch_generator_state = run.generator.get_state();
      for (Side* side : {&run.rule, &run.reference}) {
        side->loss_sum = 0.0;
        side->correct = 0;
        side->step_seconds = 0.0;
      }
    }
    const int64_t first = resumed_epoch ? run.step % run.steps_per_epoch : 0;
    if (!train_epoch(run, data, settings, epoch, first)) return false;
    finish_epoch(run, data, settings, epoch);
  }
  run.agreement_csv.close();
  run.epochs_csv.close();
  return true;
}

struct StepTimes {
  double rule_ms = 0.0, autograd_ms = 0.0;  // summed over the epochs
};

// Per-epoch table from epochs.csv, which holds the epochs of an interrupted run too.
StepTimes print_epoch_table(const std::string& out_dir) {
  fmt::print("\n{:>5}  {:>10}  {:>10}  {:>12}  {:>12}  {:>9}  {:>9}  {:>6}\n", "epoch",
             "rule test%", "autograd %", "rule train%", "autograd tr%", "rule ms", "autog ms",
             "ratio");
  std::ifstream table(out_dir + "/epochs.csv");
  std::string line;
  std::getline(table, line);
  StepTimes total;
  while (std::getline(table, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    std::string cell;
    while (std::getline(row, cell, ',')) cells.push_back(cell);
    const double rule_ms = std::stod(cells[7]), autograd_ms = std::stod(cells[8]);
    total.rule_ms += rule_ms;
    total.autograd_ms += autograd_ms;
    fmt::print("{:>5}  {:>10}  {:>10}  {:>12}  {:>12}  {:>9}  {:>9}  {:>6.2f}\n", cells[0],
               cells[5], cells[6], cells[3], cells[4], cells[7], cells[8], rule_ms / autograd_ms);
  }
  return total;
}

// E/I balance of the rule-trained circuit at equilibrium on (up to) 1000 test images.
void print_ei_balance(eiprop::BalancedMLP& model, const eiprop::examples::Split& test,
                      torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  const auto x = test.images.narrow(0, 0, std::min<int64_t>(1000, test.images.size(0))).to(dtype);
  std::vector<torch::Tensor> weights;
  for (const auto& w : model->weights()) weights.push_back(w.detach());
  std::vector<c10::optional<torch::Tensor>> biases;
  for (const auto& b : model->biases()) {
    biases.push_back(b.has_value() ? c10::optional<torch::Tensor>(b->detach()) : c10::nullopt);
  }
  const auto activations = model->activations();
  const auto equilibrium = eiprop::ei_equilibrium(x, weights, biases, activations);
  std::vector<torch::Tensor> rates{x};
  rates.insert(rates.end(), equilibrium.rates.begin(), equilibrium.rates.end());
  for (const auto& b : eiprop::analysis::ei_balance(
           rates, weights, eiprop::analysis::layered_graph(activations))) {
    fmt::print("E/I balance, population {} (rule): mean E {:.4f}, mean I {:.4f}, I/E {:.4f}, "
               "balance index {:.4f}\n",
               b.population, b.mean_excitatory, b.mean_inhibitory, b.ratio_of_means,
               b.mean_balance_index);
  }
}

void write_summary_json(const Run& run, const Settings& settings, const StepTimes& times,
                        double seconds) {
  const auto& last = run.accuracies.back();
  std::ofstream(settings.out_dir + "/summary.json") << fmt::format(
      "{{\n  \"epochs\": {},\n  \"train_images\": {},\n  \"rule_test_accuracy\": {:.3f},\n"
      "  \"autograd_test_accuracy\": {:.3f},\n  \"max_test_accuracy_gap_pp\": {:.3f},\n"
      "  \"worst_gradient_relative_error\": {:.6e},\n  \"lowest_gradient_cosine\": {:.15f},\n"
      "  \"rule_ms_per_step\": {:.4f},\n  \"autograd_ms_per_step\": {:.4f},\n"
      "  \"rule_last_epoch_loss_sum\": {:.17g},\n  \"autograd_last_epoch_loss_sum\": {:.17g},\n"
      "  \"rule_parameters_fnv1a\": \"{}\",\n  \"autograd_parameters_fnv1a\": \"{}\",\n"
      "  \"seconds\": {:.1f}\n}}\n",
      settings.epochs, run.n, last[2], last[3], run.max_accuracy_gap, run.worst_relative_error,
      run.worst_cosine, times.rule_ms / settings.epochs, times.autograd_ms / settings.epochs,
      run.rule.loss_sum, run.reference.loss_sum, fingerprint(*run.rule.model),
      fingerprint(*run.reference.model), seconds);
}

// Loss, test accuracy and per-layer gradient agreement; false where gnuplot is unavailable.
bool plot(const std::string& out_dir, const std::string& figure, size_t layers) {
  return eiprop::examples::run_gnuplot(
      out_dir + "/ab_autograd.gp",
      "set terminal pngcairo size 1500,450 noenhanced\n"
      "set output '" + figure + "'\n"
      "set datafile separator ','\n"
      "set key autotitle columnhead\n"
      "set multiplot layout 1,3\n"
      "set title 'training loss (cross-entropy)'\nset xlabel 'epoch'\n"
      "plot '" + out_dir + "/epochs.csv' using 1:2 with linespoints title 'rule', '' using 1:3 "
      "with linespoints dashtype 2 title 'autograd'\n"
      "set title 'test accuracy (%)'\n"
      "plot '" + out_dir + "/epochs.csv' using 1:6 with linespoints title 'rule', '' using 1:7 "
      "with linespoints dashtype 2 title 'autograd'\n"
      "set title 'gradient agreement: relative error per layer (exact 0 drawn at 1e-17)'\n"
      "set xlabel 'step'\nset logscale y\nset format y '%.0e'\nset yrange [1e-18:1]\n"
      "plot for [l=0:" + std::to_string(layers - 1) + "] '" + out_dir +
      "/agreement.csv' using 1:($2==l ? ($3 > 0 ? $3 : 1e-17) : 1/0) with points pointsize 0.4 "
      "title sprintf('layer %d', l)\n"
      "unset multiplot\n");
}

// The table, the summary lines, the E/I balance, summary.json and the figure.
void report(Run& run, const Data& data, const Settings& settings) {
  const auto times = print_epoch_table(settings.out_dir);
  const auto& last = run.accuracies.back();
  const double total_seconds = seconds_since(run.start);
  fmt::print("final test accuracy: rule {:.2f}%, autograd {:.2f}%; largest per-epoch gap {:.2f} "
             "percentage points\n",
             last[2], last[3], run.max_accuracy_gap);
  fmt::print("gradient agreement (every {} steps, all layers): worst relative error {:.3e}, "
             "lowest cosine {:.12f}\n",
             settings.agreement_every, run.worst_relative_error, run.worst_cosine);
  fmt::print("step time: rule {:.3f} ms, autograd {:.3f} ms (ratio {:.2f}); total {:.1f} s\n",
             times.rule_ms / settings.epochs, times.autograd_ms / settings.epochs,
             times.rule_ms / times.autograd_ms, total_seconds);
  print_ei_balance(run.rule.model, data.test, settings.dtype());
  write_summary_json(run, settings, times, total_seconds);
  const std::string figure = settings.out_dir + "/ab_autograd.png";
  const bool plotted = plot(settings.out_dir, figure, settings.hidden.size() + 1);
  fmt::print("wrote {}/epochs.csv, agreement.csv, summary.json{}\n", settings.out_dir,
             plotted ? ", and the figure " + figure : " (no figure: gnuplot unavailable)");
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (const int code = parse(argc, argv, settings); code >= 0) return code;
  return eiprop::examples::run_program("ab_autograd", [&] {
    const auto thread_choice = eiprop::examples::set_intra_op_threads(settings.threads);
    const Data data = load_data(settings);
    std::filesystem::create_directories(settings.out_dir);
    Run run(settings, data.train.images.size(0));
    fmt::print("A/B on Fashion-MNIST: {} train / {} test images, model {}, {} epochs, batch {}, "
               "SGD lr {} momentum {}; {} intra-op thread(s) ({})\n",
               run.n, data.test.images.size(0), fmt::streamed(*run.rule.model), settings.epochs,
               settings.batch, settings.lr, settings.momentum, thread_choice.threads,
               thread_choice.why);
    prepare(run, settings);
    if (train(run, data, settings)) report(run, data, settings);
  });
}
