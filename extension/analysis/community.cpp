#include "eiprop/analysis/community.h"

#include "analysis/igraph_graph.h"
#include "util/enum_table.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

namespace eiprop {
namespace analysis {
namespace {

constexpr util::EnumTable<CommunityMethod, 2> kCommunityMethods{
    {{"louvain", CommunityMethod::louvain}, {"leiden", CommunityMethod::leiden}}};

void check_resolution(const char* function, double resolution) {
  TORCH_CHECK(std::isfinite(resolution) && resolution > 0.0, function,
              ": resolution must be positive and finite, got ", resolution);
}

void check_has_edges(const char* function, const WeightedGraph& graph) {
  TORCH_CHECK(!graph.weight.empty() && graph.total_weight() > 0.0, function,
              ": the graph (", graph.nodes, " nodes) has no edges of positive weight; "
              "modularity is undefined");
}

// Newman's Q of `membership` on a graph already in igraph.
double igraph_q(const char* function, const detail::IgraphGraph& graph,
                igraph_vector_int_t* membership, double resolution) {
  igraph_real_t q = 0.0;
  detail::check_igraph(function, "igraph_modularity",
                       igraph_modularity(graph.graph(), membership, graph.weights(), resolution,
                                         /*directed=*/false, &q));
  return q;
}

}  // namespace

const char* community_method_name(CommunityMethod method) {
  return util::enum_name(kCommunityMethods, method);
}

CommunityMethod parse_community_method(const std::string& name) {
  const auto parsed = util::parse_enum(kCommunityMethods, name);
  TORCH_CHECK(parsed.has_value(), "eiprop::analysis::parse_community_method: unknown method '",
              name, "'; expected one of ", util::enum_choices(kCommunityMethods));
  return *parsed;
}

double modularity(const WeightedGraph& graph, const std::vector<int64_t>& membership,
                  double resolution) {
  constexpr const char* kFunction = "eiprop::analysis::modularity";
  check_resolution(kFunction, resolution);
  check_has_edges(kFunction, graph);
  TORCH_CHECK(static_cast<int64_t>(membership.size()) == graph.nodes, kFunction,
              ": membership has ", membership.size(), " entries but the graph has ", graph.nodes,
              " nodes");
  for (size_t a = 0; a < membership.size(); ++a) {
    TORCH_CHECK(membership[a] >= 0, kFunction, ": membership[", a, "] is ", membership[a],
                "; community labels must be >= 0");
  }
  detail::IgraphSession session;
  const detail::IgraphGraph igraph_graph(kFunction, graph);
  std::vector<igraph_integer_t> labels(membership.begin(), membership.end());
  igraph_vector_int_t view;
  igraph_vector_int_view(&view, labels.data(), static_cast<igraph_integer_t>(labels.size()));
  return igraph_q(kFunction, igraph_graph, &view, resolution);
}

namespace {

void check_membership(const char* function, const std::vector<int64_t>& membership,
                      int64_t nodes) {
  TORCH_CHECK(static_cast<int64_t>(membership.size()) == nodes, function, ": membership has ",
              membership.size(), " entries but the circuit has ", nodes, " neurons");
  for (size_t a = 0; a < membership.size(); ++a) {
    TORCH_CHECK(membership[a] >= 0, function, ": membership[", a, "] is ", membership[a],
                "; community labels must be >= 0");
  }
}

// The circuit with each weight replaced by its part of one sign (max(sign * W, 0)).
CircuitConnectivity one_sign(const CircuitConnectivity& circuit, double sign) {
  CircuitConnectivity part = circuit;
  for (auto& weight : part.weights) weight = (sign * weight.detach()).clamp_min(0.0);
  return part;
}

}  // namespace

double projection_modularity(const CircuitConnectivity& circuit,
                             const std::vector<int64_t>& membership) {
  constexpr const char* kFunction = "eiprop::analysis::projection_modularity";
  check_connectivity(kFunction, circuit);
  const auto offsets = population_offsets(circuit);
  check_membership(kFunction, membership, offsets.back());
  const auto labels = at::tensor(membership, at::kLong);
  double total = 0.0, within = 0.0;
  for (size_t k = 0; k < circuit.weights.size(); ++k) {
    const int64_t pre = circuit.pre[k], post = circuit.post[k];
    const auto weight = circuit.weights[k].detach().to(at::kCPU, at::kDouble).abs();
    const double projection_total = weight.sum().item<double>();
    if (projection_total <= 0.0) continue;
    total += projection_total;
    const auto same =
        labels.narrow(0, offsets[post], circuit.sizes[post])
            .unsqueeze(1)
            .eq(labels.narrow(0, offsets[pre], circuit.sizes[pre]).unsqueeze(0))
            .to(at::kDouble);
    const auto expected = at::outer(weight.sum(1), weight.sum(0)) / projection_total;
    within += ((weight - expected) * same).sum().item<double>();
  }
  TORCH_CHECK(total > 0.0, kFunction, ": the circuit has no synapse of non-zero weight; "
              "modularity is undefined");
  return within / total;
}

double signed_modularity(const CircuitConnectivity& circuit,
                         const std::vector<int64_t>& membership) {
  constexpr const char* kFunction = "eiprop::analysis::signed_modularity";
  check_connectivity(kFunction, circuit);
  check_membership(kFunction, membership, population_offsets(circuit).back());
  double weighted_q = 0.0, total = 0.0;
  for (const double sign : {1.0, -1.0}) {
    const auto graph = weighted_graph(one_sign(circuit, sign));
    const double part = graph.total_weight();
    if (part <= 0.0) continue;
    weighted_q += sign * part * modularity(graph, membership);
    total += part;
  }
  TORCH_CHECK(total > 0.0, kFunction, ": the circuit has no synapse of non-zero weight; "
              "modularity is undefined");
  return weighted_q / total;
}

double normalized_mutual_information(const std::vector<int64_t>& a,
                                     const std::vector<int64_t>& b) {
  constexpr const char* kFunction = "eiprop::analysis::normalized_mutual_information";
  TORCH_CHECK(!a.empty() && a.size() == b.size(), kFunction,
              ": the partitions must label the same non-empty set of nodes, got ", a.size(),
              " and ", b.size(), " labels");
  for (size_t i = 0; i < a.size(); ++i) {
    TORCH_CHECK(a[i] >= 0 && b[i] >= 0, kFunction, ": label ", i, " is negative (", a[i], ", ",
                b[i], "); community labels must be >= 0");
  }
  detail::IgraphSession session;
  std::vector<igraph_integer_t> first(a.begin(), a.end()), second(b.begin(), b.end());
  igraph_vector_int_t first_view, second_view;
  igraph_vector_int_view(&first_view, first.data(), static_cast<igraph_integer_t>(first.size()));
  igraph_vector_int_view(&second_view, second.data(),
                         static_cast<igraph_integer_t>(second.size()));
  igraph_real_t nmi = 0.0;
  detail::check_igraph(kFunction, "igraph_compare_communities",
                       igraph_compare_communities(&first_view, &second_view, &nmi,
                                                  IGRAPH_COMMCMP_NMI));
  return nmi;
}

Communities detect_communities(const WeightedGraph& graph, CommunityMethod method, uint64_t seed,
                               double resolution) {
  constexpr const char* kFunction = "eiprop::analysis::detect_communities";
  check_resolution(kFunction, resolution);
  check_has_edges(kFunction, graph);
  detail::IgraphSession session(seed);
  const detail::IgraphGraph igraph_graph(kFunction, graph);
  detail::IgraphIntVector membership(kFunction);
  switch (method) {
    case CommunityMethod::louvain:
      detail::check_igraph(kFunction, "igraph_community_multilevel",
                           igraph_community_multilevel(igraph_graph.graph(),
                                                       igraph_graph.weights(), resolution,
                                                       membership.get(), nullptr, nullptr));
      break;
    case CommunityMethod::leiden: {
      // The modularity objective: node weights = strengths, resolution gamma / (2m).
      igraph_vector_t strength;
      detail::check_igraph(kFunction, "igraph_vector_init",
                           igraph_vector_init(&strength, graph.nodes));
      igraph_error_t code =
          igraph_strength(igraph_graph.graph(), &strength, igraph_vss_all(), IGRAPH_ALL,
                          IGRAPH_NO_LOOPS, igraph_graph.weights());
      igraph_integer_t clusters = 0;
      if (code == IGRAPH_SUCCESS) {
        code = igraph_community_leiden(igraph_graph.graph(), igraph_graph.weights(), &strength,
                                       resolution / (2.0 * graph.total_weight()), /*beta=*/0.01,
                                       /*start=*/false, /*n_iterations=*/-1, membership.get(),
                                       &clusters, /*quality=*/nullptr);
      }
      igraph_vector_destroy(&strength);
      detail::check_igraph(kFunction, "igraph_community_leiden", code);
      break;
    }
  }
  Communities communities;
  communities.modularity = igraph_q(kFunction, igraph_graph, membership.get(), resolution);
  communities.membership = membership.to_std();
  communities.count =
      communities.membership.empty()
          ? 0
          : *std::max_element(communities.membership.begin(), communities.membership.end()) + 1;
  return communities;
}

}  // namespace analysis
}  // namespace eiprop
