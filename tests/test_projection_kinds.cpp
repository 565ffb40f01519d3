// Convolutional and pooling projections in the kernels and solvers (kernels/projection.h): on
// random layered circuits of conv2d (kernel 1-5, stride 1-2, padding 0-2, dilation 1-2, groups
// 1 / 2 / depthwise), avg_pool2d, max_pool2d (ties included), flatten and dense projections, with
// every activation and every method, the relaxed rates equal the forward of ATen's functional
// layers, and the balance credits' Hebbian products and the input credit equal the gradients
// LibTorch autograd computes of sum(output * G) for a given output error G: float64 <= 1e-10
// relative, float32 <= 1e-4. A recurrent convolutional circuit (a conv self-projection) relaxes to
// the rates and credits of the same circuit with each convolution unrolled into its dense matrix.
#include "kernels/projection.h"
#include "kernels/synapses.h"
#include "solvers/credit.h"
#include "solvers/firing.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace eiprop {
namespace {

using kernels::Activation;
using kernels::Geometry;
using kernels::ProjectionKind;

// One layer of a chain: the projection into population l+1 and that population's activation.
struct Layer {
  ProjectionKind kind;
  Geometry geometry;
  int64_t channels = 0;  // conv2d: output channels; dense: output width
  int64_t kernel = 1;    // conv2d: square kernel
  Activation activation = Activation::identity;
  bool bias = false;
};

Layer conv(int64_t channels, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
           int64_t groups, Activation activation, bool bias = true) {
  Layer layer{ProjectionKind::conv2d, {}, channels, kernel, activation, bias};
  layer.geometry.stride = {stride, stride};
  layer.geometry.padding = {padding, padding};
  layer.geometry.dilation = {dilation, dilation};
  layer.geometry.groups = groups;
  return layer;
}

Layer pool(ProjectionKind kind, int64_t window, int64_t stride, int64_t padding,
           int64_t dilation = 1, Activation activation = Activation::identity, bool bias = false,
           bool count_include_pad = true) {
  Layer layer{kind, {}, 0, 1, activation, bias};
  layer.geometry.kernel = {window, window};
  layer.geometry.stride = {stride, stride};
  layer.geometry.padding = {padding, padding};
  layer.geometry.dilation = {dilation, dilation};
  layer.geometry.count_include_pad = count_include_pad;
  return layer;
}

Layer flatten() { return Layer{ProjectionKind::flatten, {}, 0, 1, Activation::identity, false}; }

Layer dense(int64_t width, Activation activation, bool bias = true) {
  return Layer{ProjectionKind::dense, {}, width, 1, activation, bias};
}

at::Tensor activate(Activation activation, const at::Tensor& u) {
  switch (activation) {
    case Activation::identity: return u;
    case Activation::tanh: return at::tanh(u);
    case Activation::sigmoid: return at::sigmoid(u);
    case Activation::relu: return at::relu(u);
    case Activation::leaky_relu: return at::leaky_relu(u, kernels::kLeakyReluSlope);
    case Activation::softplus:
      return at::softplus(u, kernels::kSoftplusBeta, kernels::kSoftplusThreshold);
    case Activation::elu: return at::elu(u, kernels::kEluAlpha);
  }
  return u;
}

// The layer's projection (weight drawn here) and the reference forward of the drive.
struct Built {
  kernels::Projection projection;
  c10::optional<at::Tensor> bias;
};

Built build(const Layer& layer, int64_t l, const at::Tensor& rate) {
  kernels::Projection projection{l, l + 1, at::Tensor(), layer.kind, layer.geometry};
  const auto options = rate.options();
  int64_t channels = rate.size(1);
  if (layer.kind == ProjectionKind::conv2d) {
    const int64_t fan_in = rate.size(1) / layer.geometry.groups * layer.kernel * layer.kernel;
    projection.weight = at::randn({layer.channels, rate.size(1) / layer.geometry.groups,
                                   layer.kernel, layer.kernel}, options)
                            .div_(std::sqrt(static_cast<double>(fan_in)));
    channels = layer.channels;
  } else if (layer.kind == ProjectionKind::dense) {
    projection.weight = at::randn({layer.channels, rate.size(1)}, options)
                            .div_(std::sqrt(static_cast<double>(rate.size(1))));
    channels = layer.channels;
  }
  c10::optional<at::Tensor> bias;
  if (layer.bias) bias = at::randn({channels}, options).mul_(0.1);
  return {projection, bias};
}

at::Tensor reference_drive(const kernels::Projection& projection, const c10::optional<at::Tensor>& bias,
                           const at::Tensor& rate) {
  const Geometry& g = projection.geometry;
  at::Tensor u;
  switch (projection.kind) {
    case ProjectionKind::dense: u = at::linear(rate, projection.weight); break;
    case ProjectionKind::conv2d:
      u = at::conv2d(rate, projection.weight, {}, g.stride, g.padding, g.dilation, g.groups);
      break;
    case ProjectionKind::avg_pool2d:
      u = at::avg_pool2d(rate, g.kernel, g.stride, g.padding, g.ceil_mode, g.count_include_pad);
      break;
    case ProjectionKind::max_pool2d:
      u = at::max_pool2d(rate, g.kernel, g.stride, g.padding, g.dilation, g.ceil_mode);
      break;
    case ProjectionKind::flatten: u = rate.flatten(1); break;
  }
  if (bias.has_value()) {
    std::vector<int64_t> shape(u.dim(), 1);
    shape[1] = bias->size(0);
    u = u + bias->view(shape);
  }
  return u;
}

struct Chain {
  kernels::Circuit circuit;
  at::Tensor input;
  at::Tensor output_error;  // G
  // Autograd of sum(output * G): the rates 1..L, and the gradients.
  std::vector<at::Tensor> rates;
  at::Tensor input_gradient;
  std::vector<at::Tensor> weight_gradients;  // per plastic projection, in order
  std::vector<at::Tensor> bias_gradients;    // per population with a bias, in order
};

Chain make_chain(const std::vector<Layer>& layers, std::vector<int64_t> input_shape,
                 at::ScalarType dtype, uint64_t seed) {
  torch::manual_seed(seed);
  const auto options = at::TensorOptions().dtype(dtype);
  auto input = at::randn(input_shape, options).requires_grad_(true);
  std::vector<kernels::Projection> projections;
  std::vector<c10::optional<at::Tensor>> biases;
  std::vector<Activation> activations;
  std::vector<std::vector<int64_t>> shapes{std::vector<int64_t>(input_shape.begin() + 1,
                                                                input_shape.end())};
  at::Tensor rate = input;
  std::vector<at::Tensor> rates;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto built = build(layers[l], static_cast<int64_t>(l), rate.detach());
    if (built.projection.weight.defined()) built.projection.weight.requires_grad_(true);
    if (built.bias.has_value()) built.bias->requires_grad_(true);
    rate = activate(layers[l].activation, reference_drive(built.projection, built.bias, rate));
    rates.push_back(rate);
    projections.push_back(built.projection);
    biases.push_back(built.bias);
    activations.push_back(layers[l].activation);
    shapes.push_back(std::vector<int64_t>(rate.sizes().begin() + 1, rate.sizes().end()));
  }
  const auto output_error = at::randn(rate.sizes(), options);
  (rate * output_error).sum().backward();

  std::vector<at::Tensor> weight_gradients, bias_gradients, detached_rates;
  for (const auto& r : rates) detached_rates.push_back(r.detach());
  for (auto& projection : projections) {
    if (!projection.weight.defined()) continue;
    weight_gradients.push_back(projection.weight.grad());
    projection.weight = projection.weight.detach();
  }
  for (auto& bias : biases) {
    if (!bias.has_value()) continue;
    bias_gradients.push_back(bias->grad());
    bias = bias->detach();
  }
  const auto populations = static_cast<int64_t>(layers.size());
  return Chain{kernels::Circuit(populations, std::move(projections), std::move(biases),
                                std::move(activations), std::move(shapes)),
               input.detach(), output_error, std::move(detached_rates), input.grad(),
               std::move(weight_gradients), std::move(bias_gradients)};
}

double relative_error(const at::Tensor& actual, const at::Tensor& expected) {
  EXPECT_EQ(actual.sizes(), expected.sizes());
  const double scale = std::max(expected.abs().max().item<double>(), 1e-30);
  return (actual - expected).abs().max().item<double>() / scale;
}

solvers::SolverOptions solver(solvers::Method method, at::ScalarType dtype) {
  solvers::SolverOptions options;
  options.method = method;
  if (method == solvers::Method::euler) {
    options.dt = 0.5;
    options.max_iters = 20000;
    options.tol = dtype == at::kDouble ? 1e-14 : 1e-6;
  }
  return solvers::resolve_defaults(options, dtype);
}

// Relaxes rates and credits and returns the worst relative error against autograd.
double worst_error(const Chain& chain, solvers::Method method) {
  const auto dtype = chain.input.scalar_type();
  const auto options = solver(method, dtype);
  const auto& circuit = chain.circuit;
  const auto firing = solvers::relax_rates(circuit, chain.input, options);
  EXPECT_TRUE(firing.stats.converged) << solvers::method_name(method);
  double worst = 0.0;
  const int64_t P = circuit.populations();
  for (int64_t p = 1; p <= P; ++p) {
    worst = std::max(worst, relative_error(firing.rates[p], chain.rates[p - 1]));
  }
  const auto credits = solvers::relax_credits(circuit, firing.drives, firing.rates, P,
                                              chain.output_error, options);
  EXPECT_TRUE(credits.stats.converged) << solvers::method_name(method);
  worst = std::max(worst, relative_error(credits.credits[0], chain.input_gradient));
  size_t w = 0, b = 0;
  for (const auto& projection : circuit.projections()) {
    if (!projection.plastic()) continue;
    const auto update = kernels::hebbian(projection, credits.balance_credits[projection.post],
                                         firing.rates[projection.pre], 1.0);
    worst = std::max(worst, relative_error(update, chain.weight_gradients[w++]));
  }
  for (int64_t p = 1; p <= P; ++p) {
    if (!circuit.bias(p).has_value()) continue;
    const auto update = kernels::bias_plasticity(credits.balance_credits[p], 1.0);
    worst = std::max(worst, relative_error(update, chain.bias_gradients[b++]));
  }
  // The credit solve without the rates (the credit operators' case) reads the drives only.
  const auto from_drives = solvers::relax_credits(circuit, firing.drives, {}, P,
                                                  chain.output_error, options);
  worst = std::max(worst, relative_error(from_drives.credits[0], chain.input_gradient));
  return worst;
}

// The random circuits: every conv parameter range, pooling kind, activation.
std::vector<std::pair<std::vector<Layer>, std::vector<int64_t>>> chains() {
  using A = Activation;
  using K = ProjectionKind;
  return {
      // LeNet-style: conv, max-pool, grouped strided conv, avg-pool, flatten, dense.
      {{conv(4, 3, 1, 1, 1, 1, A::tanh), pool(K::max_pool2d, 2, 2, 0),
        conv(6, 5, 2, 2, 1, 2, A::relu), pool(K::avg_pool2d, 3, 1, 1, 1, A::sigmoid, true),
        flatten(), dense(5, A::tanh)},
       {3, 2, 11, 11}},
      // Depthwise dilated conv, 1x1 strided conv, padded max-pool with a bias, two dense layers.
      {{conv(3, 3, 1, 2, 2, 3, A::elu), conv(6, 1, 2, 0, 1, 1, A::leaky_relu, false),
        pool(K::max_pool2d, 3, 2, 1, 1, A::identity, true), flatten(), dense(7, A::softplus),
        dense(4, A::identity)},
       {2, 3, 10, 10}},
      // relu zeros tie inside dilated max-pool windows; avg-pool without the padding counted.
      {{conv(2, 2, 2, 0, 1, 1, A::relu), pool(K::max_pool2d, 2, 1, 0, 2),
        pool(K::avg_pool2d, 2, 2, 1, 1, A::identity, false, false), flatten(),
        dense(3, A::identity)},
       {4, 1, 12, 12}},
      // Kernel 4, padding 2, groups 2 into a flatten straight to the output.
      {{conv(4, 4, 1, 2, 1, 1, A::tanh), conv(4, 4, 2, 1, 2, 2, A::sigmoid), flatten(),
        dense(2, A::tanh)},
       {2, 2, 9, 9}},
  };
}

class ProjectionKinds
    : public ::testing::TestWithParam<std::tuple<solvers::Method, at::ScalarType>> {};

TEST_P(ProjectionKinds, RelaxedCircuitEqualsAutogradOfFunctionalLayers) {
  const auto [method, dtype] = GetParam();
  const double tolerance = dtype == at::kDouble ? 1e-10 : 1e-4;
  uint64_t seed = 11;
  double worst_of_all = 0.0;
  for (const auto& [layers, shape] : chains()) {
    const auto chain = make_chain(layers, shape, dtype, seed++);
    const double worst = worst_error(chain, method);
    EXPECT_LE(worst, tolerance) << "circuit " << seed - 12 << ", "
                                << solvers::method_name(method);
    worst_of_all = std::max(worst_of_all, worst);
  }
  std::printf("%s %s: worst relative error against autograd %.3g (tolerance %g)\n",
              solvers::method_name(method), dtype == at::kDouble ? "float64" : "float32",
              worst_of_all, tolerance);
}

INSTANTIATE_TEST_SUITE_P(
    MethodsAndDtypes, ProjectionKinds,
    ::testing::Combine(::testing::Values(solvers::Method::sweep, solvers::Method::jacobi,
                                         solvers::Method::euler, solvers::Method::anderson),
                       ::testing::Values(at::kDouble, at::kFloat)),
    [](const auto& info) {
      return std::string(solvers::method_name(std::get<0>(info.param))) +
             (std::get<1>(info.param) == at::kDouble ? "_float64" : "_float32");
    });

// max_pool2d sends each window's credit to the winner PyTorch's max_pool2d picks: with every
// rate equal, all of a window's credit goes to one neuron, as autograd's backward sends it.
TEST(ProjectionKinds, MaxPoolCreditGoesToPyTorchsWinnerOnTies) {
  kernels::Projection projection{0, 1, at::Tensor(), ProjectionKind::max_pool2d, {}};
  projection.geometry.kernel = {2, 2};
  projection.geometry.stride = {2, 2};
  const auto rate = at::zeros({1, 1, 4, 4}, at::kDouble).requires_grad_(true);
  const auto delta = at::arange(1, 5, at::kDouble).view({1, 1, 2, 2});
  at::max_pool2d(rate, {2, 2}, {2, 2}).mul(delta).sum().backward();
  const auto credit = kernels::retrograde(projection, delta, rate.sizes(), rate.detach());
  EXPECT_TRUE(at::equal(credit, rate.grad()));
  EXPECT_EQ(credit.ne(0).sum().item<int64_t>(), 4);  // one winner per window
}

// conv2d's column matrix: M[:, j] = conv(e_j), so that conv(r) = r M^T on flattened rates.
at::Tensor unrolled(const kernels::Projection& projection, const std::vector<int64_t>& pre_shape) {
  const int64_t n = c10::multiply_integers(pre_shape);
  std::vector<int64_t> basis_shape{n};
  basis_shape.insert(basis_shape.end(), pre_shape.begin(), pre_shape.end());
  const auto basis = at::eye(n, projection.weight.options()).view(basis_shape);
  return kernels::transmit(projection, basis).flatten(1).t().contiguous();
}

// A recurrent convolutional population (conv from the input and a conv self-projection, padding
// keeping the size, raw spectral radius 1.1, about 0.75 behind the tanh gate, so that Anderson mixes) read out through a flatten with
// a bias (a population fed by a flatten, which sends it credit, besides its self-projection) and a
// dense layer: every iterative method relaxes rates and credits to those of the dense circuit
// with the convolutions unrolled, whose solves the graph operators' tests check against a dense
// linear solve.
TEST(ProjectionKinds, RecurrentConvolutionEqualsItsUnrolledDenseCircuit) {
  torch::manual_seed(5);
  const auto dtype = at::kDouble;
  const std::vector<int64_t> input_shape{1, 6, 6}, hidden_shape{2, 6, 6};
  kernels::Projection feed{0, 1, at::randn({2, 1, 3, 3}, dtype).mul_(0.3),
                           ProjectionKind::conv2d, {}};
  feed.geometry.padding = {1, 1};
  kernels::Projection loop{1, 1, at::randn({2, 2, 3, 3}, dtype), ProjectionKind::conv2d, {}};
  loop.geometry.padding = {2, 2};
  loop.geometry.dilation = {2, 2};
  const double radius = at::linalg_eigvals(unrolled(loop, hidden_shape)).abs().max().item<double>();
  loop.weight.mul_(1.1 / radius);
  kernels::Projection readout{1, 2, at::Tensor(), ProjectionKind::flatten, {}};
  kernels::Projection out{2, 3, at::randn({4, 72}, dtype).div_(8.0), ProjectionKind::dense, {}};
  const std::vector<c10::optional<at::Tensor>> biases{
      at::randn({2}, dtype).mul_(0.1), at::randn({72}, dtype).mul_(0.1), at::randn({4}, dtype)};
  const std::vector<Activation> activations{Activation::tanh, Activation::identity,
                                            Activation::tanh};
  // The flatten leaves population 1 before its self-projection does: the flatten's credit is the
  // first one summed there.
  const kernels::Circuit convolutional(3, {feed, readout, loop, out}, biases, activations,
                                       {input_shape, hidden_shape, {72}, {4}});
  // The dense twin: population 2 (the flatten) becomes an identity copy through I.
  const auto identity = at::eye(72, dtype);
  const kernels::Circuit twin(
      3,
      {{0, 1, unrolled(feed, input_shape)}, {1, 2, identity},
       {1, 1, unrolled(loop, hidden_shape)}, {2, 3, out.weight}},
      {biases[0]->repeat_interleave(36), biases[1], biases[2]}, activations);
  const auto input = at::randn({3, 1, 6, 6}, dtype);
  const auto error = at::randn({3, 4}, dtype);
  for (auto method : {solvers::Method::jacobi, solvers::Method::euler, solvers::Method::anderson}) {
    const auto options = solver(method, dtype);
    const auto firing = solvers::relax_rates(convolutional, input, options);
    const auto expected = solvers::relax_rates(twin, input.flatten(1), options);
    ASSERT_TRUE(firing.stats.converged) << solvers::method_name(method);
    if (method == solvers::Method::anderson) {
      EXPECT_GT(firing.stats.contraction, solvers::kAndersonWorthwhile);
    }
    EXPECT_EQ(firing.rates[1].sizes(), at::IntArrayRef({3, 2, 6, 6}));
    EXPECT_LE(relative_error(firing.rates[1].flatten(1), expected.rates[1]), 1e-10);
    EXPECT_LE(relative_error(firing.rates[3], expected.rates[3]), 1e-10);
    const auto credits = solvers::relax_credits(convolutional, firing.drives, firing.rates, 3,
                                                error, options);
    const auto twin_credits =
        solvers::relax_credits(twin, expected.drives, expected.rates, 3, error, options);
    ASSERT_TRUE(credits.stats.converged) << solvers::method_name(method);
    EXPECT_LE(relative_error(credits.balance_credits[1].flatten(1),
                             twin_credits.balance_credits[1]), 1e-10)
        << solvers::method_name(method);
    EXPECT_LE(relative_error(credits.credits[0].flatten(1), twin_credits.credits[0]), 1e-10);
    // The conv Hebbian product is the weight gradient of the convolution at these credits.
    const auto w = loop.weight.clone().requires_grad_(true);
    at::conv2d(firing.rates[1], w, {}, 1, 2, 2).mul(credits.balance_credits[1]).sum().backward();
    EXPECT_LE(relative_error(kernels::hebbian(loop, credits.balance_credits[1], firing.rates[1], 1.0),
                             w.grad()), 1e-12);
  }
}

}  // namespace
}  // namespace eiprop
