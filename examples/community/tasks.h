// The two learning problems of the community study: Fashion-MNIST classification, and a
// synthetic two-task regression whose solution could be modular (two independent teacher
// mappings, each from its own half of the input to its own half of the output).
#pragma once

#include <torch/types.h>
#include <torch/utils.h>

#include <cstdint>
#include <string>
#include <vector>

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
// input is [x_a, x_b], the target [y_a, y_b]. The teachers and data depend only on `seed` (the
// study draws a new teacher per seed). Named "modular".
Task two_task_regression(int64_t train_samples, int64_t test_samples, int64_t inputs_per_task,
                         int64_t outputs_per_task, int64_t teacher_hidden, uint64_t seed);

// The entangled control: the same task with its input mixed by a random rotation R (the Q of a
// Gaussian matrix's QR decomposition, seeded by `seed`), x -> x R^T, targets unchanged. Every
// input neuron then carries both tasks, so a modular solution has nothing to align with.
// Named "entangled".
Task entangled(Task task, uint64_t seed);

// The task partition of a two-task circuit's input and output neurons (task a: 0, task b: 1),
// in node order: the first inputs_per_task inputs, then the rest; likewise the outputs.
std::vector<int64_t> task_partition(int64_t inputs_per_task, int64_t outputs_per_task);

}  // namespace examples
}  // namespace eiprop
