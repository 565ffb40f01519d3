#include "eiprop/train/dale.h"

#include <torch/types.h>
#include <torch/utils.h>

namespace eiprop {
namespace {

void check_weights(const char* function, const std::vector<torch::Tensor>& weights,
                   const Graph& graph, const std::vector<Sign>& signs) {
  check_signs(function, graph, signs);
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == graph.projections(), function,
              ": weights has ", weights.size(), " entries but the graph has ",
              graph.projections(), " projections; give one per projection");
  for (int64_t k = 0; k < graph.projections(); ++k) {
    TORCH_CHECK(weights[k].defined(), function, ": weights[", k, "] (projection ", k,
                ") is undefined");
    TORCH_CHECK(graph.pre[k] >= 0 && graph.pre[k] <= graph.populations(), function, ": pre[", k,
                "] (projection ", k, ") is ", graph.pre[k], " but the populations are 0..",
                graph.populations());
  }
}

}  // namespace

const char* sign_name(Sign sign) {
  return sign == Sign::excitatory ? "excitatory" : "inhibitory";
}

void check_signs(const char* function, const Graph& graph, const std::vector<Sign>& signs) {
  TORCH_CHECK(static_cast<int64_t>(signs.size()) == graph.populations() + 1, function,
              ": signs has ", signs.size(), " entries but the graph has ", graph.populations() + 1,
              " populations 0..", graph.populations(),
              "; give one type per population, the input population 0 first");
}

std::vector<torch::Tensor> dale_initialise(const std::vector<torch::Tensor>& weights,
                                           const Graph& graph, const std::vector<Sign>& signs) {
  check_weights("eiprop::dale_initialise", weights, graph, signs);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> result;
  for (int64_t k = 0; k < graph.projections(); ++k) {
    auto magnitude = weights[k].abs();
    result.push_back(signs[graph.pre[k]] == Sign::excitatory ? magnitude : magnitude.neg_());
  }
  return result;
}

void dale_project_(const std::vector<torch::Tensor>& weights, const Graph& graph,
                   const std::vector<Sign>& signs) {
  check_weights("eiprop::dale_project_", weights, graph, signs);
  torch::NoGradGuard no_grad;
  for (int64_t k = 0; k < graph.projections(); ++k) {
    auto weight = weights[k];
    if (signs[graph.pre[k]] == Sign::excitatory) {
      weight.clamp_min_(0);
    } else {
      weight.clamp_max_(0);
    }
  }
}

std::vector<int64_t> dale_violations(const std::vector<torch::Tensor>& weights, const Graph& graph,
                                     const std::vector<Sign>& signs) {
  check_weights("eiprop::dale_violations", weights, graph, signs);
  std::vector<int64_t> result;
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const auto wrong = signs[graph.pre[k]] == Sign::excitatory ? weights[k].lt(0)
                                                               : weights[k].gt(0);
    result.push_back(wrong.sum().item<int64_t>());
  }
  return result;
}

void check_dale(const char* function, const std::vector<torch::Tensor>& weights,
                const Graph& graph, const std::vector<Sign>& signs) {
  const auto violations = dale_violations(weights, graph, signs);
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const Sign sign = signs[graph.pre[k]];
    TORCH_CHECK(violations[k] == 0, function, ": weights[", k, "] (projection ", k,
                ": population ", graph.pre[k], " -> ", graph.post[k], ") has ", violations[k],
                " weights of the wrong sign; population ", graph.pre[k], " is ", sign_name(sign),
                " so all its outgoing weights must be ",
                sign == Sign::excitatory ? ">= 0" : "<= 0");
  }
}

}  // namespace eiprop
