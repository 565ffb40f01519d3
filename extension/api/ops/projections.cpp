#include "eiprop/ops/projections.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

namespace eiprop {
namespace projection {
namespace {

std::string text(const Pair& pair) { return c10::str(pair[0], ",", pair[1]); }
const char* flag(bool value) { return value ? "true" : "false"; }
Pair pair_of(const torch::ExpandingArray<2>& values) { return {(*values)[0], (*values)[1]}; }

// A Conv2d's padding as numbers: given, 'valid' (none) or 'same' (half the dilated kernel, when
// that is the same on both sides).
struct PaddingOf {
  const torch::nn::detail::ConvNdOptions<2>& options;
  std::string& mismatch;

  c10::optional<Pair> operator()(const torch::ExpandingArray<2>& padding) const {
    return pair_of(padding);
  }
  c10::optional<Pair> operator()(const torch::enumtype::kValid&) const { return Pair{0, 0}; }
  c10::optional<Pair> operator()(const torch::enumtype::kSame&) const {
    Pair padding{};
    for (int d = 0; d < 2; ++d) {
      const int64_t total = (*options.dilation())[d] * ((*options.kernel_size())[d] - 1);
      if (total % 2 != 0) {
        mismatch = " has padding 'same' with an even dilated kernel, which pads one side more "
                   "than the other; a conv2d projection pads both sides alike";
        return c10::nullopt;
      }
      padding[d] = total / 2;
    }
    return padding;
  }
};

}  // namespace

std::string dense() { return "dense"; }

std::string conv2d(Pair kernel, Pair stride, Pair padding, Pair dilation, int64_t groups) {
  return c10::str("conv2d kernel=", text(kernel), " stride=", text(stride),
                  " padding=", text(padding), " dilation=", text(dilation), " groups=", groups);
}

std::string avg_pool2d(Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                       bool count_include_pad) {
  return c10::str("avg_pool2d kernel=", text(kernel), " stride=", text(stride),
                  " padding=", text(padding), " ceil_mode=", flag(ceil_mode),
                  " count_include_pad=", flag(count_include_pad));
}

std::string max_pool2d(Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
  return c10::str("max_pool2d kernel=", text(kernel), " stride=", text(stride),
                  " padding=", text(padding), " dilation=", text(dilation),
                  " ceil_mode=", flag(ceil_mode));
}

std::string flatten() { return "flatten"; }

c10::optional<std::string> of_module(const torch::nn::Module& module, std::string& mismatch) {
  if (module.as<torch::nn::Linear>()) return dense();
  if (const auto* conv = module.as<torch::nn::Conv2d>()) {
    const auto& options = conv->options;
    const auto mode = torch::enumtype::get_enum_name(options.padding_mode());
    if (mode != "kZeros") {
      mismatch = c10::str(" has padding_mode ", mode, "; a conv2d projection pads with zeros");
      return c10::nullopt;
    }
    // (An unqualified visit: std::visit or c10::visit, whichever variant the LibTorch has.)
    const auto padding = visit(PaddingOf{options, mismatch}, options.padding());
    if (!padding) return c10::nullopt;
    return conv2d(pair_of(options.kernel_size()), pair_of(options.stride()), *padding,
                  pair_of(options.dilation()), options.groups());
  }
  if (const auto* pool = module.as<torch::nn::AvgPool2d>()) {
    const auto& options = pool->options;
    if (options.divisor_override().has_value()) {
      mismatch = " has a divisor_override; an avg_pool2d projection divides by its window";
      return c10::nullopt;
    }
    return avg_pool2d(pair_of(options.kernel_size()), pair_of(options.stride()),
                      pair_of(options.padding()), options.ceil_mode(),
                      options.count_include_pad());
  }
  if (const auto* pool = module.as<torch::nn::MaxPool2d>()) {
    const auto& options = pool->options;
    return max_pool2d(pair_of(options.kernel_size()), pair_of(options.stride()),
                      pair_of(options.padding()), pair_of(options.dilation()),
                      options.ceil_mode());
  }
  if (const auto* flat = module.as<torch::nn::Flatten>()) {
    if (flat->options.start_dim() != 1 || flat->options.end_dim() != -1) {
      mismatch = c10::str(" flattens dimensions ", flat->options.start_dim(), "..",
                          flat->options.end_dim(),
                          "; a flatten projection flattens [C, H, W] (start_dim 1, end_dim -1)");
      return c10::nullopt;
    }
    return flatten();
  }
  return c10::nullopt;
}

}  // namespace projection
}  // namespace eiprop
