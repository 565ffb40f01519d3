// A Dale's-law E/I circuit trained by the three-timescale simulator (rates, credits and weights
// evolving together), next to the same circuit without sign constraints trained identically.
//
// Circuit (feed-forward inhibition): the input (excitatory, pixel rates >= 0) drives an
// inhibitory population I and an excitatory population E; I inhibits E; E and I both project to
// the output (identity). Every projection keeps the sign of its presynaptic population: after
// each plasticity step W <- max(W, 0) for projections leaving an excitatory population and
// W <- min(W, 0) for those leaving the inhibitory one (eiprop/train/dale.h).
// Reports test accuracy, that no weight broke Dale's law, and E/I balance statistics.
#include "common/command_line.h"
#include "common/fashion_mnist.h"

#include <eiprop/eiprop.h>
#include <eiprop/train/simulator.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kClasses = 10;

// Populations: 0 input (E), 1 I, 2 E, 3 output.
eiprop::Graph dale_graph(const std::string& activation) {
  return eiprop::Graph{{0, 0, 1, 1, 2}, {1, 2, 2, 3, 3}, {activation, activation, "identity"}, 3};
}
const std::vector<eiprop::Sign> kSigns{eiprop::Sign::excitatory, eiprop::Sign::inhibitory,
                                       eiprop::Sign::excitatory, eiprop::Sign::excitatory};

// 10 classes of non-negative patterns: class prototypes in [0, 1]^32 plus noise, clipped at 0.
eiprop::examples::Split synthetic_split(int64_t n, const torch::Tensor& prototypes,
                                        torch::Generator& generator) {
  const auto labels = torch::randint(0, kClasses, {n}, generator, torch::kLong);
  const auto noise = torch::randn({n, prototypes.size(1)}, generator, torch::kFloat) * 0.35;
  return {(prototypes.index_select(0, labels) + noise).clamp(0, 1), labels};
}

// The equilibrium of the feed-forward graph (populations are numbered in topological order).
std::vector<torch::Tensor> equilibrium(const torch::Tensor& input, const eiprop::Graph& graph,
                                       const std::vector<torch::Tensor>& weights,
                                       const std::vector<c10::optional<torch::Tensor>>& biases) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> rates{input};
  for (int64_t p = 1; p <= graph.populations(); ++p) {
    torch::Tensor drive = *biases[p - 1];
    for (int64_t k = 0; k < graph.projections(); ++k) {
      if (graph.post[k] == p) drive = drive + rates[graph.pre[k]].matmul(weights[k].t());
    }
    rates.push_back(eiprop::autograd_rate(graph.activations[p - 1], drive));
  }
  return rates;
}

double accuracy(const eiprop::Simulator& simulator, const eiprop::examples::Split& split) {
  const auto rates = equilibrium(split.images, simulator.graph(), simulator.weights(),
                                 simulator.biases());
  return 100.0 * rates.back().argmax(1).eq(split.labels).sum().item<double>() /
         static_cast<double>(split.labels.size(0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dale's-law E/I circuit trained by the three-timescale simulator"};
  std::string task = "fashion";
  int64_t excitatory = 128;
  int64_t inhibitory = 32;
  std::string activation = "relu";
  int epochs = 3;
  int64_t batch = 32;
  int64_t train_limit = 10000;
  double lr = 0.05;
  double tau_c = 1.0;
  double dt = 1.0;
  int64_t steps = 12;
  double input_gain = 2.0;
  uint64_t seed = 0;
  int threads = 1;
  std::string data_dir = eiprop::examples::kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/dale";
  app.add_option("--task", task, "fashion (Fashion-MNIST) or synthetic (10 noisy prototypes)")
      ->capture_default_str()->check(CLI::IsMember({"fashion", "synthetic"}));
  app.add_option("--excitatory", excitatory, "neurons in the excitatory population")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--inhibitory", inhibitory, "neurons in the inhibitory population")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--activation", activation, "activation of E and I (non-negative rates: relu, "
                 "softplus, sigmoid)")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--train-limit", train_limit, "training examples (0: all)")
      ->capture_default_str()
      ->check(eiprop::examples::non_negative());
  app.add_option("--lr", lr, "equivalent learning rate per presentation, eta T / tau_W")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--tau-c", tau_c, "credit time constant in units of tau_r")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--dt", dt, "Euler step in units of tau_r")->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--steps", steps, "Euler steps per presented batch")->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--input-gain", input_gain, "initial input weight magnitude x N_0")
      ->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads (the circuit's tensors are "
                 "small: one thread avoids synchronisation overhead)")
      ->capture_default_str()->check(eiprop::examples::positive());
  eiprop::examples::add_fashion_mnist_options(app, data_dir, cache_dir);
  app.add_option("--out", out_dir, "output directory (CSV, JSON)")->capture_default_str();
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }

  try {
    torch::set_num_threads(threads);
    torch::manual_seed(seed);
    eiprop::examples::Split train, test;
    if (task == "fashion") {
      train = eiprop::examples::load_fashion_mnist(data_dir, cache_dir, true);
      test = eiprop::examples::load_fashion_mnist(data_dir, cache_dir, false);
    } else {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(seed + 7);
      const auto prototypes = torch::rand({kClasses, 32}, generator, torch::kFloat);
      train = synthetic_split(4000, prototypes, generator);
      test = synthetic_split(1000, prototypes, generator);
    }
    if (train_limit > 0 && train_limit < train.images.size(0)) {
      train = {train.images.narrow(0, 0, train_limit), train.labels.narrow(0, 0, train_limit)};
    }
    if (train.images.size(0) < batch) {
      return eiprop::examples::usage_error(
          app, "--train-limit",
          fmt::format("leaves {} training examples, fewer than one batch (--batch {}): nothing "
                      "would be trained",
                      train.images.size(0), batch));
    }
    std::filesystem::create_directories(out_dir);
    const int64_t inputs = train.images.size(1);
    const auto graph = dale_graph(activation);

    // Magnitudes: input weights input_gain / N_0 (all pixels push a neuron to about input_gain *
    // the mean pixel), the others 1/sqrt(fan-in); signs from the presynaptic population.
    const std::vector<int64_t> fan_in{inputs, inputs + inhibitory, inhibitory + excitatory};
    std::vector<torch::Tensor> weights{
        torch::randn({inhibitory, inputs}) * (input_gain / static_cast<double>(inputs)),
        torch::randn({excitatory, inputs}) * (input_gain / static_cast<double>(inputs)),
        torch::randn({excitatory, inhibitory}) / std::sqrt(static_cast<double>(inhibitory)),
        torch::randn({kClasses, inhibitory}) / std::sqrt(static_cast<double>(fan_in[2])),
        torch::randn({kClasses, excitatory}) / std::sqrt(static_cast<double>(fan_in[2]))};
    weights = eiprop::dale_initialise(weights, graph, kSigns);
    const std::vector<c10::optional<torch::Tensor>> biases{
        torch::zeros({inhibitory}), torch::zeros({excitatory}), torch::zeros({kClasses})};

    const double presentation = static_cast<double>(steps) * dt;
    const auto options = eiprop::SimulatorOptions()
                             .tau_r(1.0).tau_c(tau_c).tau_W(presentation / lr).eta(1.0).dt(dt)
                             .steps_per_presentation(steps);
    auto dale_options = options;
    dale_options.signs(kSigns);
    eiprop::Simulator dale(weights, biases, graph, dale_options);
    eiprop::Simulator free_circuit(weights, biases, graph, options);
    fmt::print("{}: {} train / {} test examples; circuit input {} (E) -> I {} / E {} ({}) -> "
               "output {}; tau_c {} tau_r, {} steps of {} tau_r per batch of {}, tau_W {:.1f} "
               "(lr {})\n",
               task, train.images.size(0), test.images.size(0), inputs, inhibitory, excitatory,
               activation, kClasses, tau_c, steps, dt, batch, options.tau_W(), lr);

    std::ofstream csv(out_dir + "/epochs.csv");
    csv << "epoch,dale_train_loss,free_train_loss,dale_test_acc,free_test_acc,seconds\n";
    const int64_t n = train.images.size(0);
    const int64_t batches = n / batch;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
    const auto start_all = Clock::now();
    double dale_accuracy = 0.0, free_accuracy = 0.0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto start = Clock::now();
      const auto order = torch::randperm(n, generator, torch::kLong).narrow(0, 0, batches * batch);
      const auto x = train.images.index_select(0, order).view({batches, batch, inputs});
      const auto y = torch::one_hot(train.labels.index_select(0, order), kClasses)
                         .to(torch::kFloat).view({batches, batch, kClasses});
      const auto dale_loss = dale.run(x, y).loss.mean().item<double>();
      const auto free_loss = free_circuit.run(x, y).loss.mean().item<double>();
      dale_accuracy = accuracy(dale, test);
      free_accuracy = accuracy(free_circuit, test);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      csv << fmt::format("{},{:.6f},{:.6f},{:.3f},{:.3f},{:.2f}\n", epoch, dale_loss, free_loss,
                         dale_accuracy, free_accuracy, seconds);
      fmt::print("epoch {}: loss Dale {:.4f} / free {:.4f}; test accuracy Dale {:.2f}% / free "
                 "{:.2f}% ({:.1f} s)\n",
                 epoch, dale_loss, free_loss, dale_accuracy, free_accuracy, seconds);
    }
    csv.close();

    // Dale's law held throughout (the simulator projects after every step; checked here).
    eiprop::check_dale("dale", dale.weights(), graph, kSigns);
    int64_t silent = 0, total = 0, free_flipped = 0;
    for (const auto& w : dale.weights()) {
      silent += w.eq(0).sum().item<int64_t>();
      total += w.numel();
    }
    for (auto count : eiprop::dale_violations(free_circuit.weights(), graph, kSigns)) {
      free_flipped += count;
    }
    fmt::print("Dale's law: 0 weights of the wrong sign; {:.1f}% of the synapses held at 0 by the "
               "projection; the unconstrained circuit has {:.1f}% of its weights on the other "
               "side\n",
               100.0 * silent / total, 100.0 * free_flipped / total);

    const auto names = std::vector<std::string>{"I", "E", "output"};
    const auto rates = equilibrium(test.images, graph, dale.weights(), dale.biases());
    fmt::print("E/I balance of the Dale circuit on the test set:\n");
    std::ofstream balance_csv(out_dir + "/ei_balance.csv");
    balance_csv << "population,name,mean_excitatory,mean_inhibitory,ratio_of_means,"
                   "mean_balance_index,silent\n";
    for (const auto& b : eiprop::analysis::ei_balance(rates, dale.weights(), graph)) {
      fmt::print("  population {} ({}): mean E {:.4f}, mean I {:.4f}, I/E {:.4f}, balance index "
                 "{:.4f}\n",
                 b.population, names[b.population - 1], b.mean_excitatory, b.mean_inhibitory,
                 b.ratio_of_means, b.mean_balance_index);
      balance_csv << fmt::format("{},{},{:.6e},{:.6e},{:.6e},{:.6e},{}\n", b.population,
                                 names[b.population - 1], b.mean_excitatory, b.mean_inhibitory,
                                 b.ratio_of_means, b.mean_balance_index, b.silent);
    }
    const double total_seconds = std::chrono::duration<double>(Clock::now() - start_all).count();
    std::ofstream(out_dir + "/summary.json") << fmt::format(
        "{{\n  \"task\": \"{}\",\n  \"epochs\": {},\n  \"train_examples\": {},\n"
        "  \"dale_test_accuracy\": {:.3f},\n  \"free_test_accuracy\": {:.3f},\n"
        "  \"dale_silent_synapse_fraction\": {:.4f},\n  \"seconds\": {:.1f}\n}}\n",
        task, epochs, n, dale_accuracy, free_accuracy, static_cast<double>(silent) / total,
        total_seconds);
    fmt::print("final test accuracy: Dale circuit {:.2f}%, unconstrained {:.2f}%; wrote {}/ "
               "epochs.csv, ei_balance.csv, summary.json ({:.1f} s)\n",
               dale_accuracy, free_accuracy, out_dir, total_seconds);
  } catch (const eiprop::examples::MissingData& error) {
    fmt::print(stderr, "dale: {}\n", error.what());
    return eiprop::examples::kMissingData;
  } catch (const std::exception& error) {
    fmt::print(stderr, "dale: {}\n", error.what());
    return 1;
  }
  return 0;
}
