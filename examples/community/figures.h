// The study's figures, drawn by gnuplot from data files written next to them.
#pragma once

#include "community/study.h"

#include <string>
#include <vector>

namespace eiprop {
namespace examples {

// Q versus learning rate, one panel per task and circuit: the rule and the autograd control
// (mean +- sd over seeds), the weight-shuffle null model (band: mean +- sd over all shuffles)
// and the untrained circuits (dotted line). Writes <out_dir>/community_q_<method>.png.
bool plot_modularity(const std::string& out_dir, const std::vector<SummaryRow>& rows,
                     const std::vector<std::string>& tasks,
                     const std::vector<std::string>& circuits, size_t method);

// One trained circuit's symmetric |W| adjacency with the neurons reordered by community (then
// by population), community boundaries drawn.
struct ReorderedMatrix {
  std::string title;
  std::string data_path;  // float32 [nodes, nodes], row-major
  int64_t nodes = 0;
  std::vector<int64_t> boundaries;  // first node of each community after the first
  double color_max = 1.0;
};

ReorderedMatrix write_reordered_matrix(const std::string& path, const std::string& title,
                                       const analysis::CircuitConnectivity& circuit,
                                       const std::vector<int64_t>& membership);

// A row of reordered matrices in one PNG.
bool plot_matrices(const std::string& figure_path, const std::vector<ReorderedMatrix>& panels);

}  // namespace examples
}  // namespace eiprop
