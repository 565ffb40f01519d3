// Dale's law (docs/theory.md §1): every population is typed excitatory or inhibitory, and all the
// weights leaving a population keep its sign — W_k >= 0 when pre[k] is excitatory, W_k <= 0 when
// it is inhibitory (zero belongs to both).
//
// The projection rule. Plasticity moves the weights freely; after every plasticity step each
// weight is projected back onto the sign-constrained set, elementwise:
//     W_k <- max(W_k, 0)   when population pre[k] is excitatory
//     W_k <- min(W_k, 0)   when population pre[k] is inhibitory
// This is the Euclidean projection onto {W : sign(W_k) agrees with pre[k]'s type}, so plasticity
// followed by it is projected gradient descent on the loss restricted to Dale circuits. A synapse
// driven across zero stays silent (exactly 0) until its Hebbian term changes sign again.
#pragma once

#include "eiprop/ops/graph.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace eiprop {

enum class Sign { excitatory, inhibitory };

const char* sign_name(Sign sign);  // "excitatory" / "inhibitory"

// The types are one per population 0..P (entry 0 types the input population). Refuses a list of
// the wrong length (TORCH_CHECK naming `function`).
void check_signs(const char* function, const Graph& graph, const std::vector<Sign>& signs);

// Copies of `weights` with the sign of their presynaptic population: |W_k| for an excitatory
// pre[k], -|W_k| for an inhibitory one (magnitudes kept, so the usual initialisations carry over).
std::vector<torch::Tensor> dale_initialise(const std::vector<torch::Tensor>& weights,
                                           const Graph& graph, const std::vector<Sign>& signs);

// The projection rule above, in place (no autograd history is recorded).
void dale_project_(const std::vector<torch::Tensor>& weights, const Graph& graph,
                   const std::vector<Sign>& signs);

// Number of weights of projection k whose sign disagrees with pre[k]'s type (zeros never do).
std::vector<int64_t> dale_violations(const std::vector<torch::Tensor>& weights, const Graph& graph,
                                     const std::vector<Sign>& signs);

// Raises a TORCH_CHECK error naming `function`, the projection and its presynaptic population when
// any weight breaks Dale's law.
void check_dale(const char* function, const std::vector<torch::Tensor>& weights,
                const Graph& graph, const std::vector<Sign>& signs);

}  // namespace eiprop
