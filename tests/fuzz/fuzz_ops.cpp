// libFuzzer target: random calls of the eiprop operators and modules, decoded from the fuzzer's
// bytes — which op, circuit depth and widths, batch, list lengths, tensor shapes, dtypes and
// layouts, activation and method names (valid and not), scalars (negative, zero, huge, NaN,
// Inf) and injected non-finite tensor entries. Every call goes through the dispatcher (the
// typed wrappers of eiprop/ops/layered.h) or the public modules, and must either
//   - succeed with finite outputs (when every input was finite), or
//   - raise a c10::Error.
// Anything else is a bug and aborts with the decoded call: a crash or sanitizer report, another
// exception type, or a non-finite output computed from finite inputs. With the environment
// variable EIPROP_FUZZ_STRICT_NONFINITE=1 a non-finite output is a bug whatever the inputs
// (a NaN/Inf entry, or a scalar such as lr = 1e300, must then be refused with an error).
#include <eiprop/eiprop.h>

#include <fuzzer/FuzzedDataProvider.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

const std::vector<std::string> kActivationNames = {
    "identity", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "elu",
    "",         "Tanh", "gelu",    "relu ", "identity\n"};
const std::vector<std::string> kMethodNames = {"sweep", "jacobi", "euler", "", "Sweep", "newton"};
const std::vector<at::ScalarType> kOtherDtypes = {at::kHalf, at::kBFloat16, at::kInt, at::kLong,
                                                  at::kBool, at::kComplexFloat};

bool strict_nonfinite() {
  static const bool strict = [] {
    const char* value = std::getenv("EIPROP_FUZZ_STRICT_NONFINITE");
    return value != nullptr && std::string(value) == "1";
  }();
  return strict;
}

// Decodes one call from the bytes and records what it decoded (printed when a bug is found).
class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : bytes_(data, size) {}

  std::ostringstream log;
  // A NaN or Inf tensor entry, or a scalar beyond 1e30 in magnitude, was passed.
  bool extreme_input = false;

  template <typename T>
  T pick(const std::vector<T>& choices) {
    return choices[bytes_.ConsumeIntegralInRange<size_t>(0, choices.size() - 1)];
  }
  int64_t integer(int64_t low, int64_t high) { return bytes_.ConsumeIntegralInRange(low, high); }
  // True with probability about percent/100.
  bool chance(int percent) { return bytes_.ConsumeIntegralInRange<int>(0, 99) < percent; }

  // The dtype of the call: float32 or float64 mostly, sometimes one the ops refuse.
  at::ScalarType dtype() {
    if (chance(8)) return pick(kOtherDtypes);
    return chance(50) ? at::kFloat : at::kDouble;
  }

  double scalar(const char* name, const std::vector<double>& usual) {
    const double value = chance(75) ? pick(usual)
                                    : pick(std::vector<double>{0.0, -1.0, -1e-300, 1e300, 2.0,
                                                               kNaN, kInf, -kInf, 1e-300});
    log << name << "=" << value << " ";
    if (!(std::abs(value) <= 1e30)) extreme_input = true;
    return value;
  }

  std::string name(const char* what, const std::vector<std::string>& names) {
    std::string value = chance(90) ? pick(names) : bytes_.ConsumeRandomLengthString(8);
    log << what << "='" << value << "' ";
    return value;
  }

  // A tensor meant to have `shape` and `dtype`; sometimes another shape, dtype or layout,
  // undefined, or with a non-finite entry.
  at::Tensor tensor(const char* what, std::vector<int64_t> shape, at::ScalarType dtype) {
    log << what;
    if (chance(1)) {
      log << "=undefined ";
      return at::Tensor();
    }
    if (chance(4)) dtype = pick(kOtherDtypes);
    if (chance(5) && !shape.empty()) {
      shape[integer(0, static_cast<int64_t>(shape.size()) - 1)] += chance(50) ? 1 : -1;
      if (shape.back() < 0) shape.back() = 0;
      for (auto& size : shape) size = std::max<int64_t>(size, 0);
    }
    if (chance(3)) shape.push_back(integer(1, 3));
    if (chance(3) && !shape.empty()) shape.pop_back();
    // |entries| stay below a few hundred so that finite inputs cannot overflow float32 through
    // four layers of at most six neurons: a non-finite output is then a bug, not an overflow.
    const double scale = pick(std::vector<double>{1.0, 1e-3, 1e2});
    auto generator = at::make_generator<at::CPUGeneratorImpl>(bytes_.ConsumeIntegral<uint32_t>());
    const bool transposed = shape.size() == 2 && chance(10);
    auto value = at::randn(transposed ? std::vector<int64_t>{shape[1], shape[0]} : shape,
                           generator, at::kDouble) * scale;
    if (value.numel() > 0 && chance(6)) {
      const double special = pick(std::vector<double>{kNaN, kInf, -kInf, 0.0, 4.9e-324});
      value.view(-1).narrow(0, integer(0, value.numel() - 1), 1).fill_(special);
      if (!std::isfinite(special)) extreme_input = true;
    }
    if (transposed) value = value.t();  // a non-contiguous view
    value = value.to(dtype);
    log << "=" << dtype << value.sizes() << (transposed ? "(T)" : "") << " ";
    return value;
  }

  // How many entries a per-layer list gets: usually one per layer.
  int64_t count(const char* what, int64_t layers) {
    int64_t count = layers;
    if (chance(5)) count = std::max<int64_t>(0, layers + (chance(50) ? 1 : -1));
    if (count != layers) log << what << ".count=" << count << " ";
    return count;
  }

  eiprop::RelaxationOptions relaxation() {
    eiprop::RelaxationOptions options(name("method", kMethodNames));
    options.max_iters(pick(std::vector<int64_t>{0, 0, 0, 1, 2, 3, 50, 500, -1}));
    options.tol(scalar("tol", {0.0, 0.0, 1e-6, 1e-3}));
    options.dt(scalar("dt", {1.0, 1.0, 0.5, 0.9}));
    log << "max_iters=" << options.max_iters() << " ";
    return options;
  }

 private:
  FuzzedDataProvider bytes_;
};

// A layered circuit's shapes: widths N_0..N_L, batch B.
struct Shapes {
  std::vector<int64_t> widths;
  int64_t batch = 0;
  int64_t layers() const { return static_cast<int64_t>(widths.size()) - 1; }
  int64_t width(int64_t p) const { return widths[std::min<int64_t>(p, layers())]; }
};

Shapes shapes(Decoder& decoder) {
  Shapes result;
  const int64_t layers = decoder.integer(0, 4);
  for (int64_t p = 0; p <= layers; ++p) result.widths.push_back(decoder.integer(0, 6));
  result.batch = decoder.integer(0, 5);
  decoder.log << "widths=" << c10::IntArrayRef(result.widths) << " batch=" << result.batch << " ";
  return result;
}

std::vector<at::Tensor> weights(Decoder& decoder, const Shapes& s, at::ScalarType dtype) {
  std::vector<at::Tensor> result;
  for (int64_t l = 0; l < decoder.count("weights", s.layers()); ++l) {
    result.push_back(decoder.tensor("W", {s.width(l + 1), s.width(l)}, dtype));
  }
  return result;
}

std::vector<c10::optional<at::Tensor>> biases(Decoder& decoder, const Shapes& s,
                                              at::ScalarType dtype) {
  std::vector<c10::optional<at::Tensor>> result;
  for (int64_t l = 0; l < decoder.count("biases", s.layers()); ++l) {
    if (decoder.chance(30)) {
      result.push_back(c10::nullopt);
    } else {
      result.push_back(decoder.tensor("b", {s.width(l + 1)}, dtype));
    }
  }
  return result;
}

// Per-layer [B, N_{l+1}] tensors (drives, rates, credits).
std::vector<at::Tensor> populations(Decoder& decoder, const char* what, const Shapes& s,
                                    at::ScalarType dtype) {
  std::vector<at::Tensor> result;
  for (int64_t l = 0; l < decoder.count(what, s.layers()); ++l) {
    result.push_back(decoder.tensor(what, {s.batch, s.width(l + 1)}, dtype));
  }
  return result;
}

std::vector<std::string> activations(Decoder& decoder, const Shapes& s) {
  std::vector<std::string> result;
  for (int64_t l = 0; l < decoder.count("activations", s.layers()); ++l) {
    result.push_back(decoder.name("f", kActivationNames));
  }
  return result;
}

[[noreturn]] void bug(const Decoder& decoder, const std::string& what) {
  std::fprintf(stderr, "eiprop fuzz: BUG: %s\n  call: %s\n", what.c_str(),
               decoder.log.str().c_str());
  std::abort();
}

void expect_finite(const Decoder& decoder, const std::string& what, const at::Tensor& tensor) {
  if (!tensor.defined() || !at::isFloatingType(tensor.scalar_type())) return;
  if (!at::isfinite(tensor).all().item<bool>()) {
    bug(decoder, what + " is not finite (" +
                     (decoder.extreme_input ? "a non-finite or extreme input was accepted"
                                            : "every input was finite") + ")");
  }
}

at::Tensor requiring_grad(const at::Tensor& tensor) {
  if (!tensor.defined() || !at::isFloatingType(tensor.scalar_type())) return tensor;
  return tensor.detach().requires_grad_();
}

// Runs one decoded call; the outputs that must be finite go into `outputs`.
void call(Decoder& decoder, std::vector<std::pair<std::string, at::Tensor>>& outputs) {
  const int op = static_cast<int>(decoder.integer(0, 7));
  const auto dtype = decoder.dtype();
  decoder.log << "op=" << op << " dtype=" << dtype << " ";
  const auto s = shapes(decoder);
  const auto add = [&outputs](const std::string& what, const std::vector<at::Tensor>& tensors) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      outputs.emplace_back(what + "[" + std::to_string(i) + "]", tensors[i]);
    }
  };
  switch (op) {
    case 0: {
      const auto input = decoder.tensor("input", {s.batch, s.width(0)}, dtype);
      const auto w = weights(decoder, s, dtype);
      const auto b = biases(decoder, s, dtype);
      const auto f = activations(decoder, s);
      const auto result = eiprop::ei_equilibrium(input, w, b, f, decoder.relaxation());
      add("rates", result.rates);
      add("drives", result.drives);
      if (!std::isfinite(result.residual)) outputs.emplace_back("residual", at::tensor(kNaN));
      break;
    }
    case 1: {
      const auto error = decoder.tensor("output_error", {s.batch, s.width(s.layers())}, dtype);
      const auto drives = populations(decoder, "drives", s, dtype);
      const auto w = weights(decoder, s, dtype);
      const auto f = activations(decoder, s);
      const auto result = eiprop::credit_relaxation(error, drives, w, f, decoder.relaxation());
      add("credits", result.credits);
      outputs.emplace_back("input_credit", result.input_credit);
      break;
    }
    case 2: {
      const auto input = decoder.tensor("input", {s.batch, s.width(0)}, dtype);
      const auto rates = populations(decoder, "rates", s, dtype);
      const auto drives = populations(decoder, "drives", s, dtype);
      const auto credits = populations(decoder, "credits", s, dtype);
      const auto f = activations(decoder, s);
      const double lr = decoder.scalar("lr", {0.1, 1.0, 1e-3, 0.0});
      const auto result = eiprop::plasticity(input, rates, drives, credits, f, lr);
      add("weight_updates", result.weight_updates);
      add("bias_updates", result.bias_updates);
      break;
    }
    case 3:
    case 4: {
      const bool backward = op == 4;
      auto input = decoder.tensor("input", {s.batch, s.width(0)}, dtype);
      auto w = weights(decoder, s, dtype);
      auto b = biases(decoder, s, dtype);
      const auto f = activations(decoder, s);
      const auto options = decoder.relaxation();
      if (backward) {
        input = requiring_grad(input);
        for (auto& weight : w) weight = requiring_grad(weight);
        for (auto& bias : b) {
          if (bias.has_value()) bias = requiring_grad(*bias);
        }
      }
      const auto output = eiprop::circuit(input, w, b, f, options);
      outputs.emplace_back("output", output.detach());
      if (backward && output.requires_grad()) {
        const auto grad_output = decoder.tensor("grad_output", output.sizes().vec(),
                                                output.scalar_type());
        output.backward(grad_output);
        if (input.defined() && input.requires_grad()) outputs.emplace_back("input.grad", input.grad());
        for (size_t l = 0; l < w.size(); ++l) {
          if (w[l].defined() && w[l].requires_grad()) {
            outputs.emplace_back("weights.grad[" + std::to_string(l) + "]", w[l].grad());
          }
        }
      }
      break;
    }
    case 5: {
      const auto rates = decoder.tensor("presynaptic_rates", {s.batch, s.width(0)}, dtype);
      const auto weight = decoder.tensor("weight", {s.width(1), s.width(0)}, dtype);
      const auto currents = eiprop::ei_currents(rates, weight);
      outputs.emplace_back("excitatory", currents.excitatory);
      outputs.emplace_back("inhibitory", currents.inhibitory);
      break;
    }
    case 6:
    case 7: {
      eiprop::BalancedMLPOptions options(s.widths);
      options.activation(decoder.name("activation", kActivationNames));
      options.output_activation(decoder.name("output_activation", kActivationNames));
      options.bias(decoder.chance(70));
      options.relaxation(decoder.relaxation());
      if (decoder.chance(10)) options.activations(activations(decoder, s));
      eiprop::BalancedMLP net(options);
      if (dtype == at::kDouble) net->to(at::kDouble);
      const auto input = decoder.tensor("input", {s.batch, s.width(0)}, dtype);
      if (op == 6) {
        if (decoder.chance(30)) net->set_learning(eiprop::Learning::autograd);
        const auto output = net->forward(input);
        outputs.emplace_back("output", output.detach());
        output.pow(2).sum().backward();
        for (const auto& item : net->named_parameters()) {
          outputs.emplace_back(item.key() + ".grad", item.value().grad());
        }
      } else {
        const double lr = decoder.scalar("lr", {0.1, 1e-3, 0.0});
        eiprop::PlasticityRule rule(net, lr);
        const auto target = decoder.tensor("target", {s.batch, s.width(s.layers())}, dtype);
        rule.step(input, target);
        for (const auto& item : net->named_parameters()) {
          outputs.emplace_back(item.key(), item.value().detach());
        }
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  at::set_num_threads(1);  // one call at a time; intra-op threads would only add noise
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoder decoder(data, size);
  std::vector<std::pair<std::string, at::Tensor>> outputs;
  try {
    call(decoder, outputs);
  } catch (const c10::Error&) {
    return 0;  // refused with an error: accepted
  } catch (const std::exception& error) {
    bug(decoder, std::string("an exception that is not a c10::Error: ") + error.what());
  } catch (...) {
    bug(decoder, "an exception that is not a std::exception");
  }
  // Non-finite or extreme inputs may give non-finite outputs unless the strict mode is on.
  if (decoder.extreme_input && !strict_nonfinite()) return 0;
  for (const auto& output : outputs) expect_finite(decoder, output.first, output.second);
  return 0;
}
