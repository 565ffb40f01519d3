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
#include "common/program.h"

#include <eiprop/eiprop.h>
#include <eiprop/train/simulator.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <fstream>

namespace {

using eiprop::examples::add_positive_option;
using eiprop::examples::Clock;
using eiprop::examples::seconds_since;

struct Settings {
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
};

// Returns the code to exit with now (see parse_command_line), or -1 to go on.
int parse(int argc, char** argv, Settings& s) {
  CLI::App app{"Timescale study: how far the three-timescale circuit's learning is from "
               "backprop-SGD, over a grid of tau_c/tau_r and tau_W/tau_c"};
  app.add_option("--widths", s.widths, "layer widths N_0,...,N_L")->delimiter(',')
      ->capture_default_str();
  app.add_option("--activation", s.activation, "hidden activation (the output is identity)")
      ->capture_default_str();
  app.add_option("--credit-ratios", s.credit_ratios, "tau_c / tau_r values")->delimiter(',')
      ->capture_default_str();
  app.add_option("--plasticity-ratios", s.plasticity_ratios, "tau_W / tau_c values")
      ->delimiter(',')->capture_default_str();
  add_positive_option(app, "--presentations", s.presentations,
                      "batches presented (one SGD step each)");
  add_positive_option(app, "--batch", s.batch, "batch size");
  add_positive_option(app, "--lr", s.lr, "equivalent SGD learning rate eta * T / tau_W");
  add_positive_option(app, "--eta", s.eta, "plasticity gain eta");
  app.add_option("--dt", s.dt, "Euler step in units of tau_r (<= 1)")->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  add_positive_option(app, "--limit-substeps", s.limit_substeps,
                      "SGD substeps per batch for the separated-limit reference");
  app.add_option("--seed", s.seed, "random seed")->capture_default_str();
  add_positive_option(app, "--threads", s.threads,
                      "LibTorch intra-op threads (the circuit's tensors are small: one thread "
                      "avoids synchronisation overhead)");
  app.add_option("--out", s.out_dir, "output directory (CSV, JSON, PNG)")->capture_default_str();
  return eiprop::examples::parse_command_line(app, argc, argv);
}

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

// The learning problem: a teacher's mapping, the student's start and the stream of batches
// [presentations, batch, width], all drawn from --seed.
struct Problem {
  std::vector<std::string> activations;  // hidden layers' --activation, then identity
  Parameters student;
  torch::Tensor inputs, targets;
};

Problem make_problem(const Settings& s) {
  TORCH_CHECK(s.widths.size() >= 2, "timescales: --widths needs at least an input and an output");
  Problem problem;
  problem.activations.assign(s.widths.size() - 2, s.activation);
  problem.activations.push_back("identity");
  const auto dtype = torch::kFloat64;
  torch::manual_seed(s.seed);
  const auto teacher = random_parameters(s.widths, 1.5, dtype);
  problem.student = random_parameters(s.widths, 1.0, dtype);
  problem.inputs = torch::randn({s.presentations, s.batch, s.widths.front()}, dtype);
  torch::NoGradGuard no_grad;
  problem.targets = eiprop::autograd_forward(problem.inputs.reshape({-1, s.widths.front()}),
                                             teacher.weights, teacher.biases, problem.activations)
                        .reshape({s.presentations, s.batch, s.widths.back()});
  return problem;
}

// Plain SGD with autograd's gradients of Loss = 1/(2B) sum ||y - r_L||^2, `substeps` steps of
// lr/substeps per presented batch (1: backprop-SGD; many: the continuous drift of W that an
// infinitely separated circuit follows during a presentation).
Parameters sgd(const Problem& problem, double lr, int substeps) {
  Parameters p;
  for (const auto& w : problem.student.weights) p.weights.push_back(w.clone());
  for (const auto& b : problem.student.biases) p.biases.push_back(b->clone());
  for (int64_t t = 0; t < problem.inputs.size(0); ++t) {
    for (int s = 0; s < substeps; ++s) {
      const auto grads = eiprop::autograd_gradients(problem.inputs[t], p.weights, p.biases,
                                                    problem.activations, problem.targets[t]);
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

// The loss over the whole stream.
double mean_loss(const Parameters& p, const Problem& problem) {
  torch::NoGradGuard no_grad;
  const auto x = problem.inputs.reshape({-1, problem.inputs.size(2)});
  const auto y = problem.targets.reshape({-1, problem.targets.size(2)});
  const auto output = eiprop::autograd_forward(x, p.weights, p.biases, problem.activations);
  return (y - output).pow(2).sum().item<double>() / (2.0 * static_cast<double>(x.size(0)));
}

// Backprop-SGD on the stream, which every simulated run is measured against.
struct Reference {
  Parameters sgd;
  double learned = 0.0;         // ||theta_sgd - theta_0||
  double limit_distance = 0.0;  // of the separated limit from backprop-SGD
  double loss_before = 0.0, loss_sgd = 0.0;
};

Reference sgd_reference(const Problem& problem, const Settings& s) {
  Reference reference;
  reference.sgd = sgd(problem, s.lr, 1);
  reference.learned = std::sqrt(squared_distance(reference.sgd, problem.student));
  const auto limit = sgd(problem, s.lr, s.limit_substeps);
  reference.limit_distance =
      std::sqrt(squared_distance(limit, reference.sgd)) / reference.learned;
  reference.loss_before = mean_loss(problem.student, problem);
  reference.loss_sgd = mean_loss(reference.sgd, problem);
  return reference;
}

void print_reference(const Reference& reference, const Settings& s) {
  fmt::print("circuit {} ({}), {} presentations of batch {}, lr {} (eta {}), dt {} tau_r\n",
             fmt::join(s.widths, "-"), s.activation, s.presentations, s.batch, s.lr, s.eta, s.dt);
  fmt::print("loss on the stream: before {:.5f}, after backprop-SGD {:.5f}\n",
             reference.loss_before, reference.loss_sgd);
  fmt::print("separated limit (SGD drift in {} substeps per batch) vs SGD: distance {:.4e}\n",
             s.limit_substeps, reference.limit_distance);
}

// One simulated run of the grid: a row of timescales.csv.
struct GridPoint {
  double credit_ratio = 0.0, plasticity_ratio = 0.0;
  double tau_r = 1.0, tau_c = 0.0, tau_W = 0.0;
  double presentation = 0.0;  // T
  int64_t steps = 0;          // Euler steps per presentation
  double distance = 0.0;      // from backprop-SGD
  double loss = 0.0, seconds = 0.0;
};

// The simulator at one separation; returns the point and what the circuit learned.
std::pair<GridPoint, Parameters> simulate(const Problem& problem, const Reference& reference,
                                          const Settings& s, double credit_ratio,
                                          double plasticity_ratio) {
  const auto start = Clock::now();
  GridPoint point{credit_ratio, plasticity_ratio};
  point.tau_c = credit_ratio * point.tau_r;
  const double tau_W = plasticity_ratio * point.tau_c;
  // T = lr tau_W / eta, rounded to whole steps; tau_W then matches lr exactly.
  point.steps = std::max<int64_t>(1, std::llround(s.lr * tau_W / s.eta / s.dt));
  point.presentation = static_cast<double>(point.steps) * s.dt;
  const auto options = eiprop::SimulatorOptions()
                           .tau_r(point.tau_r).tau_c(point.tau_c)
                           .tau_W(s.eta * point.presentation / s.lr)
                           .eta(s.eta).dt(s.dt).steps_per_presentation(point.steps);
  point.tau_W = options.tau_W();
  eiprop::Simulator simulator(problem.student.weights, problem.student.biases,
                              eiprop::analysis::layered_graph(problem.activations), options);
  simulator.run(problem.inputs, problem.targets);
  Parameters learned{simulator.weights(), simulator.biases()};
  point.distance = std::sqrt(squared_distance(learned, reference.sgd)) / reference.learned;
  point.seconds = seconds_since(start);
  point.loss = mean_loss(learned, problem);
  return {point, std::move(learned)};
}

struct Grid {
  std::vector<GridPoint> points;  // credit ratios outer, plasticity ratios inner
  Parameters most_separated;      // what the last point's circuit learned
};

Grid simulate_grid(const Problem& problem, const Reference& reference, const Settings& s) {
  Grid grid;
  for (const double credit_ratio : s.credit_ratios) {
    for (const double plasticity_ratio : s.plasticity_ratios) {
      auto [point, learned] = simulate(problem, reference, s, credit_ratio, plasticity_ratio);
      fmt::print(stderr, "\rtau_c/tau_r {:>6g}  tau_W/tau_c {:>6g}: distance {:.4e}  ({:.1f} s)   ",
                 credit_ratio, plasticity_ratio, point.distance, point.seconds);
      grid.points.push_back(point);
      grid.most_separated = std::move(learned);
    }
  }
  fmt::print(stderr, "\n");
  return grid;
}

std::string ratio_label(double ratio) { return fmt::format("{:g}", ratio); }

void write_csv(const std::string& path, const Grid& grid) {
  std::ofstream csv(path);
  csv << "credit_ratio,plasticity_ratio,tau_r,tau_c,tau_W,presentation_time,"
         "steps_per_presentation,distance,final_loss,seconds\n";
  for (const auto& p : grid.points) {
    csv << fmt::format("{},{},{},{},{},{},{},{:.6e},{:.6e},{:.3f}\n", p.credit_ratio,
                       p.plasticity_ratio, p.tau_r, p.tau_c, p.tau_W, p.presentation, p.steps,
                       p.distance, p.loss, p.seconds);
  }
}

// The distances as rows of tau_c/tau_r and columns of tau_W/tau_c.
std::vector<std::vector<double>> distance_table(const Grid& grid, const Settings& s) {
  std::vector<std::vector<double>> distance(s.credit_ratios.size());
  for (size_t k = 0; k < grid.points.size(); ++k) {
    distance[k / s.plasticity_ratios.size()].push_back(grid.points[k].distance);
  }
  return distance;
}

void print_distances(const std::vector<std::vector<double>>& distance, const Settings& s) {
  fmt::print("\ndistance from backprop-SGD (rows tau_c/tau_r, columns tau_W/tau_c)\n{:>12}", "");
  for (double r : s.plasticity_ratios) fmt::print("  {:>10}", ratio_label(r));
  fmt::print("\n");
  for (size_t i = 0; i < s.credit_ratios.size(); ++i) {
    fmt::print("{:>12}", ratio_label(s.credit_ratios[i]));
    for (const double d : distance[i]) fmt::print("  {:>10.4e}", d);
    fmt::print("\n");
  }
}

// E/I balance of the most separated circuit on the whole stream.
void print_ei_balance(const Parameters& learned, const Problem& problem, const Settings& s) {
  const auto x = problem.inputs.reshape({-1, s.widths.front()});
  const auto equilibrium =
      eiprop::ei_equilibrium(x, learned.weights, learned.biases, problem.activations);
  std::vector<torch::Tensor> rates{x};
  rates.insert(rates.end(), equilibrium.rates.begin(), equilibrium.rates.end());
  fmt::print("\nE/I balance after learning (tau_c/tau_r {:g}, tau_W/tau_c {:g}):\n",
             s.credit_ratios.back(), s.plasticity_ratios.back());
  const auto graph = eiprop::analysis::layered_graph(problem.activations);
  for (const auto& b : eiprop::analysis::ei_balance(rates, learned.weights, graph)) {
    fmt::print("  population {}: mean E {:.4f}, mean I {:.4f}, I/E {:.4f}, balance index "
               "{:.4f}\n",
               b.population, b.mean_excitatory, b.mean_inhibitory, b.ratio_of_means,
               b.mean_balance_index);
  }
}

void write_summary_json(const std::vector<std::vector<double>>& distance,
                        const Reference& reference, const Settings& s, double seconds) {
  std::ofstream json(s.out_dir + "/summary.json");
  json << "{\n  \"widths\": [" << fmt::format("{}", fmt::join(s.widths, ", ")) << "],\n"
       << fmt::format("  \"presentations\": {},\n  \"batch\": {},\n  \"lr\": {},\n"
                      "  \"eta\": {},\n  \"dt\": {},\n  \"loss_before\": {:.6e},\n"
                      "  \"loss_sgd\": {:.6e},\n  \"separated_limit_distance\": {:.6e},\n"
                      "  \"seconds\": {:.1f},\n",
                      s.presentations, s.batch, s.lr, s.eta, s.dt, reference.loss_before,
                      reference.loss_sgd, reference.limit_distance, seconds)
       << "  \"credit_ratios\": [" << fmt::format("{}", fmt::join(s.credit_ratios, ", "))
       << "],\n  \"plasticity_ratios\": ["
       << fmt::format("{}", fmt::join(s.plasticity_ratios, ", ")) << "],\n  \"distance\": [";
  for (size_t i = 0; i < distance.size(); ++i) {
    json << (i ? ", " : "") << "[";
    for (size_t j = 0; j < distance[i].size(); ++j) {
      json << (j ? ", " : "") << fmt::format("{:.6e}", distance[i][j]);
    }
    json << "]";
  }
  json << "]\n}\n";
}

// Tick labels "label" position, ... for gnuplot's set xtics / set ytics.
std::string tics(const std::vector<double>& ratios) {
  std::string labels;
  for (size_t k = 0; k < ratios.size(); ++k) {
    labels += fmt::format("{}\"{}\" {}", k ? ", " : "", ratio_label(ratios[k]), k);
  }
  return labels;
}

// Heat map: one cell per grid point, labelled with its distance; false without gnuplot.
bool plot_heatmap(const std::vector<std::vector<double>>& distance, const Settings& s,
                  const std::string& figure) {
  std::ofstream cells(s.out_dir + "/heatmap.dat");
  for (size_t i = 0; i < distance.size(); ++i) {
    for (size_t j = 0; j < distance[i].size(); ++j) {
      cells << j << " " << i << " " << fmt::format("{:.6e}", distance[i][j]) << "\n";
    }
    cells << "\n";
  }
  cells.close();
  return eiprop::examples::run_gnuplot(
      s.out_dir + "/timescales.gp",
      "set terminal pngcairo size 760,600 noenhanced\n"
      "set output '" + figure + "'\n"
      "set title 'relative distance of learned weights from backprop-SGD'\n"
      "set xlabel 'tau_W / tau_c'\nset ylabel 'tau_c / tau_r'\n"
      "set xtics (" + tics(s.plasticity_ratios) + ")\nset ytics (" + tics(s.credit_ratios) +
      ")\n"
      "set xrange [-0.5:" + std::to_string(s.plasticity_ratios.size() - 0.5) + "]\n"
      "set yrange [-0.5:" + std::to_string(s.credit_ratios.size() - 0.5) + "]\n"
      "set logscale cb\nset format cb '%.0e'\nset cblabel 'distance'\n"
      "set palette rgbformulae 33,13,10\nunset key\n"
      "plot '" + s.out_dir + "/heatmap.dat' using 1:2:3 with image, '' using 1:2:(sprintf('%.3g', "
      "$3)) with labels\n");
}

// timescales.csv, the table, the E/I balance, summary.json and the heat map.
void report(const Grid& grid, const Problem& problem, const Reference& reference,
            const Settings& s, double seconds) {
  write_csv(s.out_dir + "/timescales.csv", grid);
  const auto distance = distance_table(grid, s);
  print_distances(distance, s);
  print_ei_balance(grid.most_separated, problem, s);
  write_summary_json(distance, reference, s, seconds);
  const std::string figure = s.out_dir + "/timescales.png";
  const bool plotted = plot_heatmap(distance, s, figure);
  fmt::print("\nwrote {}/timescales.csv, summary.json{} ({:.1f} s)\n", s.out_dir,
             plotted ? ", and the heat map " + figure : " (no figure: gnuplot unavailable)",
             seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (const int code = parse(argc, argv, settings); code >= 0) return code;
  return eiprop::examples::run_program("timescales", [&] {
    torch::set_num_threads(settings.threads);
    const auto problem = make_problem(settings);
    std::filesystem::create_directories(settings.out_dir);
    const auto start = Clock::now();
    const auto reference = sgd_reference(problem, settings);
    print_reference(reference, settings);
    const auto grid = simulate_grid(problem, reference, settings);
    report(grid, problem, reference, settings, seconds_since(start));
  });
}
