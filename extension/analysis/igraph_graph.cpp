#include "analysis/igraph_graph.h"

#include <c10/util/Exception.h>

#include <cmath>
#include <string>

namespace eiprop {
namespace analysis {
namespace detail {
namespace {

std::mutex& igraph_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::string& igraph_message() {
  static std::string message;
  return message;
}

void record_igraph_error(const char* reason, const char* file, int line, igraph_error_t code) {
  igraph_message() = std::string(igraph_strerror(code)) + ": " + reason;
  IGRAPH_FINALLY_FREE();
}

}  // namespace

IgraphSession::IgraphSession(uint64_t seed)
    : lock_(igraph_mutex()), previous_(igraph_set_error_handler(&record_igraph_error)) {
  igraph_message().clear();
  igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed));
}

IgraphSession::~IgraphSession() { igraph_set_error_handler(previous_); }

void check_igraph(const char* function, const char* what, igraph_error_t code) {
  TORCH_CHECK(code == IGRAPH_SUCCESS, function, ": igraph failed in ", what, ": ",
              igraph_message().empty() ? std::string(igraph_strerror(code)) : igraph_message());
}

IgraphGraph::IgraphGraph(const char* function, const WeightedGraph& graph) {
  const auto edges = static_cast<igraph_integer_t>(graph.weight.size());
  TORCH_CHECK(graph.from.size() == graph.weight.size() && graph.to.size() == graph.weight.size(),
              function, ": the graph's from, to and weight lists differ in length");
  std::vector<igraph_integer_t> ends(2 * graph.weight.size());
  for (igraph_integer_t e = 0; e < edges; ++e) {
    TORCH_CHECK(graph.from[e] >= 0 && graph.from[e] < graph.nodes && graph.to[e] >= 0 &&
                    graph.to[e] < graph.nodes,
                function, ": edge ", e, " joins nodes ", graph.from[e], " and ", graph.to[e],
                " of a graph with ", graph.nodes, " nodes");
    TORCH_CHECK(graph.weight[e] > 0.0 && std::isfinite(graph.weight[e]), function, ": edge ", e,
                " has weight ", graph.weight[e], "; expected a positive finite weight");
    ends[2 * e] = graph.from[e];
    ends[2 * e + 1] = graph.to[e];
  }
  igraph_vector_int_t edge_view;
  igraph_vector_int_view(&edge_view, ends.data(), static_cast<igraph_integer_t>(ends.size()));
  check_igraph(function, "igraph_create",
               igraph_create(&graph_, &edge_view, graph.nodes, IGRAPH_UNDIRECTED));
  const igraph_error_t code = igraph_vector_init_array(&weights_, graph.weight.data(), edges);
  if (code != IGRAPH_SUCCESS) igraph_destroy(&graph_);
  check_igraph(function, "igraph_vector_init_array", code);
}

IgraphGraph::~IgraphGraph() {
  igraph_vector_destroy(&weights_);
  igraph_destroy(&graph_);
}

IgraphIntVector::IgraphIntVector(const char* function, igraph_integer_t size) {
  check_igraph(function, "igraph_vector_int_init", igraph_vector_int_init(&vector_, size));
}

IgraphIntVector::~IgraphIntVector() { igraph_vector_int_destroy(&vector_); }

std::vector<int64_t> IgraphIntVector::to_std() const {
  const igraph_integer_t size = igraph_vector_int_size(&vector_);
  std::vector<int64_t> values(static_cast<size_t>(size));
  for (igraph_integer_t i = 0; i < size; ++i) values[i] = VECTOR(vector_)[i];
  return values;
}

}  // namespace detail
}  // namespace analysis
}  // namespace eiprop
