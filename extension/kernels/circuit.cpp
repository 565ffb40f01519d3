#include "kernels/circuit.h"

#include <algorithm>

namespace eiprop {
namespace kernels {

Circuit::Circuit(int64_t populations, std::vector<Projection> projections,
                 std::vector<c10::optional<at::Tensor>> biases,
                 std::vector<Activation> activations, std::vector<std::vector<int64_t>> shapes)
    : populations_(populations),
      projections_(std::move(projections)),
      biases_(std::move(biases)),
      activations_(std::move(activations)),
      shapes_(std::move(shapes)),
      incoming_(populations + 1),
      outgoing_(populations + 1) {
  TORCH_INTERNAL_ASSERT(static_cast<int64_t>(biases_.size()) == populations_);
  TORCH_INTERNAL_ASSERT(static_cast<int64_t>(activations_.size()) == populations_);
  for (int64_t k = 0; k < static_cast<int64_t>(projections_.size()); ++k) {
    incoming_[projections_[k].post].push_back(k);
    outgoing_[projections_[k].pre].push_back(k);
  }
  if (shapes_.empty()) {
    // All dense: N_post from each weight's rows, N_0 from a projection leaving the input.
    shapes_.assign(populations_ + 1, {});
    for (const auto& projection : projections_) {
      TORCH_INTERNAL_ASSERT(projection.kind == ProjectionKind::dense,
                            "eiprop: a circuit with non-dense projections needs its shapes");
      shapes_[projection.post] = {projection.weight.size(0)};
      shapes_[projection.pre] = {projection.weight.size(1)};
    }
    for (int64_t p = 1; p <= populations_; ++p) {
      if (shapes_[p].empty() && biases_[p - 1].has_value()) shapes_[p] = {biases_[p - 1]->size(0)};
    }
  }
  TORCH_INTERNAL_ASSERT(static_cast<int64_t>(shapes_.size()) == populations_ + 1);
  derive_schedule();
  derive_components();
}

std::vector<int64_t> Circuit::batch_shape(int64_t p, int64_t batch) const {
  std::vector<int64_t> sizes{batch};
  sizes.insert(sizes.end(), shapes_[p].begin(), shapes_[p].end());
  return sizes;
}

Circuit Circuit::layered(std::vector<at::Tensor> weights,
                         std::vector<c10::optional<at::Tensor>> biases,
                         std::vector<Activation> activations) {
  std::vector<Projection> projections;
  projections.reserve(weights.size());
  for (int64_t l = 0; l < static_cast<int64_t>(weights.size()); ++l) {
    projections.push_back(Projection{l, l + 1, std::move(weights[l])});
  }
  const auto layers = static_cast<int64_t>(projections.size());
  return Circuit(layers, std::move(projections), std::move(biases), std::move(activations));
}

void Circuit::derive_schedule() {
  // Longest-path depth from the input (Kahn's algorithm); a population left unordered sits on
  // or behind a cycle.
  std::vector<int64_t> depth(populations_ + 1, 0);
  std::vector<int64_t> waiting(populations_ + 1, 0);
  for (int64_t p = 1; p <= populations_; ++p) {
    waiting[p] = static_cast<int64_t>(incoming_[p].size());
  }
  std::vector<int64_t> ready{0};
  for (int64_t p = 1; p <= populations_; ++p) {
    if (waiting[p] == 0) {
      depth[p] = 1;
      ready.push_back(p);
    }
  }
  std::vector<int64_t> order;
  while (!ready.empty()) {
    const int64_t q = ready.back();
    ready.pop_back();
    order.push_back(q);
    for (int64_t k : outgoing_[q]) {
      const int64_t p = projections_[k].post;
      depth[p] = std::max(depth[p], depth[q] + 1);
      if (--waiting[p] == 0) ready.push_back(p);
    }
  }
  acyclic_ = static_cast<int64_t>(order.size()) == populations_ + 1;
  if (!acyclic_) return;

  const int64_t max_depth = *std::max_element(depth.begin(), depth.end());
  firing_waves_.assign(max_depth, {});
  for (int64_t p = 1; p <= populations_; ++p) firing_waves_[depth[p] - 1].push_back(p);

  // Height towards the credit sources: final once every postsynaptic credit is final.
  std::vector<int64_t> height(populations_ + 1, 1);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    for (int64_t k : outgoing_[*it]) {
      height[*it] = std::max(height[*it], height[projections_[k].post] + 1);
    }
  }
  int64_t max_height = 0;
  for (int64_t p = 1; p <= populations_; ++p) max_height = std::max(max_height, height[p]);
  credit_waves_.assign(max_height, {});
  for (int64_t p = 1; p <= populations_; ++p) credit_waves_[height[p] - 1].push_back(p);
}

void Circuit::derive_components() {
  // Strongly connected components (Kosaraju, iterative: chains may be thousands deep).
  const int64_t n = populations_ + 1;
  const auto post_of = [&](int64_t k) { return projections_[k].post; };
  const auto pre_of = [&](int64_t k) { return projections_[k].pre; };
  std::vector<int64_t> finished;
  std::vector<bool> seen(n, false);
  for (int64_t root = 0; root < n; ++root) {
    if (seen[root]) continue;
    std::vector<std::pair<int64_t, size_t>> stack{{root, 0}};
    seen[root] = true;
    while (!stack.empty()) {
      auto& [q, next] = stack.back();
      if (next < outgoing_[q].size()) {
        const int64_t p = post_of(outgoing_[q][next++]);
        if (!seen[p]) {
          seen[p] = true;
          stack.push_back({p, 0});
        }
      } else {
        finished.push_back(q);
        stack.pop_back();
      }
    }
  }
  std::vector<int64_t> component(n, -1);
  std::vector<int64_t> size;
  for (auto it = finished.rbegin(); it != finished.rend(); ++it) {
    if (component[*it] >= 0) continue;
    const auto c = static_cast<int64_t>(size.size());
    size.push_back(0);
    std::vector<int64_t> stack{*it};
    component[*it] = c;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      ++size[c];
      for (int64_t k : incoming_[p]) {
        const int64_t q = pre_of(k);
        if (component[q] < 0) {
          component[q] = c;
          stack.push_back(q);
        }
      }
    }
  }
  recurrent_.assign(n, false);
  for (const auto& projection : projections_) {
    if (projection.pre == projection.post) recurrent_[projection.post] = true;
  }
  for (int64_t p = 0; p < n; ++p) {
    if (size[component[p]] > 1) recurrent_[p] = true;
  }
  // Kosaraju numbers the components in topological order of the condensation: the longest
  // chain of components from the input's.
  std::vector<int64_t> longest(size.size(), 0);
  std::vector<std::vector<int64_t>> members(size.size());
  for (int64_t p = 0; p < n; ++p) members[component[p]].push_back(p);
  longest[component[0]] = 0;
  depth_ = 0;
  for (size_t c = 0; c < size.size(); ++c) {
    for (int64_t p : members[c]) {
      for (int64_t k : outgoing_[p]) {
        const int64_t d = component[post_of(k)];
        if (d != static_cast<int64_t>(c)) longest[d] = std::max(longest[d], longest[c] + 1);
      }
    }
    depth_ = std::max(depth_, longest[c]);
  }
}

}  // namespace kernels
}  // namespace eiprop
