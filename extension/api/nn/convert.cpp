#include "eiprop/nn/convert.h"

#include "eiprop/ops/projections.h"
#include "api/nn/layers.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

namespace eiprop {
namespace {

constexpr const char* kConvert = "eiprop::convert";

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

// The maximal runs of a Sequential's children that one circuit takes, as convert_parts finds them:
// projection layers (Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten) each followed by at most one
// supported activation, the first a projection (a Flatten only after a convolution or pooling);
// where two Linear layers meet, their widths chain
// and their biases are both present or both absent; Identity passes anywhere inside a run. A run
// needs a Linear or Conv2d (synapses to learn).
struct Run {
  size_t start, end;  // [start, end) of the children
  std::vector<torch::nn::Linear> linears;
  std::vector<std::string> activations;  // per Linear (a Linear-only run's)
  bool linear_only = true;
  bool plastic = false;
};

std::vector<Run> runs_of(const std::vector<std::shared_ptr<torch::nn::Module>>& children) {
  std::vector<Run> runs;
  c10::optional<Run> run;
  std::shared_ptr<torch::nn::LinearImpl> last_linear;  // the run's last projection, if a Linear
  bool last_spatial = false;  // ... if a convolution or pooling ([C, H, W] after it)
  bool activated = false;
  const auto close = [&](size_t end) {
    if (!run) return;
    run->end = end;
    if (run->plastic) runs.push_back(std::move(*run));
    run.reset();
  };
  for (size_t i = 0; i < children.size(); ++i) {
    std::string mismatch;
    // A Flatten joins a run only after a convolution or pooling (elsewhere it may flatten what a
    // circuit does not take: a [B, N] or an unbatched tensor), so it stays with autograd.
    const bool stray_flatten = children[i]->as<torch::nn::Flatten>() && !(run && last_spatial);
    if (!stray_flatten && projection::of_module(*children[i], mismatch)) {
      const auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(children[i]);
      const bool chains = !linear || !last_linear ||
                          (last_linear->options.out_features() == linear->options.in_features() &&
                           last_linear->options.bias() == linear->options.bias());
      if (!run || !chains) {
        close(i);
        run = Run{i, i, {}, {}};
      }
      if (linear) {
        run->linears.emplace_back(linear);
        run->activations.push_back("identity");
        run->plastic = true;
      } else {
        run->linear_only = false;
        run->plastic = run->plastic || children[i]->as<torch::nn::Conv2d>() != nullptr;
      }
      last_linear = linear;
      last_spatial = children[i]->as<torch::nn::Conv2d>() ||
                     children[i]->as<torch::nn::MaxPool2d>() ||
                     children[i]->as<torch::nn::AvgPool2d>();
      activated = false;
    } else if (run && children[i]->as<torch::nn::Identity>()) {
      continue;  // Identity passes anywhere inside a run
    } else if (const auto activation = run && !activated
                                           ? api::activation_of(children[i], mismatch)
                                           : c10::nullopt) {
      if (!run->activations.empty() && last_linear) run->activations.back() = *activation;
      activated = true;
    } else {
      close(i);
      last_linear.reset();
      last_spatial = false;
    }
  }
  close(children.size());
  return runs;
}

// The circuit of a run: a BalancedMLP when it holds Linear layers and activations only, else a
// SequentialCircuit of its layers.
torch::nn::AnyModule circuit_of_run(const Run& run, const std::vector<torch::nn::AnyModule>& modules,
                                    const std::vector<std::string>& names,
                                    const RelaxationOptions& relaxation) {
  if (run.linear_only) {
    return torch::nn::AnyModule(circuit_of(run.linears, run.activations, relaxation));
  }
  torch::nn::Sequential layers;
  for (size_t j = run.start; j < run.end; ++j) {
    if (modules[j].ptr()->as<torch::nn::Identity>()) continue;
    layers->push_back(names[j], modules[j]);
  }
  return torch::nn::AnyModule(SequentialCircuit(layers, relaxation));
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
    TORCH_CHECK(!projection::of_module(*child.value(), mismatch) && mismatch.empty(), kConvert,
                ": layer '", child.key(), "' (", child.value()->name(),
                ") is a convolution, pooling or flatten layer, which a BalancedMLP does not hold; "
                "eiprop::convert_circuit makes a SequentialCircuit of such a Sequential");
    const auto activation = api::activation_of(child.value(), mismatch);
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

SequentialCircuit convert_circuit(const torch::nn::Sequential& sequential,
                                  const RelaxationOptions& relaxation) {
  torch::nn::Sequential layers;
  const auto named = sequential->named_children();
  size_t i = 0;
  for (const auto& module : *sequential) {
    const auto& child = named[i++];
    std::string mismatch;
    const bool projection = projection::of_module(*child.value(), mismatch).has_value();
    TORCH_CHECK(projection || mismatch.empty(), "eiprop::convert_circuit: layer '", child.key(),
                "' (", child.value()->name(), ")", mismatch);
    if (!projection) {
      TORCH_CHECK(api::activation_of(child.value(), mismatch).has_value(),
                  "eiprop::convert_circuit: layer '", child.key(), "' (", child.value()->name(),
                  ")", mismatch);
    }
    layers->push_back(child.key(), module);
  }
  return SequentialCircuit(layers, relaxation);
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
  std::vector<std::string> child_names;
  for (const auto& item : named) child_names.push_back(item.key());
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
      converted->push_back(std::string(name),
                           circuit_of_run(run, modules, child_names, relaxation));
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
