#include "eiprop/nn/convert.h"

#include "kernels/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace eiprop {
namespace {

constexpr const char* kConvert = "eiprop::convert";

// The eiprop activation name of a LibTorch activation module ("identity" for Identity), or
// nullopt with the reason in `mismatch` when the rule does not take it.
c10::optional<std::string> activation_of(const std::shared_ptr<torch::nn::Module>& module,
                                         std::string& mismatch) {
  if (module->as<torch::nn::Tanh>()) return std::string("tanh");
  if (module->as<torch::nn::Sigmoid>()) return std::string("sigmoid");
  if (module->as<torch::nn::ReLU>()) return std::string("relu");
  if (module->as<torch::nn::Identity>()) return std::string("identity");
  if (const auto* leaky = module->as<torch::nn::LeakyReLU>()) {
    if (leaky->options.negative_slope() == kernels::kLeakyReluSlope) return std::string("leaky_relu");
    mismatch = c10::str(" has negative_slope ", leaky->options.negative_slope(),
                        "; eiprop's leaky_relu has slope ", kernels::kLeakyReluSlope);
    return c10::nullopt;
  }
  if (const auto* softplus = module->as<torch::nn::Softplus>()) {
    if (softplus->options.beta() == kernels::kSoftplusBeta &&
        softplus->options.threshold() == kernels::kSoftplusThreshold) {
      return std::string("softplus");
    }
    mismatch = c10::str(" has beta ", softplus->options.beta(), " and threshold ",
                        softplus->options.threshold(), "; eiprop's softplus has beta ",
                        kernels::kSoftplusBeta, ", threshold ", kernels::kSoftplusThreshold);
    return c10::nullopt;
  }
  if (const auto* elu = module->as<torch::nn::ELU>()) {
    if (elu->options.alpha() == kernels::kEluAlpha) return std::string("elu");
    mismatch = c10::str(" has alpha ", elu->options.alpha(), "; eiprop's elu has alpha ",
                        kernels::kEluAlpha);
    return c10::nullopt;
  }
  mismatch = " is not supported; eiprop converts Linear, Tanh, Sigmoid, ReLU, LeakyReLU(0.01), "
             "Softplus(1, 20), ELU(1) and Identity";
  return c10::nullopt;
}

// A BalancedMLP made of `linears` (their widths chain) with activations[l] after layer l.
BalancedMLP circuit_of(const std::vector<torch::nn::Linear>& linears,
                       const std::vector<std::string>& activations,
                       const RelaxationOptions& relaxation) {
  std::vector<int64_t> widths{linears.front()->options.in_features()};
  bool bias = true;
  for (const auto& linear : linears) {
    widths.push_back(linear->options.out_features());
    bias = bias && linear->options.bias();
  }
  BalancedMLP module(
      BalancedMLPOptions(widths).activations(activations).bias(bias).relaxation(relaxation));
  for (size_t l = 0; l < linears.size(); ++l) module->share_layer(l, linears[l]);
  return module;
}

// The maximal runs of a Sequential's children that a BalancedMLP takes, as convert_parts finds
// them: a Linear, then Linears whose widths chain and whose biases are all present or all absent,
// each followed by at most one supported activation; Identity passes anywhere inside a run.
struct Run {
  size_t start, end;  // [start, end) of the children
  std::vector<torch::nn::Linear> linears;
  std::vector<std::string> activations;
};

std::vector<Run> runs_of(const std::vector<std::shared_ptr<torch::nn::Module>>& children) {
  std::vector<Run> runs;
  c10::optional<Run> run;
  bool activated = false;
  const auto close = [&](size_t end) {
    if (!run) return;
    run->end = end;
    runs.push_back(std::move(*run));
    run.reset();
  };
  for (size_t i = 0; i < children.size(); ++i) {
    std::string mismatch;
    if (auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(children[i])) {
      const bool chains = run && run->linears.back()->options.out_features() ==
                                     linear->options.in_features() &&
                          run->linears.back()->options.bias() == linear->options.bias();
      if (!chains) {
        close(i);
        run = Run{i, i, {}, {}};
      }
      run->linears.emplace_back(linear);
      run->activations.push_back("identity");
      activated = false;
    } else if (run && children[i]->as<torch::nn::Identity>()) {
      continue;  // Identity passes anywhere inside a run
    } else if (const auto activation = run && !activated
                                           ? activation_of(children[i], mismatch)
                                           : c10::nullopt) {
      run->activations.back() = *activation;
      activated = true;
    } else {
      close(i);
    }
  }
  close(children.size());
  return runs;
}

}  // namespace

BalancedMLP convert(const torch::nn::Sequential& sequential,
                    const RelaxationOptions& relaxation) {
  std::vector<torch::nn::Linear> linears;
  std::vector<std::string> activations;
  bool activation_open = false;  // the last Linear still has no activation
  for (const auto& child : sequential->named_children()) {
    if (const auto* linear = child.value()->as<torch::nn::Linear>()) {
      if (!linears.empty()) {
        TORCH_CHECK(linear->options.in_features() == linears.back()->options.out_features(),
                    kConvert, ": layer '", child.key(), "' (Linear) takes ",
                    linear->options.in_features(), " inputs but the previous Linear gives ",
                    linears.back()->options.out_features());
      }
      linears.emplace_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(child.value()));
      activations.push_back("identity");
      activation_open = true;
      continue;
    }
    std::string mismatch;
    const auto activation = activation_of(child.value(), mismatch);
    TORCH_CHECK(activation.has_value(), kConvert, ": layer '", child.key(), "' (",
                child.value()->name(), ")", mismatch);
    if (*activation == "identity") continue;
    TORCH_CHECK(activation_open, kConvert, ": layer '", child.key(), "' (", child.value()->name(),
                ") follows no Linear layer; eiprop needs Linear -> activation pairs");
    activations.back() = *activation;
    activation_open = false;
  }
  TORCH_CHECK(!linears.empty(), kConvert, ": the Sequential holds no Linear layer");
  return circuit_of(linears, activations, relaxation);
}

std::string ConvertedParts::report() const {
  std::string text = c10::str(circuits.size(), " circuit(s), trained by the rule:\n");
  for (const auto& circuit : circuits) text += c10::str("  ", circuit, "\n");
  text += c10::str(autograd.size(), " layer(s) left to autograd:\n");
  for (const auto& layer : autograd) text += c10::str("  ", layer, "\n");
  return text;
}

ConvertedParts convert_parts(const torch::nn::Sequential& sequential,
                             const RelaxationOptions& relaxation) {
  ConvertedParts parts;
  const auto named = sequential->named_children();
  std::vector<torch::nn::AnyModule> modules(sequential->begin(), sequential->end());
  std::vector<std::shared_ptr<torch::nn::Module>> children;
  for (const auto& module : modules) children.push_back(module.ptr());
  const auto runs = runs_of(children);
  torch::nn::Sequential converted;
  size_t next_run = 0;
  for (size_t i = 0; i < children.size();) {
    const auto& name = named[i].key();
    if (next_run < runs.size() && runs[next_run].start == i) {
      const auto& run = runs[next_run++];
      std::string kinds;
      for (size_t j = run.start; j < run.end; ++j) {
        kinds += c10::str(j == run.start ? "" : ", ", children[j]->name());
      }
      const auto span = run.end - run.start == 1
                            ? name
                            : c10::str(name, "-", named[run.end - 1].key());
      parts.circuits.push_back(c10::str(span, " (", kinds, ") -> circuit ", name));
      converted->push_back(std::string(name), torch::nn::AnyModule(circuit_of(
                                                  run.linears, run.activations, relaxation)));
      i = run.end;
      continue;
    }
    // Kept as it is, with its submodules: a C++ module calls its children through its own
    // members, so they cannot be swapped from outside. The same module: copies of an AnyModule
    // share what it holds.
    parts.autograd.push_back(c10::str(name, " (", children[i]->name(), ")"));
    converted->push_back(std::string(name), torch::nn::AnyModule(modules[i]));
    ++i;
  }
  parts.model = converted;
  return parts;
}

}  // namespace eiprop
