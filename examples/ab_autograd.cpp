// A/B: the same initialisation trained side by side on the same Fashion-MNIST batches, once by
// the rule (BalancedMLP, learning=credit: E-I equilibrium forward, credit relaxation backward)
// and once by LibTorch autograd, each with its own SGD-with-momentum optimizer. Per step and layer
// it records how the rule's gradient agrees with autograd's on the rule model's own weights; per
// epoch loss, train/test accuracy and step time of both. Writes CSV, JSON and a PNG figure.
#include "common/command_line.h"
#include "common/fashion_mnist.h"
#include "common/gnuplot.h"
#include "common/threads.h"

#include <eiprop/analysis/ei_balance.h>
#include <eiprop/eiprop.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <fmt/ostream.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>

namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A/B test of the eiprop rule against LibTorch autograd on Fashion-MNIST"};
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
  std::string data_dir = eiprop::examples::kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/ab_autograd";
  std::string checkpoint_dir;
  int64_t checkpoint_every = 500;
  int64_t checkpoint_keep = 3;
  bool resume = false;
  int64_t max_steps = 0;
  app.add_option("--hidden", hidden, "hidden widths, comma-separated")
      ->delimiter(',')
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--activation", activation, "hidden activation")->capture_default_str();
  app.add_option("--method", method, "relaxation method: sweep, jacobi, euler")
      ->capture_default_str();
  app.add_option("--dtype", dtype_name, "float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--epochs", epochs, "epochs")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--lr", lr, "SGD learning rate")->capture_default_str();
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str();
  app.add_option("--train-limit", train_limit, "use only the first N training images (0: all)")
      ->capture_default_str();
  app.add_option("--agreement-every", agreement_every,
                 "compare the rule's gradient with autograd's every N steps")
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  int threads = 0;
  eiprop::examples::add_threads_option(app, threads);
  app.add_option("--data-dir", data_dir, "directory of the Fashion-MNIST .gz files")
      ->capture_default_str();
  app.add_option("--cache-dir", cache_dir, "where the decompressed IDX files go")
      ->capture_default_str();
  app.add_option("--out", out_dir, "output directory (CSV, JSON, PNG)")->capture_default_str();
  app.add_option("--checkpoint-dir", checkpoint_dir,
                 "save checkpoints (both models, optimizers, RNG, data position) here");
  app.add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints")
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--checkpoint-keep", checkpoint_keep, "checkpoints kept")
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_flag("--resume", resume,
               "continue from the newest valid checkpoint in --checkpoint-dir (bitwise the run "
               "that was interrupted)");
  app.add_option("--max-steps", max_steps,
                 "stop after this many training steps in all, as an interrupted run would (0: "
                 "train all epochs); --resume continues from the newest checkpoint")
      ->capture_default_str()
      ->check(eiprop::examples::non_negative());
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }

  try {
    const auto thread_choice = eiprop::examples::set_intra_op_threads(threads);
    const auto dtype = dtype_name == "float64" ? torch::kFloat64 : torch::kFloat32;
    auto train = eiprop::examples::load_fashion_mnist(data_dir, cache_dir, true);
    const auto test = eiprop::examples::load_fashion_mnist(data_dir, cache_dir, false);
    if (train_limit > 0 && train_limit < train.images.size(0)) {
      train = {train.images.narrow(0, 0, train_limit), train.labels.narrow(0, 0, train_limit)};
    }
    train.images = train.images.to(dtype);
    std::filesystem::create_directories(out_dir);

    std::vector<int64_t> widths{784};
    widths.insert(widths.end(), hidden.begin(), hidden.end());
    widths.push_back(10);
    torch::manual_seed(seed);
    Side rule{"rule", eiprop::BalancedMLP(eiprop::BalancedMLPOptions(widths)
                                              .activation(activation)
                                              .relaxation(eiprop::RelaxationOptions(method))),
              nullptr};
    rule.model->to(dtype);
    Side reference{"autograd",
                   std::dynamic_pointer_cast<eiprop::BalancedMLPImpl>(rule.model->clone()),
                   nullptr};
    reference.model->set_learning(eiprop::Learning::autograd);
    for (Side* side : {&rule, &reference}) {
      side->optimizer = std::make_unique<torch::optim::SGD>(
          side->model->parameters(), torch::optim::SGDOptions(lr).momentum(momentum));
    }
    fmt::print("A/B on Fashion-MNIST: {} train / {} test images, model {}, {} epochs, batch {}, "
               "SGD lr {} momentum {}; {} intra-op thread(s) ({})\n",
               train.images.size(0), test.images.size(0),
               fmt::streamed(*rule.model), epochs, batch, lr, momentum, thread_choice.threads,
               thread_choice.why);

    const int64_t n = train.images.size(0);
    const int64_t steps_per_epoch = (n + batch - 1) / batch;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
    int64_t step = 0;
    double worst_relative_error = 0.0;
    double worst_cosine = 1.0;
    double max_accuracy_gap = 0.0;
    std::vector<std::array<double, 4>> accuracies;  // rule/autograd train, rule/autograd test

    // Checkpoints: both sides' models and optimizers, the data order's generator as it was when
    // the epoch's permutation was drawn, and the running statistics; the position is the step.
    TORCH_CHECK(!resume || !checkpoint_dir.empty(), "--resume needs --checkpoint-dir");
    std::unique_ptr<eiprop::Checkpointer> checkpoints;
    torch::Tensor epoch_generator_state;
    torch::Tensor progress;
    const auto pack_progress = [&] {
      const auto last = accuracies.empty() ? std::array<double, 4>{} : accuracies.back();
      progress = torch::tensor(
          {rule.loss_sum, static_cast<double>(rule.correct), rule.step_seconds,
           reference.loss_sum, static_cast<double>(reference.correct), reference.step_seconds,
           worst_relative_error, worst_cosine, max_accuracy_gap, last[0], last[1], last[2],
           last[3], static_cast<double>(n), static_cast<double>(batch),
           static_cast<double>(seed)},
          torch::kDouble);
    };
    if (!checkpoint_dir.empty()) {
      // A checkpoint is only valid for the network, training and data it was written with.
      const eiprop::CheckpointConfiguration configuration{
          {"--hidden", fmt::format("{}", fmt::join(hidden, ","))},
          {"--activation", activation},
          {"--method", method},
          {"--dtype", dtype_name},
          {"--lr", fmt::format("{}", lr)},
          {"--momentum", fmt::format("{}", momentum)},
          {"--batch", std::to_string(batch)},
          {"--seed", std::to_string(seed)},
          {"training images (--train-limit)", std::to_string(n)}};
      checkpoints = std::make_unique<eiprop::Checkpointer>(
          checkpoint_dir, eiprop::CheckpointerOptions()
                              .every(checkpoint_every)
                              .keep(checkpoint_keep)
                              .configuration(configuration));
      checkpoints->track("rule", *rule.model)
          .track("rule_optimizer", *rule.optimizer)
          .track("autograd", *reference.model)
          .track("autograd_optimizer", *reference.optimizer)
          .track("data_generator_at_epoch_start", epoch_generator_state)
          .track("progress", progress);
    }
    bool resumed = false;
    if (resume) {
      if (const auto position = checkpoints->load_latest()) {
        step = position->step;
        TORCH_CHECK(progress.dim() == 1 && progress.size(0) == 16,
                    position->path, " is not a checkpoint of this program");
        const auto p = progress.accessor<double, 1>();
        rule.loss_sum = p[0];
        rule.correct = static_cast<int64_t>(p[1]);
        rule.step_seconds = p[2];
        reference.loss_sum = p[3];
        reference.correct = static_cast<int64_t>(p[4]);
        reference.step_seconds = p[5];
        worst_relative_error = p[6];
        worst_cosine = p[7];
        max_accuracy_gap = p[8];
        if (step >= steps_per_epoch) accuracies.push_back({p[9], p[10], p[11], p[12]});
        resumed = true;
        fmt::print("resumed from {} at step {}\n", position->path, step);
      } else {
        fmt::print("no checkpoint in {}: starting from step 0\n", checkpoint_dir);
      }
    }
    if (resumed) {
      keep_rows_before(out_dir + "/agreement.csv", step);
      keep_rows_before(out_dir + "/epochs.csv", step / steps_per_epoch + 1);
    }
    const auto csv_mode = resumed ? std::ios::app : std::ios::out;
    std::ofstream agreement_csv(out_dir + "/agreement.csv", csv_mode);
    std::ofstream epochs_csv(out_dir + "/epochs.csv", csv_mode);
    if (!resumed) {
      agreement_csv << "step,layer,relative_error,cosine\n";
      epochs_csv << "epoch,rule_loss,autograd_loss,rule_train_acc,autograd_train_acc,"
                    "rule_test_acc,autograd_test_acc,rule_ms_per_step,autograd_ms_per_step\n";
    }

    const int first_epoch = static_cast<int>(step / steps_per_epoch) + 1;
    const bool resumed_mid_epoch = resumed && step % steps_per_epoch != 0;
    if (resumed) {
      // The generator as it was when the checkpoint's epoch drew its order; at an epoch
      // boundary that epoch is complete and its draw is repeated to move past it.
      generator.set_state(epoch_generator_state);
      if (!resumed_mid_epoch) torch::randperm(n, generator, torch::kLong);
    }
    // A checkpoint at step `done`, taken after the epoch's statistics are complete.
    const auto save_checkpoint = [&](int64_t done) {
      if (!checkpoints || done % checkpoint_every != 0) return;
      pack_progress();
      checkpoints->save(done, done);
    };
    const auto start_all = Clock::now();
    for (int epoch = first_epoch; epoch <= epochs; ++epoch) {
      const bool resumed_epoch = resumed_mid_epoch && epoch == first_epoch;
      if (!resumed_epoch) {
        epoch_generator_state = generator.get_state();
        for (Side* side : {&rule, &reference}) {
          side->loss_sum = 0.0;
          side->correct = 0;
          side->step_seconds = 0.0;
        }
      }
      const auto order = torch::randperm(n, generator, torch::kLong);
      for (int64_t s = resumed_epoch ? step % steps_per_epoch : 0; s < steps_per_epoch;
           ++s, ++step) {
        const auto index = order.narrow(0, s * batch, std::min(batch, n - s * batch));
        const auto x = train.images.index_select(0, index);
        const auto y = train.labels.index_select(0, index);
        if (step % agreement_every == 0) {
          // Both gradients on the rule model's current weights and this batch.
          const auto parameters = rule.model->weights();
          const auto credit_grads = torch::autograd::grad(
              {F::cross_entropy(rule.model->forward(x), y)}, parameters);
          rule.model->set_learning(eiprop::Learning::autograd);
          const auto autograd_grads = torch::autograd::grad(
              {F::cross_entropy(rule.model->forward(x), y)}, parameters);
          rule.model->set_learning(eiprop::Learning::credit);
          for (size_t l = 0; l < parameters.size(); ++l) {
            const double error = eiprop::relative_error(credit_grads[l], autograd_grads[l]);
            const double cosine = eiprop::cosine_similarity(credit_grads[l], autograd_grads[l]);
            worst_relative_error = std::max(worst_relative_error, error);
            worst_cosine = std::min(worst_cosine, cosine);
            agreement_csv << step << "," << l << "," << fmt::format("{:.6e}", error) << ","
                          << fmt::format("{:.15f}", cosine) << "\n";
          }
        }
        train_step(rule, x, y);
        train_step(reference, x, y);
        if (s + 1 < steps_per_epoch) save_checkpoint(step + 1);  // the epoch's last: below
        if (max_steps > 0 && step + 1 >= max_steps) {
          fmt::print(stderr, "\nstopped after step {} (--max-steps)\n", step + 1);
          return 0;
        }
        if (s % 50 == 0 || s + 1 == steps_per_epoch) {
          fmt::print(stderr, "\repoch {}/{}  step {:>5}/{}  rule loss {:.4f}  autograd loss {:.4f}",
                     epoch, epochs, s + 1, steps_per_epoch,
                     rule.loss_sum / static_cast<double>(std::min(n, (s + 1) * batch)),
                     reference.loss_sum / static_cast<double>(std::min(n, (s + 1) * batch)));
        }
      }
      fmt::print(stderr, "\n");
      const std::array<double, 4> epoch_accuracy{
          100.0 * static_cast<double>(rule.correct) / static_cast<double>(n),
          100.0 * static_cast<double>(reference.correct) / static_cast<double>(n),
          accuracy(rule.model, test, dtype), accuracy(reference.model, test, dtype)};
      accuracies.push_back(epoch_accuracy);
      max_accuracy_gap = std::max(max_accuracy_gap, std::abs(epoch_accuracy[2] - epoch_accuracy[3]));
      const double rule_ms = 1e3 * rule.step_seconds / static_cast<double>(steps_per_epoch);
      const double autograd_ms = 1e3 * reference.step_seconds / static_cast<double>(steps_per_epoch);
      epochs_csv << fmt::format("{},{:.6f},{:.6f},{:.3f},{:.3f},{:.3f},{:.3f},{:.4f},{:.4f}\n",
                                epoch, rule.loss_sum / static_cast<double>(n),
                                reference.loss_sum / static_cast<double>(n), epoch_accuracy[0],
                                epoch_accuracy[1], epoch_accuracy[2], epoch_accuracy[3], rule_ms,
                                autograd_ms);
      epochs_csv.flush();
      agreement_csv.flush();
      save_checkpoint(step);
    }
    agreement_csv.close();
    epochs_csv.close();

    // Per-epoch table from the CSV just written.
    fmt::print("\n{:>5}  {:>10}  {:>10}  {:>12}  {:>12}  {:>9}  {:>9}  {:>6}\n", "epoch",
               "rule test%", "autograd %", "rule train%", "autograd tr%", "rule ms", "autog ms",
               "ratio");
    std::ifstream table(out_dir + "/epochs.csv");
    std::string line;
    std::getline(table, line);
    double rule_ms_total = 0.0, autograd_ms_total = 0.0;
    while (std::getline(table, line)) {
      std::vector<std::string> cells;
      std::stringstream row(line);
      std::string cell;
      while (std::getline(row, cell, ',')) cells.push_back(cell);
      const double rule_ms = std::stod(cells[7]), autograd_ms = std::stod(cells[8]);
      rule_ms_total += rule_ms;
      autograd_ms_total += autograd_ms;
      fmt::print("{:>5}  {:>10}  {:>10}  {:>12}  {:>12}  {:>9}  {:>9}  {:>6.2f}\n", cells[0],
                 cells[5], cells[6], cells[3], cells[4], cells[7], cells[8], rule_ms / autograd_ms);
    }
    const auto& last = accuracies.back();
    const double total_seconds = seconds_since(start_all);
    fmt::print("final test accuracy: rule {:.2f}%, autograd {:.2f}%; largest per-epoch gap {:.2f} "
               "percentage points\n",
               last[2], last[3], max_accuracy_gap);
    fmt::print("gradient agreement (every {} steps, all layers): worst relative error {:.3e}, "
               "lowest cosine {:.12f}\n",
               agreement_every, worst_relative_error, worst_cosine);
    fmt::print("step time: rule {:.3f} ms, autograd {:.3f} ms (ratio {:.2f}); total {:.1f} s\n",
               rule_ms_total / epochs, autograd_ms_total / epochs,
               rule_ms_total / autograd_ms_total, total_seconds);

    // E/I balance of the rule-trained circuit at equilibrium on (up to) 1000 test images.
    {
      torch::NoGradGuard no_grad;
      const auto x = test.images.narrow(0, 0, std::min<int64_t>(1000, test.images.size(0)))
                         .to(dtype);
      std::vector<torch::Tensor> weights;
      for (const auto& w : rule.model->weights()) weights.push_back(w.detach());
      std::vector<c10::optional<torch::Tensor>> biases;
      for (const auto& b : rule.model->biases()) {
        biases.push_back(b.has_value() ? c10::optional<torch::Tensor>(b->detach()) : c10::nullopt);
      }
      const auto activations = rule.model->activations();
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

    std::ofstream(out_dir + "/summary.json")
        << fmt::format(
               "{{\n  \"epochs\": {},\n  \"train_images\": {},\n  \"rule_test_accuracy\": {:.3f},\n"
               "  \"autograd_test_accuracy\": {:.3f},\n  \"max_test_accuracy_gap_pp\": {:.3f},\n"
               "  \"worst_gradient_relative_error\": {:.6e},\n  \"lowest_gradient_cosine\": {:.15f},\n"
               "  \"rule_ms_per_step\": {:.4f},\n  \"autograd_ms_per_step\": {:.4f},\n"
               "  \"rule_last_epoch_loss_sum\": {:.17g},\n  \"autograd_last_epoch_loss_sum\": {:.17g},\n"
               "  \"rule_parameters_fnv1a\": \"{}\",\n  \"autograd_parameters_fnv1a\": \"{}\",\n"
               "  \"seconds\": {:.1f}\n}}\n",
               epochs, n, last[2], last[3], max_accuracy_gap, worst_relative_error, worst_cosine,
               rule_ms_total / epochs, autograd_ms_total / epochs, rule.loss_sum,
               reference.loss_sum, fingerprint(*rule.model), fingerprint(*reference.model),
               total_seconds);

    const std::string figure = out_dir + "/ab_autograd.png";
    const bool plotted = eiprop::examples::run_gnuplot(
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
        "plot for [l=0:" + std::to_string(widths.size() - 2) + "] '" + out_dir +
        "/agreement.csv' using 1:($2==l ? ($3 > 0 ? $3 : 1e-17) : 1/0) with points pointsize 0.4 "
        "title sprintf('layer %d', l)\n"
        "unset multiplot\n");
    fmt::print("wrote {}/epochs.csv, agreement.csv, summary.json{}\n", out_dir,
               plotted ? ", and the figure " + figure : " (no figure: gnuplot unavailable)");
  } catch (const eiprop::examples::MissingData& error) {
    fmt::print(stderr, "ab_autograd: {}\n", error.what());
    return eiprop::examples::kMissingData;
  } catch (const std::exception& error) {
    fmt::print(stderr, "ab_autograd: {}\n", error.what());
    return 1;
  }
  return 0;
}
