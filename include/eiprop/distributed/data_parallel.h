// DataParallel: a circuit trained data-parallel on a c10d process group. Every rank holds the
// same weights and learns from its own shard of each global batch; the ranks' updates (the
// rule's Hebbian updates, or the gradients of the autograd bridge) are summed in as few
// all-reduces as possible — the parameters are packed into a few contiguous buckets, one
// all-reduce each — and averaged, so that every rank applies the update of the whole batch.
#pragma once

#include "eiprop/nn/balanced_mlp.h"
#include "eiprop/train/plasticity_rule.h"

#include <torch/arg.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace eiprop {

struct DataParallelOptions {
  // Largest bucket, in bytes: parameters are packed in layer order (weight, bias, next layer)
  // into contiguous buffers of at most this size; a parameter larger than that gets its own.
  TORCH_ARG(int64_t, bucket_bytes) = 25 * 1024 * 1024;
};

class DataParallel {
 public:
  DataParallel(BalancedMLP module, c10::intrusive_ptr<c10d::ProcessGroup> group,
               DataParallelOptions options = {});

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  // The number of all-reduces per step.
  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }
  const BalancedMLP& module() const { return module_; }

  // This rank's rows of a global batch: rows split into world_size consecutive shards whose
  // sizes differ by at most one (torch::tensor_split), so the ranks together cover the batch.
  torch::Tensor shard(const torch::Tensor& global_batch) const;

  // Makes every rank's parameters equal to rank 0's (one broadcast per bucket).
  void broadcast_parameters();

  // The plasticity rule, data-parallel: each rank relaxes rates and credits on its shard, the
  // Hebbian updates are averaged over all ranks, weighted by shard size, and every rank applies
  // the same update — that of one PlasticityRule step on the whole global batch. `rule` must
  // be a rule on this module. Returns the squared-error loss of the global batch before the
  // step, 1/(2B) sum ||target - r||^2.
  double step(PlasticityRule& rule, const torch::Tensor& local_input,
              const torch::Tensor& local_target);
  // The same for any loss: output_imbalance(r_L) = -B_local dLoss/dr_L (see PlasticityRule).
  void step(PlasticityRule& rule, const torch::Tensor& local_input,
            const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance);

  // The autograd bridge (or autograd) with any torch::optim optimizer: call after
  // loss.backward() on the local shard and before optimizer.step(). Replaces every gradient by
  // the average of the ranks' gradients weighted by local_samples (their shard sizes), which is
  // the gradient of the global batch's mean loss when each rank's loss is its shard's mean.
  // Returns the global batch's mean loss, from each rank's local_loss (its shard's mean loss).
  double average_gradients(int64_t local_samples, double local_loss = 0.0);

 private:
  struct Bucket {
    torch::Tensor flat;                // the parameters' values, then (bucket 0) two totals
    std::vector<torch::Tensor> views;  // views[i]: parameter params[i]'s slice of flat
    std::vector<size_t> params;        // indices into parameters_
    int64_t numel = 0;                 // elements that hold parameter values
  };
  // Puts this rank's sample count and loss sum into bucket 0's last two elements, scales the
  // parameter slices by the sample count, all-reduces every bucket (sum), then divides by the
  // global sample count. Returns the global (samples, loss sum).
  std::pair<double, double> all_reduce_average(int64_t local_samples, double local_loss_sum);
  void run_collectives(const char* what,
                       const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>&
                           collective);
  void check_rule(const PlasticityRule& rule) const;
  // Writes the rule's updates on the local shard into the buckets, averages them, applies them.
  // local_loss_sum is read after output_imbalance ran (it may fill it in). Returns the global
  // (samples, loss sum).
  std::pair<double, double> rule_step(
      PlasticityRule& rule, const torch::Tensor& local_input,
      const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
      const double& local_loss_sum);

  BalancedMLP module_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  int64_t rank_;
  int64_t world_size_;
  std::vector<torch::Tensor> parameters_;  // w0, b0, w1, b1, ... (no entry for absent biases)
  std::vector<int64_t> weight_index_;      // layer l's weight in parameters_
  std::vector<int64_t> bias_index_;        // layer l's bias in parameters_, -1 if none
  std::vector<Bucket> buckets_;
};

}  // namespace eiprop
