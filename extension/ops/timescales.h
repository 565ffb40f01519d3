// The three timescales of one learning step (docs/theory.md §2-4), written once for every
// caller: the relaxation and plasticity operators (layered and graph), the autograd bridge and
// PlasticityRule. Each takes a circuit validated at an operator boundary (ops/graph.h,
// ops/layered.h) and resolved solver options; population lists are indexed 0..P.
#pragma once

#include "kernels/circuit.h"
#include "solvers/credit.h"
#include "solvers/firing.h"
#include "solvers/options.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <functional>
#include <map>
#include <vector>

namespace eiprop {
namespace ops {

// How an op's messages name the parts of its circuit. The layered ops speak of layers (list
// entry i is layer i: population i+1, projection i); the graph ops of populations (entry i is
// population i+1) and projections.
struct Naming {
  const char* population;
  int64_t population_offset;
  const char* projection;
};
constexpr Naming kLayerNaming{"layer", 0, "layer"};
constexpr Naming kGraphNaming{"population", 1, "projection"};

// A list indexed by population 0..P as the operators return it: populations 1..P.
std::vector<at::Tensor> populations_of(std::vector<at::Tensor> by_population);

// Fast timescale: the rates at the E-I equilibrium. Raises on non-finite rates and, when strict, on
// a solve that diverged or ran out of iterations (stats.converged reports it otherwise).
solvers::FiringEquilibrium equilibrium(const char* op, const kernels::Circuit& circuit,
                                       const at::Tensor& input,
                                       const solvers::SolverOptions& options, bool strict = true);

// Middle timescale: the credits from e = output_error at population `output`; the same checks.
// `rates` may be empty (they are recomputed from the drives where an activation needs them); the
// input credit is computed only when asked for; `winners` as solvers::relax_credits takes them.
solvers::CreditEquilibrium credit(const char* op, const char* what, const kernels::Circuit& circuit,
                                  const std::vector<at::Tensor>& drives,
                                  const std::vector<at::Tensor>& rates, int64_t output,
                                  const at::Tensor& output_error,
                                  const solvers::SolverOptions& options, bool strict,
                                  bool input_credit, const std::vector<at::Tensor>& winners = {});

// Slow timescale: the Hebbian updates scale * delta_{post[k]}^T r_{pre[k]} of projection k (summed
// over positions for conv2d) and scale * sum_batch delta_p of population p (and over positions, one
// per channel), for the given targets. A projection or population without a target (undefined /
// nullopt), and a fixed projection (pooling, flatten), has none. In two phases, so that a step can
// read its updates before it writes any: first the updates that are fresh tensors anyway (a
// conv2d weight's and every bias's; a neuron's bias update is the credit summed over the batch,
// still to be scaled), then the writes, with a dense weight's update made inside its GEMM.
struct PendingPlasticity {
  std::vector<at::Tensor> weight_updates;  // per projection k: a conv2d weight's; else undefined
  std::vector<at::Tensor> bias_updates;    // per population 1..P, at entry p-1
};
PendingPlasticity pending_plasticity(const kernels::Circuit& circuit,
                                     const std::vector<at::Tensor>& balance_credits,
                                     const std::vector<at::Tensor>& rates, double scale,
                                     const std::vector<at::Tensor>& weight_targets,
                                     const std::vector<c10::optional<at::Tensor>>& bias_targets);
// Writes them into the targets: added to them (accumulate: the targets are the parameters) or
// replacing their values.
void write_plasticity(const kernels::Circuit& circuit, const PendingPlasticity& pending,
                      const std::vector<at::Tensor>& balance_credits,
                      const std::vector<at::Tensor>& rates, double scale,
                      const std::vector<at::Tensor>& weight_targets,
                      const std::vector<c10::optional<at::Tensor>>& bias_targets, bool accumulate);

// All three timescales in place: the rates at the E-I equilibrium, the credits from e =
// output_imbalance(r_output) (no input credit: nothing upstream reads it), and the Hebbian updates
// with scale lr/B written into the targets as write_plasticity does. The solves are strict. The
// non-finite checks of the whole step (the input, the output rates and imbalance, and every update
// or a bound on it) share one device synchronisation after the credits (iterative solves add one
// per iteration for their residual); a refused step writes nothing. When the scan fails and the
// rates are finite, refuse_bad_target (if given) may name the caller's target before the credits
// are blamed.
struct LearningStep {
  at::Tensor output;  // the output population's rates before the update
  solvers::SolverStats rates;
  solvers::SolverStats credits;
};
using OutputImbalance = std::function<at::Tensor(const at::Tensor& output)>;
LearningStep learn(const char* op, const kernels::Circuit& circuit, const at::Tensor& input,
                   int64_t output, const OutputImbalance& output_imbalance,
                   solvers::SolverOptions options, double lr,
                   const std::vector<at::Tensor>& weight_targets,
                   const std::vector<c10::optional<at::Tensor>>& bias_targets, bool accumulate,
                   const std::function<void()>& refuse_bad_target = {});

// Whether what a step returns or writes is finite, read in one synchronisation: each tensor read
// whole (its largest magnitude: NaN or Inf when it holds one), or, for a dense Hebbian product
// that is made inside a GEMM (or is larger than its factors), a bound on every entry and partial
// sum: `factor` max|delta_post| max|r_pre|, computed in the dtype, so that it is infinite
// whenever they could overflow. Each population's largest rate and balance credit is read once.
class ResultScan {
 public:
  ResultScan(const std::vector<at::Tensor>& balance_credits, const std::vector<at::Tensor>& rates)
      : balance_credits_(balance_credits), rates_(rates) {}
  // `tensor` whole, its magnitude scaled by |factor| (an update scaled when it is written).
  void whole(const at::Tensor& tensor, double factor = 1.0);
  // Population p's rates whole.
  void rates(int64_t p);
  // The product delta_post^T r_pre summed over the batch and scaled: `factor` >= the largest
  // |partial sum| per unit max|delta| max|r|.
  void dense_product(int64_t post, int64_t pre, double factor);
  // Reads everything added (one synchronisation); true when all of it is finite.
  bool finite() const;

 private:
  const at::Tensor& largest_rate(int64_t p);
  const at::Tensor& largest_credit(int64_t p);

  const std::vector<at::Tensor>& balance_credits_;
  const std::vector<at::Tensor>& rates_;
  std::map<int64_t, at::Tensor> rate_magnitudes_, credit_magnitudes_;
  std::vector<at::Tensor> scanned_;
};

struct Plasticity {
  std::vector<at::Tensor> weight_updates;  // per projection k
  std::vector<at::Tensor> bias_updates;    // per population 1..P, at entry p-1
};

// The same updates as fresh tensors, for the projections with weight_wanted[k] and the populations
// with bias_wanted[p-1] (undefined elsewhere); empty masks ask for all. A fixed projection's update
// is empty (numel 0), like its placeholder weight.
Plasticity plasticity_updates(const std::vector<kernels::Projection>& projections,
                              const std::vector<at::Tensor>& balance_credits,
                              const std::vector<at::Tensor>& rates, double scale,
                              const std::vector<bool>& weight_wanted = {},
                              const std::vector<bool>& bias_wanted = {});

// The bodies of the credit relaxation and plasticity operators, layered and graph, after each op
// has validated its arguments in its own words; `naming` words the non-finite refusals.

// Refuses non-finite drives (populations 1..P) and weights, then relaxes the credits (the input
// credit only when asked for).
solvers::CreditEquilibrium checked_credit(const char* op, const Naming& naming,
                                          const kernels::Circuit& circuit, at::TensorList drives,
                                          at::TensorList weights, int64_t output,
                                          const at::Tensor& output_error,
                                          const solvers::SolverOptions& options, bool strict,
                                          bool input_credit);

// Balance credits from (drives, rates, credits) of populations 1..P, then the updates with scale
// lr/B; refuses a non-finite input (also entries the rule does not read) and updates that overflow.
Plasticity checked_plasticity(const char* op, const Naming& naming, const at::Tensor& input,
                              at::TensorList rates, at::TensorList drives, at::TensorList credits,
                              const std::vector<kernels::Projection>& projections,
                              const std::vector<kernels::Activation>& activations, double lr);

}  // namespace ops
}  // namespace eiprop
