#include "community/figures.h"

#include "common/gnuplot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace eiprop {
namespace examples {
namespace {

const char* kColours[] = {"#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e", "#566573"};

std::string terminal(const std::string& png, int width, int height) {
  return fmt::format("set terminal pngcairo size {},{} noenhanced font ',10'\nset output '{}'\n",
                     width, height, png);
}

// The distinct values of a field over the runs, in order of first appearance.
template <typename Field>
std::vector<std::string> distinct(const std::vector<RunRecord>& runs, Field field) {
  std::vector<std::string> values;
  for (const auto& run : runs) {
    const std::string value = field(run);
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
  return values;
}

bool is_grid_run(const RunRecord& run) {
  return !run.diverged && run.learner == "rule" && run.circuit == "layered";
}

// Per seed (dots, jittered in lr by seed) and per cell (mean, 95 % interval) of one quantity.
void write_trend_data(const std::string& dots, const std::string& means,
                      const std::vector<RunRecord>& runs, const std::vector<CellSummary>& cells,
                      const std::string& task, const std::string& schedule, Quantity quantity) {
  std::ofstream dot_file(dots), mean_file(means);
  dot_file << "# lr (jittered) value seed\n";
  for (const auto& run : runs) {
    if (!is_grid_run(run) || run.task != task || run.schedule != schedule) continue;
    const double jitter = std::pow(1.12, (static_cast<double>(run.seed % 11) - 5.0) / 5.0);
    dot_file << fmt::format("{:.6g} {:.6g} {}\n", run.lr * jitter,
                            quantity_of(run, quantity), run.seed);
  }
  mean_file << "# lr mean low high\n";
  for (const auto& cell : cells) {
    if (cell.learner != "rule" || cell.circuit != "layered" || cell.task != task ||
        cell.schedule != schedule) {
      continue;
    }
    const auto& v = cell.value(quantity);
    mean_file << fmt::format("{:.6g} {:.6g} {:.6g} {:.6g}\n", cell.lr, v.estimate, v.low, v.high);
  }
}

std::string band(const CellSummary* control, Quantity quantity, const std::string& what) {
  if (control == nullptr) return "";
  const auto& v = control->value(quantity);
  return fmt::format("'+' using 1:({:.6g}):({:.6g}) with filledcurves fillcolor rgb '#d5f5e3' "
                     "title 'positive control ({}), 95% CI', ",
                     v.low, v.high, what);
}

bool plot_q_vs_lr(const std::string& out_dir, const std::vector<RunRecord>& runs,
                  const std::vector<CellSummary>& cells, const CellSummary* control,
                  const std::vector<std::string>& tasks,
                  const std::vector<std::string>& schedules, double lr_low, double lr_high) {
  std::string plots;
  for (const auto& task : tasks) {
    for (const auto& schedule : schedules) {
      const std::string dots = fmt::format("{}/q_dots_{}_{}.dat", out_dir, task, schedule);
      const std::string means = fmt::format("{}/q_means_{}_{}.dat", out_dir, task, schedule);
      write_trend_data(dots, means, runs, cells, task, schedule, Quantity::q_above_strength_null);
      plots += fmt::format(
          "set title '{} / {}'\n"
          "plot {}0 with lines dashtype 3 linecolor rgb 'black' notitle, "
          "'{}' using 1:2 with points pointtype 7 pointsize 0.35 linecolor rgb '#aab7b8' "
          "title 'seeds', "
          "'{}' using 1:2:3:4 with yerrorlines linecolor rgb '#c0392b' pointtype 7 "
          "title 'mean, 95% bootstrap CI'\n",
          task, schedule, band(control, Quantity::q_above_strength_null, "L1 cost"), dots, means);
    }
  }
  const std::string png = out_dir + "/community_q_vs_lr.png";
  return run_gnuplot(
      out_dir + "/community_q_vs_lr.gp",
      terminal(png, 430 * static_cast<int>(schedules.size()),
               440 * static_cast<int>(tasks.size())) +
          fmt::format("set multiplot layout {},{} title 'Q - strength-preserving null (Louvain "
                      "on |W|) of circuits trained by the rule'\n"
                      "set logscale x\nset format x '%.0e'\nset xrange [{:.6g}:{:.6g}]\n"
                      "set xlabel 'learning rate'\nset ylabel 'Q - null'\n"
                      "set key below font ',8'\nset grid\n{}unset multiplot\n",
                      tasks.size(), schedules.size(), lr_low, lr_high, plots));
}

bool plot_q_vs_displacement(const std::string& out_dir, const std::vector<RunRecord>& runs,
                            const std::string& task, const std::vector<std::string>& schedules) {
  std::string plots;
  for (const auto& schedule : schedules) {
    const std::string data = fmt::format("{}/q_displacement_{}.dat", out_dir, schedule);
    std::ofstream out(data);
    out << "# displacement q_above log10_lr\n";
    for (const auto& run : runs) {
      if (!is_grid_run(run) || run.task != task || run.schedule != schedule) continue;
      out << fmt::format("{:.6g} {:.6g} {:.4f}\n", run.displacement, run.measure.q_above_null(),
                         std::log10(run.lr));
    }
    plots += fmt::format(
        "set title '{} / {}'\n"
        "plot 0 with lines dashtype 3 linecolor rgb 'black' notitle, "
        "'{}' using 1:2:3 with points pointtype 7 pointsize 0.5 linecolor palette notitle\n",
        task, schedule, data);
  }
  const std::string png = out_dir + "/community_q_vs_displacement.png";
  return run_gnuplot(
      out_dir + "/community_q_vs_displacement.gp",
      terminal(png, 430 * static_cast<int>(schedules.size()), 400) +
          fmt::format("set multiplot layout 1,{} title 'Q - strength null versus relative weight "
                      "displacement ||W - W0|| / ||W0|| (colour: log10 lr)'\n"
                      "set logscale x\nset xlabel 'displacement'\nset ylabel 'Q - null'\n"
                      "set cblabel 'log10 lr'\nset palette rgb 33,13,10\nset grid\n{}"
                      "unset multiplot\n",
                      schedules.size(), plots));
}

bool plot_nmi(const std::string& out_dir, const std::vector<CellSummary>& cells,
              const CellSummary* control, const std::vector<std::string>& tasks,
              const std::vector<std::string>& schedules, double lr_low, double lr_high) {
  std::string plots;
  for (const auto& task : tasks) {
    std::string series;
    for (size_t k = 0; k < schedules.size(); ++k) {
      const std::string data = fmt::format("{}/nmi_{}_{}.dat", out_dir, task, schedules[k]);
      std::ofstream out(data);
      out << "# lr nmi low high\n";
      for (const auto& cell : cells) {
        if (cell.learner != "rule" || cell.circuit != "layered" || cell.task != task ||
            cell.schedule != schedules[k]) {
          continue;
        }
        const auto& v = cell.value(Quantity::nmi);
        out << fmt::format("{:.6g} {:.6g} {:.6g} {:.6g}\n",
                           cell.lr * std::pow(1.06, static_cast<double>(k) - 1.0), v.estimate,
                           v.low, v.high);
      }
      series += fmt::format(", '{}' using 1:2:3:4 with yerrorlines linecolor rgb '{}' pointtype "
                            "7 title '{}'",
                            data, kColours[k % 6], schedules[k]);
    }
    plots += fmt::format("set title '{}'\nplot {}0 with lines dashtype 3 linecolor rgb "
                         "'black' notitle{}\n",
                         task, band(control, Quantity::nmi, "L1 cost"), series);
  }
  const std::string png = out_dir + "/community_nmi_vs_lr.png";
  return run_gnuplot(
      out_dir + "/community_nmi_vs_lr.gp",
      terminal(png, 500 * static_cast<int>(tasks.size()), 480) +
          fmt::format("set multiplot layout 1,{} title 'NMI(partition found, task partition) "
                      "on the input and output neurons: mean, 95% bootstrap CI'\n"
                      "set logscale x\nset format x '%.0e'\nset xrange [{:.6g}:{:.6g}]\n"
                      "set yrange [-0.05:1.05]\nset xlabel 'learning rate'\nset ylabel 'NMI'\n"
                      "set key below font ',8'\nset grid\n{}unset multiplot\n",
                      tasks.size(), lr_low, lr_high, plots));
}

// Drawn from sensitivity.csv, which the study writes first (its header line skipped).
bool plot_sensitivity(const std::string& out_dir) {
  const std::string data = out_dir + "/sensitivity.csv";
  const std::string png = out_dir + "/community_sensitivity.png";
  return run_gnuplot(
      out_dir + "/community_sensitivity.gp",
      terminal(png, 900, 400) +
          fmt::format("set multiplot layout 1,2 title 'Sensitivity: the rule circuits (modular, "
                      "equal distance, middle lr) with cross-task synapses scaled by 1 - "
                      "epsilon'\nset datafile separator comma\nset xlabel 'epsilon'\nset grid\n"
                      "set key top left\n"
                      "set ylabel 'Q - strength null'\nplot 0 with lines dashtype 3 linecolor "
                      "rgb 'black' notitle, '{0}' every ::1 using 1:2:3:4 with yerrorlines "
                      "pointtype 7 linecolor rgb '#c0392b' title 'mean, 95% CI'\n"
                      "set ylabel 'NMI'\nset yrange [-0.05:1.05]\nplot '{0}' every ::1 using "
                      "1:5:6:7 with yerrorlines pointtype 7 linecolor rgb '#2471a3' title "
                      "'mean, 95% CI'\n"
                      "unset multiplot\n",
                      data));
}

// Left: Q - strength null against the separation T / lr, one series per learning rate; right:
// against the learning rate, one series per separation (tau_c = 1 in the axis labels: T / lr is
// the separation in units of tau_c).
bool plot_simulator(const std::string& out_dir, const std::vector<RunRecord>& runs,
                    const std::vector<CellSummary>& cells) {
  std::set<double> lrs;
  std::map<int64_t, double> separations;  // 4 significant digits of log10(T / lr) -> T / lr
  const auto key = [](double separation) { return std::llround(std::log10(separation) * 1e4); };
  for (const auto& run : runs) {
    if (run.learner != "simulated" || run.diverged) continue;
    lrs.insert(run.lr);
    separations.emplace(key(run.presentation / run.lr), run.presentation / run.lr);
  }
  if (lrs.empty()) return false;
  // One panel: x of a run or cell, the series it belongs to (its index in `levels`).
  const auto panel = [&](const std::string& name, const std::vector<double>& levels,
                         auto level_of, auto x_of, const std::string& label) {
    std::string series;
    for (size_t k = 0; k < levels.size(); ++k) {
      const std::string dots = fmt::format("{}/simulator_{}_dots{}.dat", out_dir, name, k);
      const std::string means = fmt::format("{}/simulator_{}_means{}.dat", out_dir, name, k);
      std::ofstream dot_file(dots), mean_file(means);
      dot_file << "# x q_above presentation lr seed\n";
      for (const auto& run : runs) {
        if (run.learner != "simulated" || run.diverged || level_of(run.lr, run.presentation) != k) {
          continue;
        }
        dot_file << fmt::format("{:.6g} {:.6g} {:.4g} {:.4g} {}\n", x_of(run.lr, run.presentation),
                                run.measure.q_above_null(), run.presentation, run.lr, run.seed);
      }
      mean_file << "# x mean low high\n";
      for (const auto& cell : cells) {
        if (cell.learner != "simulated" || level_of(cell.lr, cell.presentation) != k) continue;
        const auto& v = cell.value(Quantity::q_above_strength_null);
        mean_file << fmt::format("{:.6g} {:.6g} {:.6g} {:.6g}\n",
                                 x_of(cell.lr, cell.presentation), v.estimate, v.low, v.high);
      }
      series += fmt::format(", '{0}' using 1:2 with points pointtype 7 pointsize 0.4 linecolor "
                            "rgb '{1}' notitle, '{2}' using 1:2:3:4 with yerrorlines pointtype 7 "
                            "linecolor rgb '{1}' title '{3} {4:.4g}'",
                            dots, kColours[k % 6], means, label, levels[k]);
    }
    return series;
  };
  const std::vector<double> lr_levels(lrs.begin(), lrs.end());
  std::vector<double> separation_levels;
  for (const auto& entry : separations) separation_levels.push_back(entry.second);
  const auto lr_index = [&](double lr, double) {
    return static_cast<size_t>(std::find(lr_levels.begin(), lr_levels.end(), lr) -
                               lr_levels.begin());
  };
  const auto separation_index = [&](double lr, double presentation) {
    return static_cast<size_t>(std::distance(separations.begin(),
                                             separations.find(key(presentation / lr))));
  };
  const auto separation_x = [](double lr, double presentation) { return presentation / lr; };
  const auto lr_x = [](double lr, double) { return lr; };
  const std::string by_lr = panel("lr", lr_levels, lr_index, separation_x, "lr");
  const std::string by_separation =
      panel("separation", separation_levels, separation_index, lr_x, "T / lr");
  const std::string png = out_dir + "/community_simulator.png";
  return run_gnuplot(
      out_dir + "/community_simulator.gp",
      terminal(png, 1000, 460) +
          fmt::format("set multiplot layout 1,2 title \"Simulator, modular task, fixed epochs: "
                      "Q - strength null; timescale separation tau_W / tau_c = T / (lr tau_c), "
                      "tau_c = 1\"\nset logscale x\nset ylabel 'Q - null'\nset grid\n"
                      "set key top left opaque font ',8'\n"
                      "set offsets graph 0.08, graph 0.08, 0, 0\n"
                      "set title 'at a fixed learning rate'\nset xlabel 'T / lr'\n"
                      "plot 0 with lines dashtype 3 linecolor rgb 'black' notitle{}\n"
                      "set title 'at a fixed separation'\nset xlabel 'lr'\n"
                      "plot 0 with lines dashtype 3 linecolor rgb 'black' notitle{}\n"
                      "unset multiplot\n",
                      by_lr, by_separation));
}

}  // namespace

std::vector<std::string> draw_figures(const std::string& out_dir,
                                      const std::vector<RunRecord>& runs,
                                      const std::vector<CellSummary>& cells,
                                      const std::vector<SensitivityRow>& sensitivity,
                                      const CellSummary* control) {
  std::vector<RunRecord> grid;
  for (const auto& run : runs) {
    if (is_grid_run(run)) grid.push_back(run);
  }
  std::vector<std::string> written;
  if (grid.empty()) return written;
  const auto tasks = distinct(grid, [](const RunRecord& r) { return r.task; });
  const auto schedules = distinct(grid, [](const RunRecord& r) { return r.schedule; });
  double lr_low = grid.front().lr, lr_high = grid.front().lr;
  for (const auto& run : grid) {
    lr_low = std::min(lr_low, run.lr);
    lr_high = std::max(lr_high, run.lr);
  }
  lr_low /= 1.5;
  lr_high *= 1.5;
  const auto add = [&](bool drawn, const std::string& name) {
    if (drawn) written.push_back(out_dir + "/" + name);
  };
  add(plot_q_vs_lr(out_dir, runs, cells, control, tasks, schedules, lr_low, lr_high),
      "community_q_vs_lr.png");
  // The primary task where it was trained, else the first.
  const bool modular = std::find(tasks.begin(), tasks.end(), "modular") != tasks.end();
  add(plot_q_vs_displacement(out_dir, runs, modular ? "modular" : tasks.front(), schedules),
      "community_q_vs_displacement.png");
  add(plot_nmi(out_dir, cells, control, tasks, schedules, lr_low, lr_high),
      "community_nmi_vs_lr.png");
  if (!sensitivity.empty()) {
    add(plot_sensitivity(out_dir), "community_sensitivity.png");
  }
  add(plot_simulator(out_dir, runs, cells), "community_simulator.png");
  return written;
}

}  // namespace examples
}  // namespace eiprop
