#include "ops/projections.h"

#include "kernels/projection.h"
#include "ops/validate.h"

#include <cctype>
#include <charconv>
#include <map>

namespace eiprop {
namespace ops {
namespace {

using kernels::ProjectionKind;

// The keys each kind's entry must give, as torch.nn names its arguments.
const std::vector<std::string>& required_keys(ProjectionKind kind) {
  static const std::vector<std::string> none;
  static const std::vector<std::string> conv{"kernel", "stride", "padding", "dilation", "groups"};
  static const std::vector<std::string> avg{"kernel", "stride", "padding", "ceil_mode",
                                            "count_include_pad"};
  static const std::vector<std::string> max{"kernel", "stride", "padding", "dilation",
                                            "ceil_mode"};
  switch (kind) {
    case ProjectionKind::conv2d: return conv;
    case ProjectionKind::avg_pool2d: return avg;
    case ProjectionKind::max_pool2d: return max;
    default: return none;
  }
}

constexpr const char* kKinds = "dense, conv2d, avg_pool2d, max_pool2d, flatten";

// A whole decimal integer, optionally signed (what `stream >> value` reads from a word); false
// for anything else, an overflow included.
bool parse_integer(c10::string_view text, int64_t& value) {
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && stop == end;
}

// The entry's whitespace-separated words.
std::vector<std::string> words_of(const std::string& entry) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < entry.size()) {
    while (i < entry.size() && std::isspace(static_cast<unsigned char>(entry[i]))) ++i;
    const size_t begin = i;
    while (i < entry.size() && !std::isspace(static_cast<unsigned char>(entry[i]))) ++i;
    if (i > begin) words.push_back(entry.substr(begin, i - begin));
  }
  return words;
}

// One entry's parser; every failure names the op, the entry and the projection (the name is
// built only for a failure: a call parses its projections every time).
class EntryParser {
 public:
  EntryParser(const char* op, size_t k, const std::function<std::string(size_t)>& name,
              const std::string& entry)
      : op_(op), k_(k), name_(name), entry_(entry) {}

  ProjectionKind kind(const std::string& word) const {
    for (auto kind : {ProjectionKind::dense, ProjectionKind::conv2d, ProjectionKind::avg_pool2d,
                      ProjectionKind::max_pool2d, ProjectionKind::flatten}) {
      if (word == kernels::projection_kind_name(kind)) return kind;
    }
    TORCH_CHECK(false, op_, ": ", where(), " has kind '", word, "'; the kinds are ", kKinds);
  }

  std::array<int64_t, 2> pair(const std::string& key, const std::string& value,
                              int64_t minimum) const {
    std::array<int64_t, 2> values{};
    const auto comma = value.find(',');
    const c10::string_view text(value);
    const bool parsed = comma != std::string::npos &&
                        parse_integer(text.substr(0, comma), values[0]) &&
                        parse_integer(text.substr(comma + 1), values[1]);
    TORCH_CHECK(parsed, op_, ": ", where(), " gives ", key, "=", value,
                "; expected two integers as height,width (e.g. ", key, "=", minimum, ",",
                minimum, ")");
    for (int64_t v : values) {
      TORCH_CHECK(v >= minimum, op_, ": ", where(), " gives ", key, "=", value, "; each must be >= ",
                  minimum);
    }
    return values;
  }

  int64_t integer(const std::string& key, const std::string& value, int64_t minimum) const {
    int64_t v = 0;
    const bool parsed = parse_integer(value, v);
    TORCH_CHECK(parsed && v >= minimum, op_, ": ", where(), " gives ", key, "=", value,
                "; expected an integer >= ", minimum);
    return v;
  }

  bool boolean(const std::string& key, const std::string& value) const {
    if (value == "true" || value == "True" || value == "1") return true;
    if (value == "false" || value == "False" || value == "0") return false;
    TORCH_CHECK(false, op_, ": ", where(), " gives ", key, "=", value,
                "; expected true or false");
  }

  [[noreturn]] void fail(const std::string& what) const {
    TORCH_CHECK(false, op_, ": ", where(), " ", what);
    TORCH_INTERNAL_ASSERT(false);
  }

 private:
  std::string where() const {
    return c10::str("projections[", k_, "] '", entry_, "' (for ", name_(k_), ")");
  }

  const char* op_;
  size_t k_;
  const std::function<std::string(size_t)>& name_;
  const std::string& entry_;
};

ProjectionSpec parse_entry(const char* op, size_t k,
                           const std::function<std::string(size_t)>& name,
                           const std::string& entry) {
  const EntryParser parser(op, k, name, entry);
  const auto words = words_of(entry);
  if (words.empty()) parser.fail(c10::str("is empty; give a kind (", kKinds, ")"));
  ProjectionSpec spec;
  spec.kind = parser.kind(words[0]);
  std::map<std::string, std::string> given;
  for (size_t w = 1; w < words.size(); ++w) {
    const auto& word = words[w];
    const auto equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      parser.fail(c10::str("has '", word, "' where a key=value belongs"));
    }
    const auto key = word.substr(0, equals);
    if (!given.emplace(key, word.substr(equals + 1)).second) {
      parser.fail(c10::str("gives ", key, " twice"));
    }
  }
  const auto& keys = required_keys(spec.kind);
  for (const auto& entry_key : given) {
    if (std::find(keys.begin(), keys.end(), entry_key.first) == keys.end()) {
      parser.fail(keys.empty()
                      ? c10::str("gives ", entry_key.first, "=; a ",
                                 kernels::projection_kind_name(spec.kind),
                                 " projection takes no parameters")
                      : c10::str("gives ", entry_key.first, "=, which a ",
                                 kernels::projection_kind_name(spec.kind),
                                 " projection does not take; it takes ",
                                 c10::Join(", ", keys)));
    }
  }
  for (const auto& key : keys) {
    if (!given.count(key)) {
      parser.fail(c10::str("lacks ", key, "=; a ", kernels::projection_kind_name(spec.kind),
                           " projection needs every one of ", c10::Join(", ", keys),
                           " (as torch.nn names them; there are no defaults)"));
    }
  }
  auto& g = spec.geometry;
  for (const auto& [key, value] : given) {
    if (key == "kernel") g.kernel = parser.pair(key, value, 1);
    if (key == "stride") g.stride = parser.pair(key, value, 1);
    if (key == "padding") g.padding = parser.pair(key, value, 0);
    if (key == "dilation") g.dilation = parser.pair(key, value, 1);
    if (key == "groups") g.groups = parser.integer(key, value, 1);
    if (key == "ceil_mode") g.ceil_mode = parser.boolean(key, value);
    if (key == "count_include_pad") g.count_include_pad = parser.boolean(key, value);
  }
  if (spec.kind == ProjectionKind::avg_pool2d || spec.kind == ProjectionKind::max_pool2d) {
    for (int d = 0; d < 2; ++d) {
      if (g.padding[d] > g.kernel[d] / 2) {
        parser.fail(c10::str("has padding=", g.padding[0], ",", g.padding[1], " but kernel=",
                             g.kernel[0], ",", g.kernel[1],
                             "; a pooling's padding must be at most half its kernel (as "
                             "torch.nn's poolings require)"));
      }
    }
  }
  return spec;
}

// torch's output size of a window sliding over `size` (pooling_output_shape; ceil_mode drops a
// last window that would start in the right padding).
int64_t windows(int64_t size, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
                bool ceil_mode) {
  // Floor division (torch's div_rtn): a negative span with ceil_mode can still give a window.
  const int64_t numerator = size + 2 * padding - dilation * (kernel - 1) - 1 +
                            (ceil_mode ? stride - 1 : 0);
  int64_t out = numerator / stride - (numerator % stride < 0 ? 1 : 0) + 1;
  if (ceil_mode && (out - 1) * stride >= size + padding) --out;
  return out;
}

}  // namespace

std::vector<ProjectionSpec> parse_projections(const char* op,
                                              const std::vector<std::string>& projections,
                                              size_t count, const char* count_from,
                                              const std::function<std::string(size_t)>& name) {
  if (projections.empty()) return std::vector<ProjectionSpec>(count);
  TORCH_CHECK(projections.size() == count, op, ": projections has ", projections.size(),
              " entries but ", count_from, " has ", count,
              "; give one per projection (or none: all dense)");
  std::vector<ProjectionSpec> specs;
  for (size_t k = 0; k < count; ++k) specs.push_back(parse_entry(op, k, name, projections[k]));
  return specs;
}

bool all_dense(const std::vector<ProjectionSpec>& specs) {
  return std::all_of(specs.begin(), specs.end(), [](const ProjectionSpec& spec) {
    return spec.kind == ProjectionKind::dense;
  });
}

void check_projection_weight(const char* op, const std::string& what, const ProjectionSpec& spec,
                             const at::Tensor& weight, const at::Tensor& reference) {
  const char* kind = kernels::projection_kind_name(spec.kind);
  switch (spec.kind) {
    case ProjectionKind::dense:
      check_matrix(op, what, weight, reference);
      return;
    case ProjectionKind::conv2d: {
      check_same_dtype_device(op, what, weight, reference);
      const auto& g = spec.geometry;
      TORCH_CHECK(weight.dim() == 4 && weight.size(2) == g.kernel[0] &&
                      weight.size(3) == g.kernel[1],
                  op, ": ", what, " has shape ", weight.sizes(),
                  " but its projection is conv2d with kernel=", g.kernel[0], ",", g.kernel[1],
                  "; expected [C_out, C_in / groups, ", g.kernel[0], ", ", g.kernel[1],
                  "] (torch.nn.Conv2d's layout)");
      TORCH_CHECK(weight.size(0) % g.groups == 0, op, ": ", what, " has ", weight.size(0),
                  " output channels, which groups=", g.groups, " does not divide");
      TORCH_CHECK(weight.size(0) > 0 && weight.size(1) > 0, op, ": ", what, " has shape ",
                  weight.sizes(), "; a conv2d projection needs at least one channel each way");
      return;
    }
    default:
      TORCH_CHECK(weight.numel() == 0, op, ": ", what, " has shape ", weight.sizes(),
                  " but its projection is ", kind,
                  ", which has no synapses to learn; give an empty placeholder (numel 0)");
  }
}

std::vector<int64_t> postsynaptic_shape(const char* op, const std::string& what,
                                        const ProjectionSpec& spec, const at::Tensor& weight,
                                        at::IntArrayRef presynaptic) {
  const auto& g = spec.geometry;
  const char* kind = kernels::projection_kind_name(spec.kind);
  if (spec.kind == ProjectionKind::dense) return {weight.size(0)};
  if (spec.kind == ProjectionKind::flatten) {
    TORCH_CHECK(presynaptic.size() == 3, op, ": ", what,
                " is flatten but its presynaptic population has shape ", shape_text(presynaptic),
                "; flatten takes a [C, H, W] population");
    return {c10::multiply_integers(presynaptic)};
  }
  TORCH_CHECK(presynaptic.size() == 3, op, ": ", what, " is ", kind,
              " but its presynaptic population has shape ", shape_text(presynaptic),
              "; a spatial projection takes a [C, H, W] population (rates [B, C, H, W])");
  int64_t channels = presynaptic[0];
  std::array<int64_t, 2> kernel = g.kernel;
  std::array<int64_t, 2> dilation = g.dilation;
  if (spec.kind == ProjectionKind::conv2d) {
    TORCH_CHECK(weight.size(1) * g.groups == presynaptic[0], op, ": ", what, " has shape ",
                weight.sizes(), " with groups=", g.groups, ", so it takes ",
                weight.size(1) * g.groups, " channels, but its presynaptic population has shape ",
                shape_text(presynaptic));
    channels = weight.size(0);
  }
  if (spec.kind == ProjectionKind::avg_pool2d) dilation = {1, 1};
  std::vector<int64_t> shape{channels};
  for (int d = 0; d < 2; ++d) {
    const int64_t out = windows(presynaptic[1 + d], kernel[d], g.stride[d], g.padding[d],
                                dilation[d], spec.kind != ProjectionKind::conv2d && g.ceil_mode);
    TORCH_CHECK(out >= 1, op, ": ", what, " is ", kind, " with kernel=", kernel[0], ",",
                kernel[1], " dilation=", dilation[0], ",", dilation[1], " padding=",
                g.padding[0], ",", g.padding[1], " but its presynaptic population has shape ",
                shape_text(presynaptic), "; the window does not fit the padded input");
    shape.push_back(out);
  }
  return shape;
}

std::vector<int64_t> conv2d_weight_sizes(const ProjectionSpec& spec,
                                         at::IntArrayRef presynaptic,
                                         at::IntArrayRef postsynaptic) {
  const auto& g = spec.geometry;
  return {postsynaptic[0], presynaptic[0] / g.groups, g.kernel[0], g.kernel[1]};
}

std::vector<kernels::Projection> projections_between(
    const char* op, const std::vector<ProjectionSpec>& specs, at::IntArrayRef pre,
    at::IntArrayRef post, const std::vector<std::vector<int64_t>>& shapes,
    const std::function<std::string(size_t)>& name, const at::Tensor& reference) {
  std::vector<kernels::Projection> projections;
  for (size_t k = 0; k < specs.size(); ++k) {
    const auto& spec = specs[k];
    const auto what = c10::str("projections[", k, "] (for ", name(k), ")");
    const auto& from = shapes[pre[k]];
    const auto& to = shapes[post[k]];
    at::Tensor weight;
    if (spec.kind == ProjectionKind::dense) {
      TORCH_CHECK(from.size() == 1 && to.size() == 1, op, ": ", what,
                  " is dense but joins populations of shapes ", shape_text(from), " and ",
                  shape_text(to), "; a dense projection joins [N] populations");
    } else {
      if (spec.kind == ProjectionKind::conv2d) {
        const auto groups = spec.geometry.groups;
        TORCH_CHECK(from.size() == 3 && to.size() == 3 && from[0] % groups == 0 &&
                        to[0] % groups == 0,
                    op, ": ", what, " is conv2d with groups=", groups,
                    " but joins populations of shapes ", shape_text(from), " and ",
                    shape_text(to), "; it joins [C, H, W] populations whose channels groups "
                    "divides");
        weight = at::empty(conv2d_weight_sizes(spec, from, to), reference.options());
      }
      const auto reached = postsynaptic_shape(op, what, spec, weight, from);
      TORCH_CHECK(reached == to, op, ": ", what, " gives its postsynaptic population the shape ",
                  shape_text(reached), " but its rates have the shape ", shape_text(to));
    }
    projections.push_back(kernels::Projection{pre[k], post[k], weight, spec.kind, spec.geometry});
  }
  return projections;
}

std::string shape_text(at::IntArrayRef shape) {
  return c10::str("[", c10::Join(", ", shape), "]");
}

}  // namespace ops
}  // namespace eiprop
