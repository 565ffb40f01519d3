// The timescale study (docs/theory.md §5): a small circuit learns a teacher's mapping with the
// three-timescale simulator — rates, credits and weights all evolving at once — for a grid of
// separations tau_c/tau_r and tau_W/tau_c, and each run is compared with backprop-SGD (LibTorch
// autograd) on the same stream of batches with the equivalent learning rate
// lr = eta * T / tau_W (T: presentation time). With the gain eta fixed, T = lr tau_W / eta, so the
// plasticity ratio tau_W/tau_c also sets how many credit time constants fit in a presentation.
// Distance: ||theta_sim - theta_sgd||_F / ||theta_sgd - theta_0||_F over all weights and biases
// (the error of what was learned). Writes CSV, JSON and a PNG heat map.
#include "common/command_line.h"
#include "common/gnuplot.h"

#include <eiprop/eiprop.h>
#include <eiprop/simulator.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace {

using Clock = std::chrono::steady_clock;

struct Parameters {
  std::vector<torch::Tensor> weights;
  std::vector<c10::optional<torch::Tensor>> biases;
};

Parameters random_parameters(const std::vector<int64_t>& widths, double gain,
                             torch::ScalarType dtype) {
  Parameters parameters;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    parameters.weights.push_back(torch::randn({widths[l + 1], widths[l]}, dtype) * gain /
                                 std::sqrt(static_cast<double>(widths[l])));
    parameters.biases.push_back(torch::randn({widths[l + 1]}, dtype) * 0.1);
  }
  return parameters;
}

// Plain SGD with autograd's gradients of Loss = 1/(2B) sum ||y - r_L||^2, `substeps` steps of
// lr/substeps per presented batch (1: backprop-SGD; many: the continuous drift of W that an
// infinitely separated circuit follows during a presentation).
Parameters sgd(const Parameters& start, const std::vector<std::string>& activations,
               const torch::Tensor& inputs, const torch::Tensor& targets, double lr,
               int substeps) {
  Parameters p;
  for (const auto& w : start.weights) p.weights.push_back(w.clone());
  for (const auto& b : start.biases) p.biases.push_back(b->clone());
  for (int64_t t = 0; t < inputs.size(0); ++t) {
    for (int s = 0; s < substeps; ++s) {
      const auto grads =
          eiprop::autograd_gradients(inputs[t], p.weights, p.biases, activations, targets[t]);
      for (size_t l = 0; l < p.weights.size(); ++l) {
        p.weights[l] = p.weights[l] - lr / substeps * grads.weight_grads[l];
        p.biases[l] = *p.biases[l] - lr / substeps * grads.bias_grads[l];
      }
    }
  }
  return p;
}

double squared_distance(const Parameters& a, const Parameters& b) {
  double sum = 0.0;
  for (size_t l = 0; l < a.weights.size(); ++l) {
    sum += (a.weights[l] - b.weights[l]).pow(2).sum().item<double>();
    sum += (*a.biases[l] - *b.biases[l]).pow(2).sum().item<double>();
  }
  return sum;
}

double mean_loss(const Parameters& p, const std::vector<std::string>& activations,
                 const torch::Tensor& inputs, const torch::Tensor& targets) {
  torch::NoGradGuard no_grad;
  const auto x = inputs.reshape({-1, inputs.size(2)});
  const auto y = targets.reshape({-1, targets.size(2)});
  const auto output = eiprop::autograd_forward(x, p.weights, p.biases, activations);
  return (y - output).pow(2).sum().item<double>() / (2.0 * static_cast<double>(x.size(0)));
}

std::string ratio_label(double ratio) { return fmt::format("{:g}", ratio); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Timescale study: how far the three-timescale circuit's learning is from "
               "backprop-SGD, over a grid of tau_c/tau_r and tau_W/tau_c"};
  std::vector<int64_t> widths{4, 8, 2};
  std::string activation = "tanh";
  std::vector<double> credit_ratios{1, 3, 10, 30};
  std::vector<double> plasticity_ratios{10, 30, 100, 300};
  int64_t presentations = 30;
  int64_t batch = 4;
  double lr = 0.05;
  double eta = 1.0;
  double dt = 0.5;
  int limit_substeps = 100;
  uint64_t seed = 0;
  int threads = 1;
  std::string out_dir = "out/timescales";
  app.add_option("--widths", widths, "layer widths N_0,...,N_L")->delimiter(',')
      ->capture_default_str();
  app.add_option("--activation", activation, "hidden activation (the output is identity)")
      ->capture_default_str();
  app.add_option("--credit-ratios", credit_ratios, "tau_c / tau_r values")->delimiter(',')
      ->capture_default_str();
  app.add_option("--plasticity-ratios", plasticity_ratios, "tau_W / tau_c values")
      ->delimiter(',')->capture_default_str();
  app.add_option("--presentations", presentations, "batches presented (one SGD step each)")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--lr", lr, "equivalent SGD learning rate eta * T / tau_W")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--eta", eta, "plasticity gain eta")->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--dt", dt, "Euler step in units of tau_r (<= 1)")->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--limit-substeps", limit_substeps,
                 "SGD substeps per batch for the separated-limit reference")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads (the circuit's tensors are "
                 "small: one thread avoids synchronisation overhead)")
      ->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--out", out_dir, "output directory (CSV, JSON, PNG)")->capture_default_str();
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }

  try {
    torch::set_num_threads(threads);
    TORCH_CHECK(widths.size() >= 2, "timescales: --widths needs at least an input and an output");
    std::vector<std::string> activations(widths.size() - 2, activation);
    activations.push_back("identity");
    const auto dtype = torch::kFloat64;
    torch::manual_seed(seed);
    const auto teacher = random_parameters(widths, 1.5, dtype);
    const auto student = random_parameters(widths, 1.0, dtype);
    const auto inputs = torch::randn({presentations, batch, widths.front()}, dtype);
    torch::Tensor targets;
    {
      torch::NoGradGuard no_grad;
      targets = eiprop::autograd_forward(inputs.reshape({-1, widths.front()}), teacher.weights,
                                         teacher.biases, activations)
                    .reshape({presentations, batch, widths.back()});
    }
    std::filesystem::create_directories(out_dir);

    const auto start_all = Clock::now();
    const auto reference = sgd(student, activations, inputs, targets, lr, 1);
    const double learned = std::sqrt(squared_distance(reference, student));
    const auto limit = sgd(student, activations, inputs, targets, lr, limit_substeps);
    const double limit_distance = std::sqrt(squared_distance(limit, reference)) / learned;
    const double loss_before = mean_loss(student, activations, inputs, targets);
    const double loss_sgd = mean_loss(reference, activations, inputs, targets);
    fmt::print("circuit {} ({}), {} presentations of batch {}, lr {} (eta {}), dt {} tau_r\n",
               fmt::join(widths, "-"), activation, presentations, batch, lr, eta, dt);
    fmt::print("loss on the stream: before {:.5f}, after backprop-SGD {:.5f}\n", loss_before,
               loss_sgd);
    fmt::print("separated limit (SGD drift in {} substeps per batch) vs SGD: distance {:.4e}\n",
               limit_substeps, limit_distance);

    std::ofstream csv(out_dir + "/timescales.csv");
    csv << "credit_ratio,plasticity_ratio,tau_r,tau_c,tau_W,presentation_time,"
           "steps_per_presentation,distance,final_loss,seconds\n";
    std::vector<std::vector<double>> distance(credit_ratios.size(),
                                              std::vector<double>(plasticity_ratios.size()));
    const auto graph = eiprop::analysis::layered_graph(activations);
    Parameters best;
    for (size_t i = 0; i < credit_ratios.size(); ++i) {
      for (size_t j = 0; j < plasticity_ratios.size(); ++j) {
        const auto start = Clock::now();
        const double tau_r = 1.0, tau_c = credit_ratios[i] * tau_r;
        const double tau_W = plasticity_ratios[j] * tau_c;
        // T = lr tau_W / eta, rounded to whole steps; tau_W then matches lr exactly.
        const auto steps = std::max<int64_t>(1, std::llround(lr * tau_W / eta / dt));
        const double presentation = static_cast<double>(steps) * dt;
        const auto options = eiprop::SimulatorOptions()
                                 .tau_r(tau_r).tau_c(tau_c).tau_W(eta * presentation / lr)
                                 .eta(eta).dt(dt).steps_per_presentation(steps);
        eiprop::Simulator simulator(student.weights, student.biases, graph, options);
        simulator.run(inputs, targets);
        const Parameters learned_here{simulator.weights(), simulator.biases()};
        distance[i][j] = std::sqrt(squared_distance(learned_here, reference)) / learned;
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const double loss = mean_loss(learned_here, activations, inputs, targets);
        csv << fmt::format("{},{},{},{},{},{},{},{:.6e},{:.6e},{:.3f}\n", credit_ratios[i],
                           plasticity_ratios[j], tau_r, tau_c, options.tau_W(), presentation,
                           steps, distance[i][j], loss, seconds);
        fmt::print(stderr, "\rtau_c/tau_r {:>6g}  tau_W/tau_c {:>6g}: distance {:.4e}  ({:.1f} s)   ",
                   credit_ratios[i], plasticity_ratios[j], distance[i][j], seconds);
        if (i + 1 == credit_ratios.size() && j + 1 == plasticity_ratios.size()) {
          best = learned_here;
        }
      }
    }
    fmt::print(stderr, "\n");
    csv.close();
    const double total_seconds = std::chrono::duration<double>(Clock::now() - start_all).count();

    fmt::print("\ndistance from backprop-SGD (rows tau_c/tau_r, columns tau_W/tau_c)\n{:>12}",
               "");
    for (double r : plasticity_ratios) fmt::print("  {:>10}", ratio_label(r));
    fmt::print("\n");
    for (size_t i = 0; i < credit_ratios.size(); ++i) {
      fmt::print("{:>12}", ratio_label(credit_ratios[i]));
      for (size_t j = 0; j < plasticity_ratios.size(); ++j) {
        fmt::print("  {:>10.4e}", distance[i][j]);
      }
      fmt::print("\n");
    }

    // E/I balance of the most separated circuit on the whole stream.
    {
      auto x = inputs.reshape({-1, widths.front()});
      const auto equilibrium = eiprop::ei_equilibrium(x, best.weights, best.biases, activations);
      std::vector<torch::Tensor> rates{x};
      rates.insert(rates.end(), equilibrium.rates.begin(), equilibrium.rates.end());
      fmt::print("\nE/I balance after learning (tau_c/tau_r {:g}, tau_W/tau_c {:g}):\n",
                 credit_ratios.back(), plasticity_ratios.back());
      for (const auto& b : eiprop::analysis::ei_balance(rates, best.weights, graph)) {
        fmt::print("  population {}: mean E {:.4f}, mean I {:.4f}, I/E {:.4f}, balance index "
                   "{:.4f}\n",
                   b.population, b.mean_excitatory, b.mean_inhibitory, b.ratio_of_means,
                   b.mean_balance_index);
      }
    }

    std::ofstream json(out_dir + "/summary.json");
    json << "{\n  \"widths\": [" << fmt::format("{}", fmt::join(widths, ", ")) << "],\n"
         << fmt::format("  \"presentations\": {},\n  \"batch\": {},\n  \"lr\": {},\n"
                        "  \"eta\": {},\n  \"dt\": {},\n  \"loss_before\": {:.6e},\n"
                        "  \"loss_sgd\": {:.6e},\n  \"separated_limit_distance\": {:.6e},\n"
                        "  \"seconds\": {:.1f},\n",
                        presentations, batch, lr, eta, dt, loss_before, loss_sgd, limit_distance,
                        total_seconds)
         << "  \"credit_ratios\": [" << fmt::format("{}", fmt::join(credit_ratios, ", "))
         << "],\n  \"plasticity_ratios\": ["
         << fmt::format("{}", fmt::join(plasticity_ratios, ", ")) << "],\n  \"distance\": [";
    for (size_t i = 0; i < distance.size(); ++i) {
      json << (i ? ", " : "") << "[";
      for (size_t j = 0; j < distance[i].size(); ++j) {
        json << (j ? ", " : "") << fmt::format("{:.6e}", distance[i][j]);
      }
      json << "]";
    }
    json << "]\n}\n";
    json.close();

    // Heat map: one cell per grid point, labelled with its distance.
    std::ofstream cells(out_dir + "/heatmap.dat");
    for (size_t i = 0; i < credit_ratios.size(); ++i) {
      for (size_t j = 0; j < plasticity_ratios.size(); ++j) {
        cells << j << " " << i << " " << fmt::format("{:.6e}", distance[i][j]) << "\n";
      }
      cells << "\n";
    }
    cells.close();
    std::string xtics, ytics;
    for (size_t j = 0; j < plasticity_ratios.size(); ++j) {
      xtics += fmt::format("{}\"{}\" {}", j ? ", " : "", ratio_label(plasticity_ratios[j]), j);
    }
    for (size_t i = 0; i < credit_ratios.size(); ++i) {
      ytics += fmt::format("{}\"{}\" {}", i ? ", " : "", ratio_label(credit_ratios[i]), i);
    }
    const std::string figure = out_dir + "/timescales.png";
    const bool plotted = eiprop::examples::run_gnuplot(
        out_dir + "/timescales.gp",
        "set terminal pngcairo size 760,600 noenhanced\n"
        "set output '" + figure + "'\n"
        "set title 'relative distance of learned weights from backprop-SGD'\n"
        "set xlabel 'tau_W / tau_c'\nset ylabel 'tau_c / tau_r'\n"
        "set xtics (" + xtics + ")\nset ytics (" + ytics + ")\n"
        "set xrange [-0.5:" + std::to_string(plasticity_ratios.size() - 0.5) + "]\n"
        "set yrange [-0.5:" + std::to_string(credit_ratios.size() - 0.5) + "]\n"
        "set logscale cb\nset format cb '%.0e'\nset cblabel 'distance'\n"
        "set palette rgbformulae 33,13,10\nunset key\n"
        "plot '" + out_dir + "/heatmap.dat' using 1:2:3 with image, '' using 1:2:(sprintf('%.3g', "
        "$3)) with labels\n");
    fmt::print("\nwrote {}/timescales.csv, summary.json{} ({:.1f} s)\n", out_dir,
               plotted ? ", and the heat map " + figure : " (no figure: gnuplot unavailable)",
               total_seconds);
  } catch (const std::exception& error) {
    fmt::print(stderr, "timescales: {}\n", error.what());
    return 1;
  }
  return 0;
}
