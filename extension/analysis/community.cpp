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
