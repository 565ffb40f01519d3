// igraph from C++: a session (lock, seed, error handler), a graph built from a WeightedGraph and
// an integer vector, each freed on scope exit; igraph errors become errors naming the caller.
#pragma once

#include "eiprop/analysis/connectivity.h"

#include <igraph.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace eiprop {
namespace analysis {
namespace detail {

// igraph keeps its error handler and random generator in globals. A session holds them for one
// caller: it serialises callers, seeds the generator, and replaces igraph's default error
// handler (which aborts) by one that records the message, so that check_igraph can raise it.
class IgraphSession {
 public:
  explicit IgraphSession(uint64_t seed = 0);
  ~IgraphSession();
  IgraphSession(const IgraphSession&) = delete;
  IgraphSession& operator=(const IgraphSession&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  igraph_error_handler_t* previous_;
};

// Raises an error naming `function`, the igraph call and igraph's message when code is not
// IGRAPH_SUCCESS. Only inside an IgraphSession.
void check_igraph(const char* function, const char* what, igraph_error_t code);

// Only inside an IgraphSession.
class IgraphGraph {
 public:
  IgraphGraph(const char* function, const WeightedGraph& graph);
  ~IgraphGraph();
  IgraphGraph(const IgraphGraph&) = delete;
  IgraphGraph& operator=(const IgraphGraph&) = delete;

  const igraph_t* graph() const { return &graph_; }
  // The edge weights as an igraph vector (a view of the WeightedGraph's weights).
  const igraph_vector_t* weights() const { return &weights_; }

 private:
  igraph_t graph_;
  igraph_vector_t weights_;
};

// An igraph integer vector freed on scope exit.
class IgraphIntVector {
 public:
  explicit IgraphIntVector(const char* function, igraph_integer_t size = 0);
  ~IgraphIntVector();
  IgraphIntVector(const IgraphIntVector&) = delete;
  IgraphIntVector& operator=(const IgraphIntVector&) = delete;
  igraph_vector_int_t* get() { return &vector_; }
  std::vector<int64_t> to_std() const;

 private:
  igraph_vector_int_t vector_;
};

}  // namespace detail
}  // namespace analysis
}  // namespace eiprop
