#include "support/layered_shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace eiprop {
namespace bench {

std::string LayeredShape::name() const {
  const bool uniform =
      widths.size() > 2 && std::all_of(widths.begin(), widths.end(),
                                        [&](int64_t width) { return width == widths.front(); });
  const std::string body = uniform ? fmt::format("{}x{}", widths.front(), widths.size())
                                   : fmt::format("{}", fmt::join(widths, "-"));
  return fmt::format("{} B={}", body, batch);
}

std::string LayeredShape::token() const {
  std::string text = name();
  std::replace(text.begin(), text.end(), ' ', '/');
  return text;
}

std::vector<LayeredShape> standard_shapes() {
  return {
      {{784, 256, 10}, 64},
      {{1024, 1024, 1024, 1024, 1024}, 256},
      {{4096, 4096, 4096}, 1024},
  };
}

LayeredShape parse_shape(const std::string& text) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(fmt::format(
        "shape '{}': {} (expected widths then the batch, e.g. 784,256,10:64)", text, why));
  };
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw fail("no ':' before the batch size");
  const auto positive = [&](const std::string& number) {
    size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != number.size() || value <= 0) {
      throw fail(fmt::format("'{}' is not a positive integer", number));
    }
    return value;
  };
  LayeredShape shape;
  std::stringstream widths(text.substr(0, colon));
  std::string width;
  while (std::getline(widths, width, ',')) shape.widths.push_back(positive(width));
  if (shape.widths.size() < 2) throw fail("it needs an input width and at least one layer");
  shape.batch = positive(text.substr(colon + 1));
  return shape;
}

std::vector<Gemm> training_step_gemms(const LayeredShape& shape) {
  std::vector<Gemm> gemms;
  const int64_t b = shape.batch;
  for (int64_t l = 0; l < shape.layers(); ++l) {
    const int64_t in = shape.widths[l], out = shape.widths[l + 1];
    gemms.push_back({fmt::format("drive {}", l), b, in, out, false, true});
    if (l > 0) gemms.push_back({fmt::format("credit {}", l), b, out, in, false, false});
    gemms.push_back({fmt::format("plasticity {}", l), out, b, in, true, false});
  }
  return gemms;
}

double total_flops(const std::vector<Gemm>& gemms) {
  double flops = 0.0;
  for (const auto& gemm : gemms) flops += gemm.flops();
  return flops;
}

}  // namespace bench
}  // namespace eiprop
