#include "support/report.h"

#include <fmt/format.h>

namespace eiprop {
namespace bench {
namespace {

constexpr const char* kRowFormat =
    "{:<16} {:<7} {:<8} {:>10} {:>11} {:>6} {:>8} {:>10} {:>9} {:>7} {:>10} {:>10}\n";

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string table_header() {
  return fmt::format(kRowFormat, "shape", "method", "path", "step ms", "autograd ms", "ratio",
                     "target", "GEMM GF/s", "mm GF/s", "% of mm", "autograd %", "weight diff");
}

std::string table_row(const ComparisonRow& row) {
  return fmt::format(
      kRowFormat, row.shape.name(), row.method, path_name(row.path),
      fmt::format("{:.3f}", row.step_ms), fmt::format("{:.3f}", row.autograd_ms),
      fmt::format("{:.3f}", row.ratio()),
      fmt::format("{}{:.2f}", row.meets_target() ? "<=" : "MISS>", target_ratio(row.method)),
      fmt::format("{:.1f}", row.step_gflops()), fmt::format("{:.1f}", row.mm_gflops()),
      fmt::format("{:.0f}%", 100.0 * row.step_gflops() / row.mm_gflops()),
      fmt::format("{:.0f}%", 100.0 * row.autograd_gflops() / row.mm_gflops()),
      fmt::format("{:.1e}", row.weight_difference));
}

std::string comparison_json(const Machine& machine, const std::string& dtype,
                            const std::string& clock, const std::vector<ComparisonRow>& rows) {
  std::string json = fmt::format(
      "{{\n  \"machine\": {{\"cpu\": {}, \"cores\": {}, \"torch_threads\": {}, \"torch\": {}, "
      "\"device\": {}}},\n  \"dtype\": {},\n  \"clock\": {},\n  \"layered\": [",
      quoted(machine.cpu), machine.cores, machine.torch_threads, quoted(machine.torch),
      quoted(machine.device), quoted(dtype), quoted(clock));
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    std::string widths;
    for (size_t p = 0; p < row.shape.widths.size(); ++p) {
      widths += fmt::format("{}{}", p ? ", " : "", row.shape.widths[p]);
    }
    json += fmt::format(
        "{}\n    {{\"shape\": {}, \"widths\": [{}], \"batch\": {}, \"method\": {}, \"path\": {}, "
        "\"repetitions\": {}, \"step_ms\": {:.6f}, \"autograd_ms\": {:.6f}, \"ratio\": {:.6f}, "
        "\"target_ratio\": {:.2f}, \"meets_target\": {}, \"gemm_gflop\": {:.6f}, "
        "\"step_gemm_gflops\": {:.3f}, \"autograd_gemm_gflops\": {:.3f}, \"mm_ms\": {:.6f}, "
        "\"mm_gflops\": {:.3f}, \"fraction_of_mm\": {:.4f}, \"weight_difference\": {:.3e}}}",
        i ? "," : "", quoted(row.shape.name()), widths, row.shape.batch, quoted(row.method),
        quoted(path_name(row.path)), row.repetitions, row.step_ms, row.autograd_ms, row.ratio(),
        target_ratio(row.method), row.meets_target() ? "true" : "false", row.gemm_flops * 1e-9,
        row.step_gflops(), row.autograd_gflops(), row.mm_ms, row.mm_gflops(),
        row.step_gflops() / row.mm_gflops(), row.weight_difference);
  }
  return json + "\n  ]\n}\n";
}

}  // namespace bench
}  // namespace eiprop
