#include "ops/output_loss.h"

#include "ops/validate.h"
#include "util/enum_table.h"

#include <limits>

namespace eiprop {
namespace ops {
namespace {

constexpr util::EnumTable<Loss, 2> kLosses{{{"squared_error", Loss::squared_error},
                                            {"cross_entropy", Loss::cross_entropy}}};

Loss parse_loss(const char* op, c10::string_view name) {
  const auto parsed = util::parse_enum(kLosses, std::string(name));
  TORCH_CHECK(parsed.has_value(), op, ": loss '", std::string(name), "' is not one of ",
              loss_choices());
  return *parsed;
}

}  // namespace

std::string loss_choices() { return util::enum_choices(kLosses); }

OutputLoss::OutputLoss(const char* op, c10::string_view loss, const at::Tensor& target,
                       const at::Tensor& input)
    : op_(op), loss_(parse_loss(op, loss)), target_(target) {
  TORCH_CHECK(target.defined(), op, ": target is undefined");
  if (loss_ == Loss::cross_entropy && class_indices()) {
    TORCH_CHECK(target.dim() == 1, op, ": target (class indices, int64) must be 1-D [batch], got ",
                target.dim(), "-D with shape ", target.sizes());
    TORCH_CHECK(target.layout() == at::kStrided, op, ": target must be a dense (strided) "
                "tensor, got layout ", target.layout());
    TORCH_CHECK(target.device() == input.device(), op, ": target is on ", target.device(),
                " but input is on ", input.device());
  } else {
    const char* kinds = loss_ == Loss::cross_entropy
                            ? " (cross_entropy takes class indices [batch] as int64, or class "
                              "probabilities shaped as the output rates)"
                            : "";
    TORCH_CHECK(target.is_floating_point(), op, ": target has dtype ", target.scalar_type(),
                "; expected ", input.scalar_type(), kinds);
    check_matrix(op, "target", target, input);
  }
  TORCH_CHECK(target.size(0) == input.size(0), op, ": target has batch ", target.size(0),
              " but input has batch ", input.size(0));
}

at::Tensor OutputLoss::imbalance(const at::Tensor& output) const {
  const int64_t width = output.size(1);
  if (loss_ == Loss::cross_entropy && class_indices()) {
    const auto in_range = target_.ge(0).logical_and(target_.lt(width)).unsqueeze(1);
    auto e = at::softmax(output, 1).neg_();
    e.scatter_add_(1, at::where(in_range, target_.unsqueeze(1), 0),
                   at::ones({output.size(0), 1}, output.options()));
    return at::where(in_range, e, std::numeric_limits<double>::quiet_NaN());
  }
  check_shape(op_, "target", target_, output.sizes(), "the output rates' shape");
  if (loss_ == Loss::squared_error) return target_ - output;
  // -B dLoss/dr of -sum_c t_c log softmax(r)_c: rows of t need not sum to 1.
  return target_ - at::softmax(output, 1) * target_.sum(1, /*keepdim=*/true);
}

void OutputLoss::refuse_bad_target(int64_t output_width) const {
  if (class_indices()) {
    const auto outside = target_.lt(0).logical_or(target_.ge(output_width)).nonzero();
    if (outside.numel() == 0) return;
    const int64_t sample = outside[0][0].item<int64_t>();
    TORCH_CHECK(false, op_, ": target[", sample, "] = ", target_[sample].item<int64_t>(),
                " is not a class of the output population (its ", output_width,
                " neurons are classes 0..", output_width - 1, ")");
  }
  TORCH_CHECK(at::isfinite(target_).all().item<bool>(), op_, ": target ", kNonFiniteInput);
}

}  // namespace ops
}  // namespace eiprop
