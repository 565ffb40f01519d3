// The child process of the checkpoint tests (tests/test_checkpointer.cpp).
//
//   checkpoint_trainer train DIR STOP EVERY OUT
//     Trains a small BalancedMLP (credit learning, SGD with momentum, shuffled synthetic data,
//     input noise from the default generator) up to step STOP, resuming from the newest
//     checkpoint in DIR if there is one and saving every EVERY steps. Writes the parameters to
//     OUT (torch::save of a tensor list).
//   checkpoint_trainer save-loop DIR
//     Saves forever (until killed): a large module whose parameters are a known function of the
//     step, so that a test can check any checkpoint it finds.
#include <eiprop/eiprop.h>

#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr int64_t kSamples = 200;
constexpr int64_t kBatch = 16;

int train(const std::string& directory, int64_t stop, int64_t every,
          const std::string& out) {
  torch::manual_seed(7);
  eiprop::BalancedMLP net(eiprop::BalancedMLPOptions({12, 16, 10, 4}).activation("tanh"));
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto data_generator = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto inputs = torch::randn({kSamples, 12}, data_generator);
  const auto labels = torch::randint(0, 4, {kSamples}, data_generator, torch::kLong);

  eiprop::Checkpointer checkpoints(directory, eiprop::CheckpointerOptions().every(every).keep(2));
  int64_t step = 0;
  if (const auto resumed = checkpoints.load_latest(*net, optimizer)) {
    step = resumed->step;
    std::printf("resumed at step %lld from %s\n", static_cast<long long>(step),
                resumed->path.c_str());
  }
  const int64_t batches_per_epoch = kSamples / kBatch;
  for (; step < stop; ++step) {
    // The data-loader position is the step: the epoch's order comes from the epoch's seed.
    const int64_t epoch = step / batches_per_epoch;
    const int64_t within = step % batches_per_epoch;
    const auto order =
        torch::randperm(kSamples, at::make_generator<at::CPUGeneratorImpl>(1000 + epoch),
                        torch::kLong);
    const auto index = order.narrow(0, within * kBatch, kBatch);
    const auto x = inputs.index_select(0, index);
    const auto noisy = x + 0.05 * torch::randn_like(x);  // the default generator's stream
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(noisy), labels.index_select(0, index))
        .backward();
    optimizer.step();
    checkpoints.maybe_save(step + 1, *net, optimizer, step + 1);
  }
  std::vector<torch::Tensor> parameters;
  for (const auto& parameter : net->parameters()) parameters.push_back(parameter.detach().clone());
  torch::save(parameters, out);
  return 0;
}

int save_loop(const std::string& directory) {
  eiprop::BalancedMLP net(eiprop::BalancedMLPOptions({512, 1024, 1024, 10}));
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  eiprop::Checkpointer checkpoints(directory, eiprop::CheckpointerOptions().every(1).keep(2));
  int64_t step = 0;
  if (const auto resumed = checkpoints.load_latest(*net, optimizer)) step = resumed->step;
  torch::NoGradGuard no_grad;
  for (;;) {
    ++step;
    int64_t index = 0;
    for (auto& parameter : net->parameters()) {
      parameter.fill_(static_cast<double>(step) + 0.25 * static_cast<double>(index++));
    }
    checkpoints.maybe_save(step, *net, optimizer, 3 * step);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "train" && argc == 6) {
      return train(argv[2], std::atoll(argv[3]), std::atoll(argv[4]), argv[5]);
    }
    if (mode == "save-loop" && argc == 3) return save_loop(argv[2]);
    std::fprintf(stderr,
                 "usage: %s train DIR STOP EVERY OUT | %s save-loop DIR\n", argv[0],
                 argv[0]);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "checkpoint_trainer: %s\n", error.what());
    return 1;
  }
}
