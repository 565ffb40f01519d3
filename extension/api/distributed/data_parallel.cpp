#include "eiprop/distributed/data_parallel.h"
#include "api/distributed/error_text.h"

#include <c10/util/Exception.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <exception>
#include <string>

namespace eiprop {
namespace {
constexpr const char* kDataParallel = "eiprop::DataParallel";
// Bucket 0 carries two totals after the parameters: the samples and the loss sum of the ranks.
constexpr int64_t kTotals = 2;

using detail::error_text;
}  // namespace

DataParallel::DataParallel(BalancedMLP module, c10::intrusive_ptr<c10d::ProcessGroup> group,
                           DataParallelOptions options)
    : module_(std::move(module)), group_(std::move(group)) {
  TORCH_CHECK(!module_.is_empty(), kDataParallel, ": module is empty");
  TORCH_CHECK(group_, kDataParallel, ": group is null; create one with eiprop::init_process_group");
  TORCH_CHECK(options.bucket_bytes() > 0, kDataParallel, ": options.bucket_bytes must be positive, got ",
              options.bucket_bytes());
  rank_ = group_->getRank();
  world_size_ = group_->getSize();

  const auto weights = module_->weights();
  const auto biases = module_->biases();
  for (size_t l = 0; l < weights.size(); ++l) {
    weight_index_.push_back(static_cast<int64_t>(parameters_.size()));
    parameters_.push_back(weights[l]);
    bias_index_.push_back(biases[l].has_value() ? static_cast<int64_t>(parameters_.size()) : -1);
    if (biases[l].has_value()) parameters_.push_back(*biases[l]);
  }
  TORCH_CHECK(parameters_.size() == module_->parameters().size(), kDataParallel,
              ": the module has ", module_->parameters().size(),
              " parameters but its layers hold ", parameters_.size(),
              "; only the layers' weights and biases can be kept in step");

  // Pack the parameters in order: a new bucket where the dtype or device changes or the next
  // parameter would overflow bucket_bytes.
  std::vector<std::vector<size_t>> groups;
  int64_t bytes = 0;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const auto& p = parameters_[i];
    const int64_t p_bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool fits = !groups.empty() && bytes + p_bytes <= options.bucket_bytes() &&
                      parameters_[groups.back().front()].dtype() == p.dtype() &&
                      parameters_[groups.back().front()].device() == p.device();
    if (!fits) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(i);
    bytes += p_bytes;
  }
  for (size_t b = 0; b < groups.size(); ++b) {
    Bucket bucket;
    bucket.params = groups[b];
    for (auto i : bucket.params) bucket.numel += parameters_[i].numel();
    const auto& first = parameters_[bucket.params.front()];
    bucket.flat = torch::zeros({bucket.numel + (b == 0 ? kTotals : 0)}, first.options());
    int64_t offset = 0;
    for (auto i : bucket.params) {
      const auto& p = parameters_[i];
      bucket.views.push_back(bucket.flat.narrow(0, offset, p.numel()).view(p.sizes()));
      offset += p.numel();
    }
    buckets_.push_back(std::move(bucket));
  }
}

torch::Tensor DataParallel::shard(const torch::Tensor& global_batch) const {
  TORCH_CHECK(global_batch.defined() && global_batch.dim() >= 1, kDataParallel,
              "::shard: global_batch must have a batch dimension");
  return torch::tensor_split(global_batch, world_size_, 0)[rank_];
}

void DataParallel::run_collectives(
    const char* what,
    const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& collective) {
  // Every bucket's collective is in flight before the first wait.
  std::vector<std::vector<at::Tensor>> tensors;
  tensors.reserve(buckets_.size());
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& bucket : buckets_) {
    tensors.push_back({bucket.flat});
    works.push_back(collective(tensors.back()));
  }
  for (size_t b = 0; b < works.size(); ++b) {
    try {
      works[b]->wait();
    } catch (const std::exception& error) {
      TORCH_CHECK(false, kDataParallel, ": the ", what, " of bucket ", b, " (",
                  buckets_[b].flat.numel(), " values) failed on rank ", rank_, " of ",
                  world_size_, ": a peer rank died or stopped answering. ", error_text(error));
    }
  }
}

void DataParallel::broadcast_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      bucket.views[k].copy_(parameters_[bucket.params[k]]);
    }
  }
  run_collectives("broadcast", [&](std::vector<at::Tensor>& tensors) {
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    return group_->broadcast(tensors, options);
  });
  for (auto& bucket : buckets_) {
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      parameters_[bucket.params[k]].copy_(bucket.views[k]);
    }
  }
}

std::pair<double, double> DataParallel::all_reduce_average(int64_t local_samples,
                                                           double local_loss_sum) {
  TORCH_CHECK(local_samples >= 0, kDataParallel, ": local_samples must be >= 0, got ",
              local_samples);
  // Each rank contributes its shard's average times its shard's size: the sum over ranks is the
  // sum over the global batch, whatever the shards' sizes.
  for (auto& bucket : buckets_) {
    auto values = bucket.flat.narrow(0, 0, bucket.numel);
    if (local_samples == 0) {
      values.zero_();
    } else {
      values.mul_(static_cast<double>(local_samples));
    }
  }
  auto totals = buckets_.front().flat.narrow(0, buckets_.front().numel, kTotals);
  totals[0].fill_(static_cast<double>(local_samples));
  totals[1].fill_(local_loss_sum);
  run_collectives("all-reduce", [&](std::vector<at::Tensor>& tensors) {
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    return group_->allreduce(tensors, options);
  });
  const double samples = totals[0].item<double>();
  const double loss_sum = totals[1].item<double>();
  TORCH_CHECK(samples > 0, kDataParallel, ": the global batch is empty on all ", world_size_,
              " ranks");
  for (auto& bucket : buckets_) bucket.flat.narrow(0, 0, bucket.numel).div_(samples);
  return {samples, loss_sum};
}

void DataParallel::check_rule(const PlasticityRule& rule) const {
  TORCH_CHECK(rule.module().ptr() == module_.ptr(), kDataParallel,
              "::step: rule learns on another module than this DataParallel's");
}

std::pair<double, double> DataParallel::rule_step(
    PlasticityRule& rule, const torch::Tensor& local_input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance,
    const double& local_loss_sum) {
  check_rule(rule);
  torch::NoGradGuard no_grad;
  TORCH_CHECK(local_input.defined() && local_input.dim() == 2, kDataParallel,
              "::step: local_input must be a [B, N0] matrix");
  const int64_t local_samples = local_input.size(0);
  if (local_samples > 0) {
    const auto layers = weight_index_.size();
    std::vector<torch::Tensor> weight_updates(layers), bias_updates(layers);
    for (auto& bucket : buckets_) {
      for (size_t k = 0; k < bucket.params.size(); ++k) {
        const auto i = static_cast<int64_t>(bucket.params[k]);
        for (size_t l = 0; l < layers; ++l) {
          if (weight_index_[l] == i) weight_updates[l] = bucket.views[k];
          if (bias_index_[l] == i) bias_updates[l] = bucket.views[k];
        }
      }
    }
    rule.compute_updates(local_input, output_imbalance, weight_updates, bias_updates);
  }
  const auto totals = all_reduce_average(local_samples, local_loss_sum);
  for (auto& bucket : buckets_) {
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      parameters_[bucket.params[k]].add_(bucket.views[k]);
    }
  }
  return totals;
}

double DataParallel::step(PlasticityRule& rule, const torch::Tensor& local_input,
                          const torch::Tensor& local_target) {
  double local_loss_sum = 0.0;
  const auto totals = rule_step(
      rule, local_input,
      [&](const torch::Tensor& output) {
        TORCH_CHECK(local_target.sizes() == output.sizes(), kDataParallel,
                    "::step: local_target has shape ", local_target.sizes(),
                    " but the output rates have shape ", output.sizes());
        const auto imbalance = local_target - output;
        local_loss_sum = imbalance.pow(2).sum().item<double>() / 2.0;
        return imbalance;
      },
      local_loss_sum);
  return totals.second / totals.first;
}

void DataParallel::step(
    PlasticityRule& rule, const torch::Tensor& local_input,
    const std::function<torch::Tensor(const torch::Tensor& output)>& output_imbalance) {
  rule_step(rule, local_input, output_imbalance, 0.0);
}

double DataParallel::average_gradients(int64_t local_samples, double local_loss) {
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      const auto& grad = parameters_[bucket.params[k]].grad();
      if (grad.defined() && local_samples > 0) {
        bucket.views[k].copy_(grad);
      } else {
        bucket.views[k].zero_();
      }
    }
  }
  const auto totals = all_reduce_average(local_samples, local_loss * static_cast<double>(local_samples));
  for (auto& bucket : buckets_) {
    for (size_t k = 0; k < bucket.params.size(); ++k) {
      auto& parameter = parameters_[bucket.params[k]];
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(bucket.views[k]);
      } else {
        parameter.mutable_grad() = bucket.views[k].clone();
      }
    }
  }
  return totals.second / totals.first;
}

}  // namespace eiprop
