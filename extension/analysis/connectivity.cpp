#include "eiprop/analysis/connectivity.h"

#include <c10/util/Exception.h>

namespace eiprop {
namespace analysis {

CircuitConnectivity layered_connectivity(const std::vector<at::Tensor>& weights) {
  constexpr const char* kFunction = "eiprop::analysis::layered_connectivity";
  TORCH_CHECK(!weights.empty(), kFunction, ": weights is empty; a layered circuit has >= 1 layer");
  CircuitConnectivity circuit;
  for (size_t l = 0; l < weights.size(); ++l) {
    TORCH_CHECK(weights[l].dim() == 2, kFunction, ": weights[", l, "] (layer ", l,
                ") must be a matrix [N_out, N_in], got shape ", weights[l].sizes());
    if (l == 0) circuit.sizes.push_back(weights[l].size(1));
    circuit.sizes.push_back(weights[l].size(0));
    circuit.pre.push_back(static_cast<int64_t>(l));
    circuit.post.push_back(static_cast<int64_t>(l) + 1);
    circuit.weights.push_back(weights[l]);
  }
  check_connectivity(kFunction, circuit);
  return circuit;
}

void check_connectivity(const char* function, const CircuitConnectivity& circuit) {
  const auto populations = static_cast<int64_t>(circuit.sizes.size());
  TORCH_CHECK(populations >= 1, function, ": sizes is empty; expected N_0 (input), N_1, ...");
  for (int64_t p = 0; p < populations; ++p) {
    TORCH_CHECK(circuit.sizes[p] > 0, function, ": sizes[", p, "] (population ", p,
                ") must be positive, got ", circuit.sizes[p]);
  }
  const size_t projections = circuit.weights.size();
  TORCH_CHECK(circuit.pre.size() == projections && circuit.post.size() == projections, function,
              ": pre, post and weights must have one entry per projection, got ",
              circuit.pre.size(), ", ", circuit.post.size(), " and ", projections);
  for (size_t k = 0; k < projections; ++k) {
    const int64_t pre = circuit.pre[k], post = circuit.post[k];
    TORCH_CHECK(pre >= 0 && pre < populations, function, ": pre[", k, "] (projection ", k,
                ") is ", pre, "; expected a population in 0..", populations - 1);
    TORCH_CHECK(post >= 1 && post < populations, function, ": post[", k, "] (projection ", k,
                ") is ", post, "; expected a population in 1..", populations - 1,
                " (population 0 is the input)");
    const auto& weight = circuit.weights[k];
    TORCH_CHECK(weight.defined(), function, ": weights[", k, "] (projection ", k,
                ") is undefined");
    TORCH_CHECK(weight.dim() == 2 && weight.size(0) == circuit.sizes[post] &&
                    weight.size(1) == circuit.sizes[pre],
                function, ": weights[", k, "] (projection ", k, ", population ", pre, " -> ",
                post, ") has shape ", weight.sizes(), "; expected [", circuit.sizes[post], ", ",
                circuit.sizes[pre], "] ([N_post, N_pre])");
    TORCH_CHECK(at::isFloatingType(weight.scalar_type()), function, ": weights[", k,
                "] (projection ", k, ") must be floating point, got ", weight.scalar_type());
    TORCH_CHECK(weight.isfinite().all().item<bool>(), function, ": weights[", k,
                "] (projection ", k, ") has non-finite entries");
  }
}

std::vector<int64_t> population_offsets(const CircuitConnectivity& circuit) {
  std::vector<int64_t> offsets{0};
  for (const int64_t size : circuit.sizes) offsets.push_back(offsets.back() + size);
  return offsets;
}

at::Tensor node_populations(const CircuitConnectivity& circuit) {
  std::vector<at::Tensor> parts;
  for (size_t p = 0; p < circuit.sizes.size(); ++p) {
    parts.push_back(at::full({circuit.sizes[p]}, static_cast<int64_t>(p), at::kLong));
  }
  return at::cat(parts);
}

at::Tensor adjacency(const CircuitConnectivity& circuit) {
  check_connectivity("eiprop::analysis::adjacency", circuit);
  const auto offsets = population_offsets(circuit);
  const int64_t nodes = offsets.back();
  // directed[a][b]: |W| of the synapses from b onto a (post rows, pre columns).
  auto directed = at::zeros({nodes, nodes}, at::kDouble);
  for (size_t k = 0; k < circuit.weights.size(); ++k) {
    const int64_t pre = circuit.pre[k], post = circuit.post[k];
    directed.narrow(0, offsets[post], circuit.sizes[post])
        .narrow(1, offsets[pre], circuit.sizes[pre])
        .add_(circuit.weights[k].detach().to(at::kCPU, at::kDouble).abs());
  }
  auto symmetric = directed + directed.t();
  symmetric.fill_diagonal_(0.0);
  return symmetric;
}

double WeightedGraph::total_weight() const {
  double total = 0.0;
  for (const double w : weight) total += w;
  return total;
}

WeightedGraph weighted_graph(const at::Tensor& adjacency) {
  constexpr const char* kFunction = "eiprop::analysis::weighted_graph";
  TORCH_CHECK(adjacency.dim() == 2 && adjacency.size(0) == adjacency.size(1), kFunction,
              ": adjacency must be a square matrix, got shape ", adjacency.sizes());
  const auto matrix = adjacency.detach().to(at::kCPU, at::kDouble).contiguous();
  TORCH_CHECK(matrix.isfinite().all().item<bool>(), kFunction, ": adjacency has non-finite entries");
  TORCH_CHECK(matrix.ge(0).all().item<bool>(), kFunction,
              ": adjacency has negative entries; community detection takes |W|");
  TORCH_CHECK(matrix.equal(matrix.t()), kFunction, ": adjacency must be symmetric (undirected)");
  WeightedGraph graph;
  graph.nodes = matrix.size(0);
  const auto pairs = at::triu(matrix, /*diagonal=*/1).nonzero();  // [E, 2], row-major order
  const auto rows = pairs.select(1, 0).contiguous(), cols = pairs.select(1, 1).contiguous();
  const auto values = matrix.view(-1).index_select(0, rows * graph.nodes + cols).contiguous();
  const int64_t edges = pairs.size(0);
  graph.from.assign(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + edges);
  graph.to.assign(cols.data_ptr<int64_t>(), cols.data_ptr<int64_t>() + edges);
  graph.weight.assign(values.data_ptr<double>(), values.data_ptr<double>() + edges);
  return graph;
}

WeightedGraph weighted_graph(const CircuitConnectivity& circuit) {
  return weighted_graph(adjacency(circuit));
}

}  // namespace analysis
}  // namespace eiprop
