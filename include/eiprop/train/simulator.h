// The three timescales together (docs/theory.md §5): firing rates, credits and weights of a
// circuit evolve at once in continuous time, integrated by forward Euler with one fixed step dt:
//
//   tau_r dr_p/dt = -r_p + f_p(u_p),          u_p = sum_{k: post[k]=p} r_{pre[k]} W_k^T + b_p
//   tau_c dc_q/dt = -c_q + sum_{k: pre[k]=q} delta_{post[k]} W_k + e_q,   delta_p = f'_p(u_p) c_p
//   tau_W dW_k/dt = eta delta_{post[k]}^T r_{pre[k]} / B
//   tau_W db_p/dt = eta sum_batch delta_p / B
//
// for populations p, q = 1..P (population 0, the input, is clamped to the presented input x).
// Every step computes all right-hand sides from the previous state and then updates rates,
// credits, weights and biases together: there are no phases and nothing waits for an equilibrium.
// The output imbalance is that of the squared error Loss = 1/(2B) sum ||y - r_o||^2:
// e_o = y - r_o with r_o the output population's current rates (e_q = 0 elsewhere).
//
// A stream of (input, target) batches is presented one after another, each for
// steps_per_presentation steps (presentation time T = steps_per_presentation * dt); rates and
// credits carry over from one presentation to the next. When tau_r, tau_c << T << tau_W the rates
// and credits sit at their equilibria for almost all of a presentation, where
// delta^T r / B = -dLoss/dW (docs/theory.md §3-4), so one presentation changes W by
//   eta T / tau_W * (-dLoss/dW):  one SGD step with lr = eta * T / tau_W  (equivalent_lr()).
// With finite separation the simulator deviates from that SGD; examples/timescales measures how.
#pragma once

#include "eiprop/analysis/ei_balance.h"
#include "eiprop/train/dale.h"
#include "eiprop/ops/graph.h"

#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace eiprop {

// Which variables a Recording keeps (all batch-first, stacked over the record times).
struct RecordOptions {
  TORCH_ARG(bool, loss) = true;          // the squared error 1/(2B) sum ||y - r_o||^2
  TORCH_ARG(bool, rates) = false;        // r_p, p = 1..P
  TORCH_ARG(bool, credits) = false;      // c_p, p = 1..P
  TORCH_ARG(bool, weights) = false;      // W_k and b_p
  TORCH_ARG(bool, ei_currents) = false;  // per neuron E and I currents and balance index
};

struct SimulatorOptions {
  // Learning-rate equivalent of one presentation in the separated limit: eta * T / tau_W.
  double equivalent_lr() const;
  // Time one (input, target) batch is presented: steps_per_presentation * dt.
  double presentation_time() const;

  TORCH_ARG(double, tau_r) = 1.0;    // firing
  TORCH_ARG(double, tau_c) = 10.0;   // credit
  TORCH_ARG(double, tau_W) = 1e4;    // plasticity
  TORCH_ARG(double, eta) = 1.0;      // plasticity gain
  TORCH_ARG(double, dt) = 0.1;       // Euler step, <= every time constant
  TORCH_ARG(int64_t, steps_per_presentation) = 1000;
  // Steps between records; 0: one record at the end of every presentation.
  TORCH_ARG(int64_t, record_every) = 0;
  TORCH_ARG(RecordOptions, record) = {};
  // Dale's law: one type per population 0..P; empty for none. When given, the initial weights must
  // obey it and every step ends with the projection rule of eiprop/train/dale.h.
  TORCH_ARG(std::vector<Sign>, signs) = {};
};

struct Recording {
  torch::Tensor step;  // [R] global step count after which each record was taken (int64)
  torch::Tensor time;  // [R] simulated time of each record
  torch::Tensor loss;  // [R] (record.loss)
  std::vector<torch::Tensor> rates;    // rates[p-1]: [R, B, N_p] (record.rates)
  std::vector<torch::Tensor> credits;  // credits[p-1]: [R, B, N_p] (record.credits)
  std::vector<torch::Tensor> weights;  // weights[k]: [R, N_post, N_pre] (record.weights)
  std::vector<torch::Tensor> biases;   // biases[p-1]: [R, N_p]; undefined without a bias
  // record.ei_currents, batch means per neuron (analysis::ei_balance): [R, N_p] each.
  std::vector<torch::Tensor> excitatory;
  std::vector<torch::Tensor> inhibitory;
  std::vector<torch::Tensor> balance_index;

  int64_t records() const { return time.defined() ? time.size(0) : 0; }
  // Long format, one row per recorded number: step,time,variable,group,element,value with
  // variable in {loss, rate, credit, weight, bias, excitatory, inhibitory, balance_index}, group
  // the population (rates, credits, biases, currents) or projection (weights), and element the
  // row-major index within that record's tensor (rates/credits: b * N_p + i; weights:
  // i * N_pre + j). Raises when the file cannot be written.
  void write_csv(const std::string& path) const;
};

class Simulator {
 public:
  // The simulator trains its own copies of weights and biases (biases: one per population 1..P,
  // nullopt for none, or empty for no biases). The graph is validated like the graph operators'.
  Simulator(std::vector<torch::Tensor> weights, std::vector<c10::optional<torch::Tensor>> biases,
            Graph graph, SimulatorOptions options = {});
  ~Simulator();
  Simulator(Simulator&&) noexcept;
  Simulator& operator=(Simulator&&) noexcept;

  // Presents inputs[t] ([B, N_0]) with targets[t] ([B, N_o]) for t = 0..T-1, each for
  // steps_per_presentation steps; returns what was recorded during this run.
  Recording run(const torch::Tensor& inputs, const torch::Tensor& targets);

  // One Euler step of all three ODEs with input x and target y (what run does at every step).
  void step(const torch::Tensor& input, const torch::Tensor& target);

  // Zeroes rates and credits (the batch size may change afterwards); weights are kept.
  void reset_state();

  const SimulatorOptions& options() const;
  const Graph& graph() const;
  double time() const;
  int64_t steps() const;
  // Current state. rates()/credits()[p-1] belong to population p (undefined before the first
  // step); the tensors are the simulator's own, updated in place by later steps — clone to keep.
  const std::vector<torch::Tensor>& rates() const;
  const std::vector<torch::Tensor>& credits() const;
  const std::vector<torch::Tensor>& weights() const;
  const std::vector<c10::optional<torch::Tensor>>& biases() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eiprop
