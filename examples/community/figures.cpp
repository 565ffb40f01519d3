#include "community/figures.h"

#include "common/gnuplot.h"

#include <fmt/format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <fstream>
#include <numeric>

namespace eiprop {
namespace examples {

bool plot_modularity(const std::string& out_dir, const std::vector<SummaryRow>& rows,
                     const std::vector<std::string>& tasks,
                     const std::vector<std::string>& circuits, size_t method) {
  const std::string name = analysis::community_method_name(kMethods[method]);
  std::string plots;
  for (const auto& task : tasks) {
    for (const auto& circuit : circuits) {
      // Columns: lr, rule mean, sd, autograd mean, sd, null mean, sd, untrained mean, simulated
      // (finite timescale separation) mean, sd, and the simulated circuits' own null mean.
      const std::string data = fmt::format("{}/q_{}_{}_{}.dat", out_dir, name, task, circuit);
      std::ofstream out(data);
      out << "# lr rule_q rule_sd autograd_q autograd_sd null_q null_sd untrained_q simulated_q "
             "simulated_sd simulated_null_q\n";
      bool any_simulated = false;
      double untrained = std::nan("");
      for (const auto& row : rows) {
        if (row.task == task && row.circuit == circuit && row.learner == "init") {
          untrained = row.q[method].mean;
        }
      }
      for (const auto& row : rows) {
        if (row.task != task || row.circuit != circuit || row.learner != "rule") continue;
        const auto find = [&](const char* learner) -> const SummaryRow* {
          for (const auto& other : rows) {
            if (other.task == task && other.circuit == circuit && other.learner == learner &&
                other.lr == row.lr) {
              return &other;
            }
          }
          return nullptr;
        };
        const SummaryRow* control = find("autograd");
        const SummaryRow* simulated = find("simulated");
        any_simulated = any_simulated || simulated != nullptr;
        // The null band pools both learners' shuffles.
        out << fmt::format("{:.6g} {:.6f} {:.6f} {:.6f} {:.6f} {:.6f} {:.6f} {:.6f} {:.6f} {:.6f} "
                           "{:.6f}\n",
                           row.lr, row.q[method].mean, row.q[method].sd,
                           control ? control->q[method].mean : std::nan(""),
                           control ? control->q[method].sd : std::nan(""),
                           row.null_q[method].mean, row.null_q[method].sd, untrained,
                           simulated ? simulated->q[method].mean : std::nan(""),
                           simulated ? simulated->q[method].sd : std::nan(""),
                           simulated ? simulated->null_q[method].mean : std::nan(""));
      }
      plots += fmt::format(
          "set title '{} / {}'\n"
          "plot '{}' using 1:($6-$7):($6+$7) with filledcurves fillcolor rgb '#cccccc' "
          "title 'null model of the rule circuits (weights shuffled per projection), mean +- sd', "
          "'' using 1:8 with lines dashtype 3 linecolor rgb 'black' title 'untrained', "
          "'' using 1:2:3 with yerrorlines linecolor rgb '#c0392b' pointtype 7 "
          "title 'plasticity rule', "
          "'' using ($1*1.06):4:5 with yerrorlines dashtype 2 linecolor rgb '#2471a3' "
          "pointtype 6 title 'autograd-SGD'{}\n",
          task, circuit, data,
          any_simulated ? ", '' using ($1/1.06):9:10 with yerrorlines dashtype 4 linecolor rgb "
                          "'#1e8449' pointtype 4 title 'simulator (finite timescales)', "
                          "'' using 1:11 with lines dashtype 3 linecolor rgb '#1e8449' "
                          "title 'null model of the simulated circuits, mean'"
                        : "");
    }
  }
  const std::string figure = fmt::format("{}/community_q_{}.png", out_dir, name);
  return run_gnuplot(
      fmt::format("{}/community_q_{}.gp", out_dir, name),
      fmt::format("set terminal pngcairo size {},{} noenhanced font ',10'\n"
                  "set output '{}'\n"
                  "set multiplot layout {},{} title 'Modularity Q ({}) of trained circuits versus "
                  "learning rate (mean +- sd over seeds)'\n"
                  "set logscale x\nset format x '%.0e'\nset xlabel 'learning rate'\n"
                  "set ylabel 'Q'\nset key below Left reverse font ',8'\nset grid\n{}"
                  "unset multiplot\n",
                  560 * circuits.size(), 520 * tasks.size(), figure, tasks.size(),
                  circuits.size(), name, plots));
}

ReorderedMatrix write_reordered_matrix(const std::string& path, const std::string& title,
                                       const analysis::CircuitConnectivity& circuit,
                                       const std::vector<int64_t>& membership) {
  const auto populations = analysis::node_populations(circuit);
  const int64_t nodes = populations.size(0);
  std::vector<int64_t> order(static_cast<size_t>(nodes));
  std::iota(order.begin(), order.end(), 0);
  const auto* population = populations.data_ptr<int64_t>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return std::make_pair(membership[a], population[a]) <
           std::make_pair(membership[b], population[b]);
  });
  ReorderedMatrix matrix;
  matrix.title = title;
  matrix.data_path = path;
  matrix.nodes = nodes;
  for (int64_t i = 1; i < nodes; ++i) {
    if (membership[order[i]] != membership[order[i - 1]]) matrix.boundaries.push_back(i);
  }
  const auto index = torch::tensor(order, torch::kLong);
  const auto reordered = analysis::adjacency(circuit)
                             .index_select(0, index)
                             .index_select(1, index)
                             .to(torch::kFloat32)
                             .contiguous();
  // Colour scale up to the 99th percentile of the synaptic weights: a few large ones would
  // otherwise wash the rest out.
  const auto weights = reordered.flatten();
  const auto nonzero = weights.masked_select(weights.gt(0));
  const int64_t percentile_99 = static_cast<int64_t>(0.99 * static_cast<double>(nonzero.numel() - 1));
  matrix.color_max =
      nonzero.numel() > 0 ? std::get<0>(nonzero.sort())[percentile_99].item<double>() : 1.0;
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(reordered.data_ptr<float>()),
             static_cast<std::streamsize>(reordered.numel() * sizeof(float)));
  return matrix;
}

bool plot_matrices(const std::string& figure_path, const std::vector<ReorderedMatrix>& panels) {
  std::string plots;
  for (const auto& panel : panels) {
    plots += fmt::format("set title '{}'\nunset arrow\nset cbrange [0:{:.6g}]\n", panel.title,
                         panel.color_max);
    for (const int64_t b : panel.boundaries) {
      plots += fmt::format(
          "set arrow from {0},-0.5 to {0},{1} nohead front linecolor rgb '#2471a3' lw 0.6\n"
          "set arrow from -0.5,{0} to {1},{0} nohead front linecolor rgb '#2471a3' lw 0.6\n",
          b - 0.5, panel.nodes - 0.5);
    }
    plots += fmt::format(
        "set xrange [-0.5:{0}]\nset yrange [{0}:-0.5]\n"
        "plot '{1}' binary array=({2},{2}) format='%float32' with image notitle\n",
        panel.nodes - 0.5, panel.data_path, panel.nodes);
  }
  return run_gnuplot(
      figure_path + ".gp",
      fmt::format("set terminal pngcairo size {},470 noenhanced font ',9'\n"
                  "set output '{}'\n"
                  "set multiplot layout 1,{}\n"
                  "set size square\nset palette defined (0 'white', 1 '#f5b041', 2 '#922b21')\n"
                  "set xlabel 'neuron (sorted by community)'\nset cblabel '|W|'\n{}"
                  "unset multiplot\n",
                  430 * panels.size(), figure_path, panels.size(), plots));
}

}  // namespace examples
}  // namespace eiprop
