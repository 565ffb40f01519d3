// The losses the learning-step operators take, and the output imbalance each gives the output
// population: e = -B dLoss/dr_output (docs/theory.md §3, the output's own credit source).
//   squared_error: Loss = 1/(2B) sum_b ||target_b - r_b||^2; e = target - r (target shaped as r).
//   cross_entropy: Loss = torch.nn.functional.cross_entropy(r, target) (r are the logits, mean
//     over the batch); target holds class indices [B] (int64) or class probabilities shaped as
//     r; e = one_hot(target) - softmax(r), or target - softmax(r) * sum_c target_c.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/string_view.h>

#include <string>

namespace eiprop {
namespace ops {

enum class Loss { squared_error, cross_entropy };

std::string loss_choices();  // "squared_error, cross_entropy"

class OutputLoss {
 public:
  // Parses the loss and checks the target against the input (dtype, device, batch) without
  // reading its values.
  OutputLoss(const char* op, c10::string_view loss, const at::Tensor& target,
             const at::Tensor& input);

  // e for the output rates r (their width checked against the target's). A class index outside
  // 0..N-1 makes its sample's e NaN (no device synchronisation here); the step's non-finite scan
  // then calls refuse_bad_target.
  at::Tensor imbalance(const at::Tensor& output) const;

  // Raises naming the target when it holds NaN/Inf or a class index out of range (reads values:
  // one synchronisation; called only after a step failed its scan).
  void refuse_bad_target(int64_t output_width) const;

 private:
  bool class_indices() const { return target_.scalar_type() == at::kLong; }

  const char* op_;
  Loss loss_;
  at::Tensor target_;
};

}  // namespace ops
}  // namespace eiprop
