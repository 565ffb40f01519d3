#include "eiprop/train/simulator.h"

#include "kernels/activation.h"
#include "kernels/circuit.h"
#include "kernels/synapses.h"
#include "ops/graph.h"
#include "ops/validate.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>

namespace eiprop {
namespace {

constexpr const char* kSimulator = "eiprop::Simulator";

void check_time_constant(const char* name, double value) {
  TORCH_CHECK(std::isfinite(value) && value > 0, kSimulator, ": option ", name,
              " must be a positive finite time, got ", value);
}

void check_options(const SimulatorOptions& options) {
  check_time_constant("tau_r", options.tau_r());
  check_time_constant("tau_c", options.tau_c());
  check_time_constant("tau_W", options.tau_W());
  check_time_constant("dt", options.dt());
  TORCH_CHECK(std::isfinite(options.eta()), kSimulator, ": option eta must be finite, got ",
              options.eta());
  // Forward Euler of tau dx/dt = -x + ... is monotone and stable for dt <= tau.
  const double fastest = std::min({options.tau_r(), options.tau_c(), options.tau_W()});
  TORCH_CHECK(options.dt() <= fastest, kSimulator, ": option dt (", options.dt(),
              ") must not exceed the fastest time constant (tau_r ", options.tau_r(), ", tau_c ",
              options.tau_c(), ", tau_W ", options.tau_W(),
              "): forward Euler is stable and monotone only for dt <= tau");
  TORCH_CHECK(options.steps_per_presentation() >= 1, kSimulator,
              ": option steps_per_presentation must be at least 1, got ",
              options.steps_per_presentation());
  TORCH_CHECK(options.record_every() >= 0, kSimulator,
              ": option record_every must be >= 0 (0: at the end of every presentation), got ",
              options.record_every());
}

std::vector<torch::Tensor> own_copies(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> copies;
  for (const auto& tensor : tensors) {
    copies.push_back(tensor.defined() ? tensor.detach().clone() : tensor);
  }
  return copies;
}

}  // namespace

double SimulatorOptions::presentation_time() const {
  return static_cast<double>(steps_per_presentation()) * dt();
}

double SimulatorOptions::equivalent_lr() const { return eta() * presentation_time() / tau_W(); }

struct Simulator::Impl {
  SimulatorOptions options;
  Graph graph;
  std::vector<torch::Tensor> weights;
  std::vector<c10::optional<torch::Tensor>> biases;  // one per population 1..P
  kernels::Circuit circuit;                           // shares the weight and bias tensors
  std::vector<int64_t> widths;                        // N_0..N_P
  // Indexed by population 0..P; entry 0 of rates is the input presented at the last step.
  std::vector<torch::Tensor> rates;
  std::vector<torch::Tensor> credits;
  // The same tensors indexed p-1, for the accessors.
  std::vector<torch::Tensor> population_rates;
  std::vector<torch::Tensor> population_credits;
  int64_t steps = 0;
  double time = 0.0;

  Impl(SimulatorOptions options_, Graph graph_, std::vector<torch::Tensor> weights_,
       std::vector<c10::optional<torch::Tensor>> biases_, ops::GraphCircuit parsed)
      : options(std::move(options_)),
        graph(std::move(graph_)),
        weights(std::move(weights_)),
        biases(std::move(biases_)),
        circuit(std::move(parsed.circuit)),
        widths(widths_of(parsed.shapes)) {}

  // The simulated circuits are dense: each population's shape is [N].
  static std::vector<int64_t> widths_of(const std::vector<std::vector<int64_t>>& shapes) {
    std::vector<int64_t> widths;
    for (const auto& shape : shapes) widths.push_back(shape.at(0));
    return widths;
  }

  int64_t populations() const { return graph.populations(); }
  int64_t batch() const { return rates.size() > 1 && rates[1].defined() ? rates[1].size(0) : -1; }

  void check_batch(const char* what, const torch::Tensor& input, const torch::Tensor& target,
                   int64_t time_dim) {
    const int64_t dims = 2 + time_dim;
    TORCH_CHECK(input.defined() && input.dim() == dims, kSimulator, ": ", what, " inputs must be ",
                time_dim ? "[T, B, N_0]" : "[B, N_0]", ", got ",
                input.defined() ? c10::str(input.sizes()) : "an undefined tensor");
    TORCH_CHECK(target.defined() && target.dim() == dims, kSimulator, ": ", what,
                " targets must be ", time_dim ? "[T, B, N_o]" : "[B, N_o]", ", got ",
                target.defined() ? c10::str(target.sizes()) : "an undefined tensor");
    const auto& reference = weights.front();
    ops::check_same_dtype_device(kSimulator, c10::str(what, " inputs"), input, reference);
    ops::check_same_dtype_device(kSimulator, c10::str(what, " targets"), target, reference);
    const int64_t b = input.size(time_dim);
    TORCH_CHECK(b > 0, kSimulator, ": ", what, " inputs have an empty batch");
    TORCH_CHECK(input.size(time_dim + 1) == widths[0], kSimulator, ": ", what, " inputs have ",
                input.size(time_dim + 1), " features but the input population 0 has ", widths[0],
                " neurons");
    TORCH_CHECK(target.size(time_dim) == b && target.size(time_dim + 1) == widths[graph.output],
                kSimulator, ": ", what, " targets have shape ", target.sizes(), " but population ",
                graph.output, " (the output) needs [", time_dim ? "T, " : "", b, ", ",
                widths[graph.output], "]");
    if (time_dim) {
      TORCH_CHECK(input.size(0) == target.size(0), kSimulator, ": inputs present ", input.size(0),
                  " batches but targets ", target.size(0));
    }
    TORCH_CHECK(batch() < 0 || batch() == b, kSimulator, ": ", what, " batch of ", b,
                " differs from the running state's ", batch(),
                "; call reset_state() before changing the batch size");
  }

  void ensure_state(const torch::Tensor& input) {
    if (batch() >= 0) return;
    const int64_t b = input.size(0);
    for (int64_t p = 1; p <= populations(); ++p) {
      rates[p] = torch::zeros({b, widths[p]}, weights.front().options());
      credits[p] = torch::zeros({b, widths[p]}, weights.front().options());
      population_rates[p - 1] = rates[p];
      population_credits[p - 1] = credits[p];
    }
  }

  // All right-hand sides from the previous state, then every variable updated together.
  void step(const torch::Tensor& input, const torch::Tensor& target) {
    ensure_state(input);
    const int64_t P = populations();
    rates[0] = input;
    std::vector<torch::Tensor> firing(P + 1), balance_credits(P + 1);
    for (int64_t p = 1; p <= P; ++p) {
      const auto activation = circuit.activation(p);
      const auto drive = kernels::drive(circuit, p, rates);
      firing[p] = kernels::rate(activation, drive);
      balance_credits[p] = kernels::balance_credit(activation, drive, firing[p], credits[p]);
    }
    const auto imbalance = target - rates[graph.output];
    std::vector<torch::Tensor> retrograde(P + 1);
    for (int64_t q = 1; q <= P; ++q) {
      retrograde[q] = kernels::retrograde_credit(circuit, q, balance_credits, rates[q]);
    }
    const double plasticity_scale =
        options.eta() * options.dt() / (options.tau_W() * static_cast<double>(input.size(0)));
    std::vector<torch::Tensor> weight_changes, bias_changes(P + 1);
    for (const auto& projection : circuit.projections()) {
      weight_changes.push_back(kernels::hebbian(projection, balance_credits[projection.post],
                                                rates[projection.pre], plasticity_scale));
    }
    for (int64_t p = 1; p <= P; ++p) {
      if (biases[p - 1].has_value()) {
        bias_changes[p] = kernels::bias_plasticity(balance_credits[p], plasticity_scale);
      }
    }

    const double rate_step = options.dt() / options.tau_r();
    const double credit_step = options.dt() / options.tau_c();
    for (int64_t p = 1; p <= P; ++p) {
      // r += dt/tau_r (-r + f(u));  c += dt/tau_c (-c + retrograde + e)
      rates[p].add_(firing[p].sub_(rates[p]), rate_step);
      auto credit_drive = retrograde[p].defined() ? retrograde[p].sub_(credits[p]) : -credits[p];
      if (p == graph.output) credit_drive.add_(imbalance);
      credits[p].add_(credit_drive, credit_step);
    }
    for (size_t k = 0; k < weights.size(); ++k) weights[k].add_(weight_changes[k]);
    for (int64_t p = 1; p <= P; ++p) {
      if (bias_changes[p].defined()) biases[p - 1]->add_(bias_changes[p]);
    }
    if (!options.signs().empty()) dale_project_(weights, graph, options.signs());
    ++steps;
    time = static_cast<double>(steps) * options.dt();
  }

  // Empty while every weight, bias, rate and credit is finite; otherwise says which is not.
  std::string non_finite_state() const {
    for (size_t k = 0; k < weights.size(); ++k) {
      if (!weights[k].isfinite().all().item<bool>()) {
        return c10::str("the weights of projection ", k, " (population ", graph.pre[k], " -> ",
                        graph.post[k], ")");
      }
    }
    for (int64_t p = 1; p <= populations(); ++p) {
      if (biases[p - 1].has_value() && !biases[p - 1]->isfinite().all().item<bool>()) {
        return c10::str("the bias of population ", p);
      }
      if (!rates[p].isfinite().all().item<bool>()) return c10::str("the rates of population ", p);
      if (!credits[p].isfinite().all().item<bool>()) {
        return c10::str("the credits of population ", p);
      }
    }
    return {};
  }
};

Simulator::Simulator(std::vector<torch::Tensor> weights,
                     std::vector<c10::optional<torch::Tensor>> biases, Graph graph,
                     SimulatorOptions options) {
  check_options(options);
  TORCH_CHECK(!weights.empty(), kSimulator,
              ": weights is empty; a circuit needs at least one projection");
  for (size_t k = 0; k < weights.size(); ++k) {
    TORCH_CHECK(weights[k].defined(), kSimulator, ": weights[", k, "] (projection ", k,
                ") is undefined");
  }
  auto own_weights = own_copies(weights);
  std::vector<c10::optional<torch::Tensor>> own_biases(graph.populations());
  TORCH_CHECK(biases.empty() || static_cast<int64_t>(biases.size()) == graph.populations(),
              kSimulator, ": biases has ", biases.size(), " entries but the graph has ",
              graph.populations(), " populations; give one per population 1..P (nullopt for none)");
  for (size_t p = 0; p < biases.size(); ++p) {
    if (biases[p].has_value() && biases[p]->defined()) own_biases[p] = biases[p]->detach().clone();
  }
  auto parsed = ops::parse_graph(kSimulator, /*input_shape=*/{}, own_weights.front(), own_weights,
                                 ops::optional_tensor_list(own_biases), graph.pre, graph.post,
                                 graph.activations, /*projections=*/{});
  ops::check_output_population(kSimulator, graph.output, graph.populations());
  if (!options.signs().empty()) {
    check_signs(kSimulator, graph, options.signs());
    check_dale(kSimulator, own_weights, graph, options.signs());
  }
  impl_ = std::make_unique<Impl>(std::move(options), std::move(graph), std::move(own_weights),
                                 std::move(own_biases), std::move(parsed));
  const int64_t P = impl_->populations();
  impl_->rates.resize(P + 1);
  impl_->credits.resize(P + 1);
  impl_->population_rates.resize(P);
  impl_->population_credits.resize(P);
}

Simulator::~Simulator() = default;
Simulator::Simulator(Simulator&&) noexcept = default;
Simulator& Simulator::operator=(Simulator&&) noexcept = default;

void Simulator::step(const torch::Tensor& input, const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  impl_->check_batch("step's", input, target, 0);
  impl_->step(input, target);
}

Recording Simulator::run(const torch::Tensor& inputs, const torch::Tensor& targets) {
  torch::NoGradGuard no_grad;
  Impl& s = *impl_;
  s.check_batch("run's", inputs, targets, 1);
  const auto& options = s.options;
  const auto& record = options.record();
  const int64_t P = s.populations();
  const int64_t every = options.record_every();

  std::vector<int64_t> steps;
  std::vector<double> times, losses;
  std::vector<std::vector<torch::Tensor>> rates(P), credits(P), weights(s.weights.size()),
      biases(P), excitatory(P), inhibitory(P), balance_index(P);
  auto take_record = [&](const torch::Tensor& target) {
    steps.push_back(s.steps);
    times.push_back(s.time);
    if (record.loss()) {
      const auto error = target - s.rates[s.graph.output];
      losses.push_back(error.pow(2).sum().item<double>() / (2.0 * double(target.size(0))));
    }
    for (int64_t p = 1; p <= P; ++p) {
      if (record.rates()) rates[p - 1].push_back(s.rates[p].clone());
      if (record.credits()) credits[p - 1].push_back(s.credits[p].clone());
      if (record.weights() && s.biases[p - 1].has_value()) {
        biases[p - 1].push_back(s.biases[p - 1]->clone());
      }
    }
    if (record.weights()) {
      for (size_t k = 0; k < s.weights.size(); ++k) weights[k].push_back(s.weights[k].clone());
    }
    if (record.ei_currents()) {
      const auto balance = analysis::ei_balance(s.rates, s.weights, s.graph);
      for (int64_t p = 1; p <= P; ++p) {
        excitatory[p - 1].push_back(balance[p - 1].excitatory);
        inhibitory[p - 1].push_back(balance[p - 1].inhibitory);
        balance_index[p - 1].push_back(balance[p - 1].balance_index);
      }
    }
  };

  for (int64_t t = 0; t < inputs.size(0); ++t) {
    const auto input = inputs[t];
    const auto target = targets[t];
    // Kept so that a diverging presentation leaves the last finite weights behind.
    const auto weights_before = own_copies(s.weights);
    std::vector<c10::optional<torch::Tensor>> biases_before;
    for (const auto& bias : s.biases) {
      biases_before.push_back(bias.has_value() ? c10::optional<torch::Tensor>(bias->clone())
                                               : c10::nullopt);
    }
    for (int64_t i = 1; i <= options.steps_per_presentation(); ++i) {
      s.step(input, target);
      const bool last = i == options.steps_per_presentation();
      if (every > 0 ? s.steps % every == 0 : last) take_record(target);
    }
    const auto broken = s.non_finite_state();
    if (!broken.empty()) {
      for (size_t k = 0; k < s.weights.size(); ++k) s.weights[k].copy_(weights_before[k]);
      for (size_t p = 0; p < s.biases.size(); ++p) {
        if (s.biases[p].has_value()) s.biases[p]->copy_(*biases_before[p]);
      }
      reset_state();
      TORCH_CHECK(false, kSimulator, ": ", broken, " stopped being finite while batch ", t,
                  " was presented (by time ", s.time, ", step ", s.steps,
                  "); the dynamics diverged. The weights and biases are back to their values "
                  "before that presentation and the rates and credits are reset. Reduce dt, eta "
                  "or the input scale, or check that the circuit's firing equilibrium is stable");
    }
  }

  auto stack = [](const std::vector<torch::Tensor>& tensors) {
    return tensors.empty() ? torch::Tensor() : torch::stack(tensors);
  };
  auto stack_all = [&](const std::vector<std::vector<torch::Tensor>>& lists) {
    std::vector<torch::Tensor> stacked;
    bool any = false;
    for (const auto& list : lists) any = any || !list.empty();
    if (!any) return stacked;
    for (const auto& list : lists) stacked.push_back(stack(list));
    return stacked;
  };
  Recording recording;
  recording.step = torch::tensor(steps, torch::kLong);
  recording.time = torch::tensor(times, torch::kDouble);
  if (record.loss()) recording.loss = torch::tensor(losses, torch::kDouble);
  recording.rates = stack_all(rates);
  recording.credits = stack_all(credits);
  recording.weights = stack_all(weights);
  if (record.weights()) {
    for (const auto& list : biases) recording.biases.push_back(stack(list));
  }
  recording.excitatory = stack_all(excitatory);
  recording.inhibitory = stack_all(inhibitory);
  recording.balance_index = stack_all(balance_index);
  return recording;
}

void Simulator::reset_state() {
  for (auto& tensor : impl_->rates) tensor = torch::Tensor();
  for (auto& tensor : impl_->credits) tensor = torch::Tensor();
  for (auto& tensor : impl_->population_rates) tensor = torch::Tensor();
  for (auto& tensor : impl_->population_credits) tensor = torch::Tensor();
}

const SimulatorOptions& Simulator::options() const { return impl_->options; }
const Graph& Simulator::graph() const { return impl_->graph; }
double Simulator::time() const { return impl_->time; }
int64_t Simulator::steps() const { return impl_->steps; }
const std::vector<torch::Tensor>& Simulator::rates() const { return impl_->population_rates; }
const std::vector<torch::Tensor>& Simulator::credits() const { return impl_->population_credits; }
const std::vector<torch::Tensor>& Simulator::weights() const { return impl_->weights; }
const std::vector<c10::optional<torch::Tensor>>& Simulator::biases() const {
  return impl_->biases;
}

void Recording::write_csv(const std::string& path) const {
  std::ofstream out(path);
  TORCH_CHECK(out.good(), "eiprop::Recording::write_csv: cannot open ", path, " for writing");
  out << "step,time,variable,group,element,value\n";
  out << std::setprecision(std::numeric_limits<double>::max_digits10);
  const int64_t R = records();
  const auto step_values = step.to(torch::kLong).contiguous();
  const auto time_values = time.to(torch::kDouble).contiguous();
  const int64_t* steps = step_values.data_ptr<int64_t>();
  const double* times = time_values.data_ptr<double>();
  auto write = [&](const char* variable, int64_t group, const torch::Tensor& stacked) {
    if (!stacked.defined()) return;
    const auto values = stacked.detach().to(torch::kCPU, torch::kDouble).contiguous().view({R, -1});
    const double* data = values.data_ptr<double>();
    const int64_t n = values.size(1);
    for (int64_t r = 0; r < R; ++r) {
      for (int64_t i = 0; i < n; ++i) {
        out << steps[r] << ',' << times[r] << ','
            << variable << ',' << group << ',' << i << ',' << data[r * n + i] << '\n';
      }
    }
  };
  write("loss", 0, loss);
  auto write_list = [&](const char* variable, const std::vector<torch::Tensor>& list,
                        int64_t first_group) {
    for (size_t g = 0; g < list.size(); ++g) write(variable, first_group + int64_t(g), list[g]);
  };
  write_list("rate", rates, 1);
  write_list("credit", credits, 1);
  write_list("weight", weights, 0);
  write_list("bias", biases, 1);
  write_list("excitatory", excitatory, 1);
  write_list("inhibitory", inhibitory, 1);
  write_list("balance_index", balance_index, 1);
  TORCH_CHECK(out.good(), "eiprop::Recording::write_csv: writing ", path, " failed");
}

}  // namespace eiprop
