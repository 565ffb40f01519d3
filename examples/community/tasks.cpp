#include "community/tasks.h"

#include "common/fashion_mnist.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/linalg_qr.h>
#include <torch/nn/functional/loss.h>

namespace eiprop {
namespace examples {

torch::Tensor Task::output_imbalance(const torch::Tensor& output,
                                     const torch::Tensor& target) const {
  if (loss == Loss::cross_entropy) {
    return torch::one_hot(target, outputs).to(output.scalar_type()) - output.softmax(1);
  }
  return target - output;
}

torch::Tensor Task::loss_value(const torch::Tensor& output, const torch::Tensor& target) const {
  if (loss == Loss::cross_entropy) return torch::nn::functional::cross_entropy(output, target);
  return (target - output).pow(2).sum() / (2.0 * static_cast<double>(output.size(0)));
}

double Task::score(const torch::Tensor& output, const torch::Tensor& target) const {
  if (loss == Loss::cross_entropy) {
    return 100.0 * output.argmax(1).eq(target).to(torch::kDouble).mean().item<double>();
  }
  const auto residual = (target - output).pow(2).sum();
  const auto total = (target - target.mean(0)).pow(2).sum();
  return 1.0 - (residual / total).item<double>();
}

Task fashion_mnist_task(const std::string& data_dir, const std::string& cache_dir,
                        int64_t train_limit, int64_t test_limit) {
  auto limit = [](Split split, int64_t count) {
    if (count > 0 && count < split.images.size(0)) {
      split = {split.images.narrow(0, 0, count), split.labels.narrow(0, 0, count)};
    }
    return split;
  };
  const auto train = limit(load_fashion_mnist(data_dir, cache_dir, true), train_limit);
  const auto test = limit(load_fashion_mnist(data_dir, cache_dir, false), test_limit);
  Task task;
  task.name = "fashion";
  task.loss = Loss::cross_entropy;
  task.inputs = train.images.size(1);
  task.outputs = 10;
  task.train_input = train.images;
  task.train_target = train.labels;
  task.test_input = test.images;
  task.test_target = test.labels;
  task.score_name = "test accuracy (%)";
  return task;
}

Task two_task_regression(int64_t train_samples, int64_t test_samples, int64_t inputs_per_task,
                         int64_t outputs_per_task, int64_t teacher_hidden, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto teacher = [&]() {
    // Gain 2 on the hidden drive: the teacher is clearly non-linear.
    auto in = 2.0 * at::randn({teacher_hidden, inputs_per_task}, generator) /
              std::sqrt(static_cast<double>(inputs_per_task));
    auto out = at::randn({outputs_per_task, teacher_hidden}, generator) /
               std::sqrt(static_cast<double>(teacher_hidden));
    return std::make_pair(in, out);
  };
  const auto teacher_a = teacher();
  const auto teacher_b = teacher();
  auto sample = [&](int64_t count) {
    const auto x_a = at::randn({count, inputs_per_task}, generator);
    const auto x_b = at::randn({count, inputs_per_task}, generator);
    const auto y_a = (x_a.matmul(teacher_a.first.t())).tanh().matmul(teacher_a.second.t());
    const auto y_b = (x_b.matmul(teacher_b.first.t())).tanh().matmul(teacher_b.second.t());
    return std::make_pair(torch::cat({x_a, x_b}, 1), torch::cat({y_a, y_b}, 1));
  };
  const auto train = sample(train_samples);
  const auto test = sample(test_samples);
  Task task;
  task.name = "modular";
  task.loss = Loss::squared_error;
  task.inputs = 2 * inputs_per_task;
  task.outputs = 2 * outputs_per_task;
  task.train_input = train.first;
  task.train_target = train.second;
  task.test_input = test.first;
  task.test_target = test.second;
  task.score_name = "test R^2";
  return task;
}

Task entangled(Task task, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto gaussian = at::randn({task.inputs, task.inputs}, generator, at::kDouble);
  const auto rotation = std::get<0>(at::linalg_qr(gaussian)).to(task.train_input.scalar_type());
  task.name = "entangled";
  task.train_input = task.train_input.matmul(rotation.t());
  task.test_input = task.test_input.matmul(rotation.t());
  return task;
}

std::vector<int64_t> task_partition(int64_t inputs_per_task, int64_t outputs_per_task) {
  std::vector<int64_t> labels;
  for (const int64_t count : {inputs_per_task, outputs_per_task}) {
    labels.insert(labels.end(), static_cast<size_t>(count), 0);
    labels.insert(labels.end(), static_cast<size_t>(count), 1);
  }
  return labels;
}

}  // namespace examples
}  // namespace eiprop
