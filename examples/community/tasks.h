// The two learning problems of the community study: Fashion-MNIST classification, and a
// synthetic two-task regression whose solution could be modular (two independent teacher
// mappings, each from its own half of the input to its own half of the output).
#pragma once

#include <torch/types.h>
#include <torch/utils.h>

#include <cstdint>
#include <string>

namespace eiprop {
namespace examples {

enum class Loss {
  cross_entropy,  // targets are class labels [N]
  squared_error,  // targets are [N, outputs]; Loss = 1/(2B) sum ||y - r||^2
};

struct Task {
  std::string name;
  Loss loss = Loss::squared_error;
  int64_t inputs = 0;
  int64_t outputs = 0;
  torch::Tensor train_input, train_target;
  torch::Tensor test_input, test_target;
  std::string score_name;  // what score() measures

  // The output imbalance e = -B dLoss/dr (docs/theory.md §3) of a batch.
  torch::Tensor output_imbalance(const torch::Tensor& output, const torch::Tensor& target) const;
  // The batch-mean loss, differentiable (autograd's side of the control).
  torch::Tensor loss_value(const torch::Tensor& output, const torch::Tensor& target) const;
  // Accuracy in % (cross-entropy) or the fraction of the target variance explained (R^2).
  double score(const torch::Tensor& output, const torch::Tensor& target) const;
};

// Fashion-MNIST from the Debian package: the first train_limit / test_limit images (0: all).
Task fashion_mnist_task(const std::string& data_dir, const std::string& cache_dir,
                        int64_t train_limit, int64_t test_limit);

// Two independent teachers y_t = tanh(x_t A_t^T) B_t^T (t = a, b) on Gaussian inputs; the
// input is [x_a, x_b], the target [y_a, y_b]. The teachers and data depend only on `seed`.
Task two_task_regression(int64_t train_samples, int64_t test_samples, int64_t inputs_per_task,
                         int64_t outputs_per_task, int64_t teacher_hidden, uint64_t seed);

}  // namespace examples
}  // namespace eiprop
