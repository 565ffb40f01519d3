#include "eiprop/analysis/ei_balance.h"

#include "eiprop/ops/layered.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <limits>

namespace eiprop {
namespace analysis {
namespace {
constexpr const char* kFunction = "eiprop::analysis::ei_balance";
}

std::vector<PopulationBalance> ei_balance(const std::vector<torch::Tensor>& rates,
                                          const std::vector<torch::Tensor>& weights,
                                          const Graph& graph) {
  const int64_t populations = graph.populations();
  TORCH_CHECK(static_cast<int64_t>(rates.size()) == populations + 1, kFunction, ": rates has ",
              rates.size(), " entries but the graph has populations 0..", populations,
              "; give the input's rates first, then one per population");
  TORCH_CHECK(static_cast<int64_t>(weights.size()) == graph.projections() &&
                  graph.post.size() == graph.pre.size(),
              kFunction, ": weights has ", weights.size(), " entries but the graph has ",
              graph.projections(), " projections (pre) and ", graph.post.size(), " (post)");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> excitatory(populations + 1), inhibitory(populations + 1);
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const int64_t pre = graph.pre[k], post = graph.post[k];
    TORCH_CHECK(pre >= 0 && pre <= populations && post >= 1 && post <= populations, kFunction,
                ": projection ", k, " runs from population ", pre, " to ", post,
                " but the populations are 0..", populations, " (0, the input, receives none)");
    TORCH_CHECK(rates[pre].dim() == 2 && weights[k].dim() == 2 &&
                    rates[pre].size(1) == weights[k].size(1),
                kFunction, ": weights[", k, "] (projection ", k, ": population ", pre, " -> ",
                post, ") has shape ", weights[k].sizes(), " but rates[", pre, "] has shape ",
                rates[pre].sizes(), "; expected [N_post, N_pre] and [B, N_pre]");
    const auto currents = eiprop::ei_currents(rates[pre], weights[k]);
    const auto e = currents.excitatory.mean(0), i = currents.inhibitory.mean(0);
    excitatory[post] = excitatory[post].defined() ? excitatory[post] + e : e;
    inhibitory[post] = inhibitory[post].defined() ? inhibitory[post] + i : i;
  }
  std::vector<PopulationBalance> result;
  for (int64_t p = 1; p <= populations; ++p) {
    TORCH_CHECK(excitatory[p].defined(), kFunction, ": population ", p,
                " receives no projection, so it has no synaptic currents");
    PopulationBalance balance;
    balance.population = p;
    balance.excitatory = excitatory[p];
    balance.inhibitory = inhibitory[p];
    const auto total = excitatory[p] + inhibitory[p];
    const auto silent = total.eq(0);
    const auto nan = std::numeric_limits<double>::quiet_NaN();
    balance.ratio = torch::where(silent, torch::full_like(total, nan),
                                 inhibitory[p] / excitatory[p]);
    balance.balance_index = torch::where(silent, torch::full_like(total, nan),
                                         (excitatory[p] - inhibitory[p]).abs() / total);
    balance.mean_excitatory = excitatory[p].mean().item<double>();
    balance.mean_inhibitory = inhibitory[p].mean().item<double>();
    balance.ratio_of_means = balance.mean_inhibitory / balance.mean_excitatory;
    balance.silent = silent.sum().item<int64_t>();
    balance.mean_balance_index =
        balance.silent == total.numel()
            ? nan
            : balance.balance_index.masked_select(silent.logical_not()).mean().item<double>();
    result.push_back(std::move(balance));
  }
  return result;
}

Graph layered_graph(const std::vector<std::string>& activations) {
  Graph graph;
  for (int64_t l = 0; l < static_cast<int64_t>(activations.size()); ++l) {
    graph.pre.push_back(l);
    graph.post.push_back(l + 1);
  }
  graph.activations = activations;
  graph.output = static_cast<int64_t>(activations.size());
  return graph;
}

}  // namespace analysis
}  // namespace eiprop
