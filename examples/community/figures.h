// The study's figures, drawn by gnuplot from data files written next to them:
// - community_q_vs_lr.png: Q - strength null versus learning rate, one panel per task and
//   schedule: every seed (dots), the cell mean with its 95 % bootstrap interval, the positive
//   control's interval (band) and zero;
// - community_q_vs_displacement.png: Q - null versus the relative weight displacement, coloured
//   by log10 lr, one panel per schedule (the modular task, else the first task trained);
// - community_nmi_vs_lr.png: NMI(partition found, task partition) versus learning rate per
//   schedule, with the positive control's band;
// - community_sensitivity.png: Q - null and NMI of the rule's circuits with their cross-task
//   synapses scaled by 1 - epsilon;
// - community_simulator.png: the simulator's Q - null versus the timescale separation T / lr,
//   one series per learning rate.
#pragma once

#include "community/control.h"
#include "community/study.h"

#include <string>
#include <vector>

namespace eiprop {
namespace examples {

// Draws every figure it has data for; returns the PNGs written. `control`: the positive
// control's cell (nullptr: none).
std::vector<std::string> draw_figures(const std::string& out_dir,
                                      const std::vector<RunRecord>& runs,
                                      const std::vector<CellSummary>& cells,
                                      const std::vector<SensitivityRow>& sensitivity,
                                      const CellSummary* control);

}  // namespace examples
}  // namespace eiprop
