// Bad input is refused at the operator boundary with a TORCH_CHECK error naming the op, the
// argument and the layer. One test per case.
#include "reference.h"

namespace eiprop {
namespace testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  LayeredCircuit circuit = make_circuit({4, 5, 3}, 6, {"tanh", "identity"}, true, at::kDouble, 1);
  Equilibrium equilibrium =
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations);
  at::Tensor error = circuit.target - equilibrium.rates.back();
  Credits credits =
      credit_relaxation(error, equilibrium.drives, circuit.weights, circuit.activations);

  void equilibrium_fails(const std::vector<std::string>& fragments,
                         const RelaxationOptions& options = {}) {
    expect_error([&] {
      ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations, options);
    }, fragments);
  }
  void credits_fail(const std::vector<std::string>& fragments,
                    const RelaxationOptions& options = {}) {
    expect_error([&] {
      credit_relaxation(error, equilibrium.drives, circuit.weights, circuit.activations, options);
    }, fragments);
  }
  void plasticity_fails(const std::vector<std::string>& fragments) {
    expect_error([&] {
      plasticity(circuit.input, equilibrium.rates, equilibrium.drives, credits.credits,
                 circuit.activations, 0.1);
    }, fragments);
  }
};

constexpr const char* kEquilibrium = "eiprop::ei_equilibrium";
constexpr const char* kCredit = "eiprop::credit_relaxation";
constexpr const char* kPlasticity = "eiprop::plasticity";
constexpr const char* kCurrents = "eiprop::ei_currents";

TEST_F(BadInput, EquilibriumBiasesListTooShort) {
  circuit.biases.pop_back();
  equilibrium_fails({kEquilibrium, "biases has 1 entries", "weights has 2"});
}

TEST_F(BadInput, EquilibriumActivationsListTooLong) {
  circuit.activations.push_back("tanh");
  equilibrium_fails({kEquilibrium, "activations has 3 entries", "weights has 2"});
}

TEST_F(BadInput, EquilibriumEmptyWeights) {
  circuit.weights.clear();
  circuit.biases.clear();
  circuit.activations.clear();
  equilibrium_fails({kEquilibrium, "weights is empty"});
}

TEST_F(BadInput, EquilibriumInputWidthMismatch) {
  circuit.input = at::randn({6, 7}, at::kDouble);
  equilibrium_fails({kEquilibrium, "weights[0] (layer 0)", "[5, 4]", "7 neurons"});
}

TEST_F(BadInput, EquilibriumConsecutiveLayersMismatch) {
  circuit.weights[1] = at::randn({3, 6}, at::kDouble);
  equilibrium_fails({kEquilibrium, "weights[1] (layer 1)", "[3, 6]", "5 neurons"});
}

TEST_F(BadInput, EquilibriumWeightNot2D) {
  circuit.weights[1] = at::randn({15}, at::kDouble);
  equilibrium_fails({kEquilibrium, "weights[1] (layer 1)", "2-D"});
}

TEST_F(BadInput, EquilibriumBiasShapeMismatch) {
  circuit.biases[1] = at::randn({4}, at::kDouble);
  equilibrium_fails({kEquilibrium, "biases[1] (layer 1)", "[4]", "[3]"});
}

TEST_F(BadInput, EquilibriumInputNot2D) {
  circuit.input = at::randn({4}, at::kDouble);
  equilibrium_fails({kEquilibrium, "input", "2-D"});
}

TEST_F(BadInput, EquilibriumUnknownActivation) {
  circuit.activations[1] = "swish";
  equilibrium_fails({kEquilibrium, "activations[1] (layer 1)", "'swish'", "leaky_relu"});
}

TEST_F(BadInput, EquilibriumUnknownMethod) {
  equilibrium_fails({kEquilibrium, "method", "'newton'", "sweep, jacobi, euler"},
                    RelaxationOptions("newton"));
}

TEST_F(BadInput, EquilibriumMixedDtypes) {
  circuit.weights[1] = circuit.weights[1].to(at::kFloat);
  equilibrium_fails({kEquilibrium, "weights[1] (layer 1)", "dtype Float", "Double"});
}

TEST_F(BadInput, EquilibriumMixedDtypeBias) {
  circuit.biases[0] = circuit.biases[0]->to(at::kFloat);
  equilibrium_fails({kEquilibrium, "biases[0] (layer 0)", "dtype Float"});
}

TEST_F(BadInput, EquilibriumMixedDevices) {
  // The meta device stands in for a second device on machines without a GPU (test_cuda.cpp
  // mixes CPU and CUDA). Below autograd, because LibTorch 1.13 has no autograd fallback for
  // the meta device and would refuse the call in the dispatcher, before eiprop sees it.
  c10::InferenceMode below_autograd;
  circuit.weights[1] = at::empty({3, 5}, at::dtype(at::kDouble).device(at::kMeta));
  equilibrium_fails({kEquilibrium, "weights[1] (layer 1)", "meta", "one device"});
}

// Meta tensors (shapes without values) and sparse tensors get eiprop's own message, naming the
// argument, not one from deep inside ATen.
TEST_F(BadInput, MetaAndSparseTensorsAreRefusedNamingTheArgument) {
  auto sparse = circuit;
  sparse.weights[0] = sparse.weights[0].to_sparse();
  expect_error([&] { ei_equilibrium(sparse.input, sparse.weights, sparse.biases,
                                    sparse.activations); },
               {kEquilibrium, "weights[0] (layer 0) must be a dense (strided) tensor",
                "Sparse", ".to_dense()"});
  c10::InferenceMode below_autograd;
  auto meta = circuit;
  meta.input = at::empty({6, 4}, at::dtype(at::kDouble).device(at::kMeta));
  for (auto& weight : meta.weights) weight = at::empty_like(weight, at::device(at::kMeta));
  for (auto& bias : meta.biases) bias = at::empty_like(*bias, at::device(at::kMeta));
  expect_error([&] { ei_equilibrium(meta.input, meta.weights, meta.biases, meta.activations); },
               {kEquilibrium, "input is a meta tensor"});
}

TEST_F(BadInput, EquilibriumIntegerInput) {
  circuit.input = at::ones({6, 4}, at::kLong);
  equilibrium_fails({kEquilibrium, "input", "float32 or float64", "Long"});
}

TEST_F(BadInput, EquilibriumIntegerWeight) {
  circuit.weights[0] = at::ones({5, 4}, at::kInt);
  equilibrium_fails({kEquilibrium, "weights[0] (layer 0)", "float32 or float64", "Int"});
}

TEST_F(BadInput, EquilibriumHalfPrecision) {
  circuit.input = circuit.input.to(at::kHalf);
  equilibrium_fails({kEquilibrium, "input", "float32 or float64", "Half"});
}

TEST_F(BadInput, EquilibriumNonFiniteDt) {
  equilibrium_fails({kEquilibrium, "dt must be finite"},
                    RelaxationOptions("euler").dt(std::numeric_limits<double>::quiet_NaN()));
  equilibrium_fails({kEquilibrium, "dt must be finite"},
                    RelaxationOptions("euler").dt(std::numeric_limits<double>::infinity()));
}

TEST_F(BadInput, EquilibriumDtOutsideUnitInterval) {
  equilibrium_fails({kEquilibrium, "dt must lie in (0, 1]", "1.5"},
                    RelaxationOptions("euler").dt(1.5));
  equilibrium_fails({kEquilibrium, "dt must lie in (0, 1]"}, RelaxationOptions("euler").dt(0));
  equilibrium_fails({kEquilibrium, "dt must lie in (0, 1]"}, RelaxationOptions("euler").dt(-0.5));
}

// A dt below the dtype's resolution is refused up front naming dt, not run into a "diverged"
// with advice about recurrent weights.
TEST_F(BadInput, EquilibriumDtBelowTheDtypeResolution) {
  equilibrium_fails({kEquilibrium, "dt=4.94066e-324 is below the resolution of Double",
                     "lost to round-off"},
                    RelaxationOptions("euler").dt(5e-324));
  circuit.input = circuit.input.to(at::kFloat);
  for (auto& weight : circuit.weights) weight = weight.to(at::kFloat);
  for (auto& bias : circuit.biases) bias = bias->to(at::kFloat);
  equilibrium_fails({kEquilibrium, "dt=1e-08 is below the resolution of Float"},
                    RelaxationOptions("euler").dt(1e-8));
}

// A float32 tolerance below what float32 resolves, on a chain without recurrent weights: the
// solve stalls at round-off and says so, naming tol (not "diverged ... recurrent weights").
TEST_F(BadInput, ToleranceBelowTheDtypeResolutionStallsAtRoundOff) {
  circuit.input = circuit.input.to(at::kFloat);
  for (auto& weight : circuit.weights) weight = weight.to(at::kFloat);
  for (auto& bias : circuit.biases) bias = bias->to(at::kFloat);
  try {
    ei_equilibrium(circuit.input, circuit.weights, circuit.biases, circuit.activations,
                   RelaxationOptions("euler").dt(0.5).tol(1e-9));
    ADD_FAILURE() << "expected an error";
  } catch (const c10::Error& error) {
    const std::string message = error.what_without_backtrace();
    EXPECT_NE(message.find("cannot reach tol=1e-09"), std::string::npos) << message;
    EXPECT_NE(message.find("stalled at round-off"), std::string::npos) << message;
    EXPECT_EQ(message.find("diverged"), std::string::npos) << message;
    EXPECT_EQ(message.find("recurrent weights"), std::string::npos) << message;
  }
}

TEST_F(BadInput, EquilibriumNegativeMaxIters) {
  equilibrium_fails({kEquilibrium, "max_iters must be >= 0", "-1"},
                    RelaxationOptions("euler").max_iters(-1));
}

TEST_F(BadInput, EquilibriumNegativeOrNonFiniteTol) {
  equilibrium_fails({kEquilibrium, "tol must be >= 0"}, RelaxationOptions("euler").tol(-1e-9));
  equilibrium_fails({kEquilibrium, "tol must be finite"},
                    RelaxationOptions("euler").tol(std::numeric_limits<double>::quiet_NaN()));
}

TEST_F(BadInput, CreditDrivesListTooShort) {
  equilibrium.drives.pop_back();
  credits_fail({kCredit, "drives has 1 entries", "weights has 2"});
}

TEST_F(BadInput, CreditActivationsListMismatch) {
  circuit.activations.pop_back();
  credits_fail({kCredit, "activations has 1 entries"});
}

TEST_F(BadInput, CreditDriveShapeMismatch) {
  equilibrium.drives[0] = at::randn({6, 4}, at::kDouble);
  credits_fail({kCredit, "drives[0] (layer 0)", "[6, 4]", "[6, 5]"});
}

TEST_F(BadInput, CreditConsecutiveLayersMismatch) {
  circuit.weights[1] = at::randn({3, 2}, at::kDouble);
  credits_fail({kCredit, "weights[1] (layer 1)", "5 neurons"});
}

TEST_F(BadInput, CreditOutputErrorShapeMismatch) {
  error = at::randn({6, 4}, at::kDouble);
  credits_fail({kCredit, "output_error", "[6, 4]", "[6, 3]"});
}

TEST_F(BadInput, CreditUnknownActivation) {
  circuit.activations[0] = "gelu";
  credits_fail({kCredit, "activations[0] (layer 0)", "'gelu'"});
}

TEST_F(BadInput, CreditUnknownMethod) {
  credits_fail({kCredit, "method", "'adjoint'"}, RelaxationOptions("adjoint"));
}

TEST_F(BadInput, CreditMixedDtypes) {
  equilibrium.drives[1] = equilibrium.drives[1].to(at::kFloat);
  credits_fail({kCredit, "drives[1] (layer 1)", "dtype Float"});
}

TEST_F(BadInput, CreditIntegerError) {
  error = at::zeros({6, 3}, at::kLong);
  credits_fail({kCredit, "output_error", "float32 or float64"});
}

TEST_F(BadInput, CreditNonFiniteDt) {
  credits_fail({kCredit, "dt must be finite"},
               RelaxationOptions("euler").dt(std::numeric_limits<double>::infinity()));
}

TEST_F(BadInput, CreditDtOutsideUnitInterval) {
  credits_fail({kCredit, "dt must lie in (0, 1]"}, RelaxationOptions("euler").dt(2.0));
}

TEST_F(BadInput, PlasticityRatesListTooShort) {
  equilibrium.rates.pop_back();
  plasticity_fails({kPlasticity, "rates has 1 entries", "drives has 2"});
}

TEST_F(BadInput, PlasticityCreditsListTooLong) {
  credits.credits.push_back(credits.credits.back());
  plasticity_fails({kPlasticity, "credits has 3 entries"});
}

TEST_F(BadInput, PlasticityCreditShapeMismatch) {
  credits.credits[1] = at::randn({6, 4}, at::kDouble);
  plasticity_fails({kPlasticity, "credits[1] (layer 1)", "[6, 4]", "[6, 3]"});
}

TEST_F(BadInput, PlasticityBatchMismatch) {
  equilibrium.drives[0] = at::randn({2, 5}, at::kDouble);
  plasticity_fails({kPlasticity, "drives[0] (layer 0)", "batch 6"});
}

TEST_F(BadInput, PlasticityUnknownActivation) {
  circuit.activations[1] = "Tanh";
  plasticity_fails({kPlasticity, "activations[1] (layer 1)", "'Tanh'"});
}

TEST_F(BadInput, PlasticityIntegerRates) {
  equilibrium.rates[0] = at::zeros({6, 5}, at::kInt);
  plasticity_fails({kPlasticity, "rates[0] (layer 0)", "float32 or float64"});
}

TEST_F(BadInput, PlasticityNonFiniteLearningRate) {
  expect_error([&] {
    plasticity(circuit.input, equilibrium.rates, equilibrium.drives, credits.credits,
               circuit.activations, std::numeric_limits<double>::quiet_NaN());
  }, {kPlasticity, "lr must be finite"});
}

TEST_F(BadInput, PlasticityEmptyBatch) {
  expect_error([&] {
    std::vector<at::Tensor> empty_rates, empty_drives, empty_credits;
    for (size_t l = 0; l < 2; ++l) {
      empty_rates.push_back(equilibrium.rates[l].narrow(0, 0, 0));
      empty_drives.push_back(equilibrium.drives[l].narrow(0, 0, 0));
      empty_credits.push_back(credits.credits[l].narrow(0, 0, 0));
    }
    plasticity(circuit.input.narrow(0, 0, 0), empty_rates, empty_drives, empty_credits,
               circuit.activations, 0.1);
  }, {kPlasticity, "empty batch"});
}

TEST_F(BadInput, CurrentsShapeMismatch) {
  expect_error([&] { ei_currents(circuit.input, circuit.weights[1]); },
               {kCurrents, "weight", "[3, 5]", "4 neurons"});
}

TEST_F(BadInput, CurrentsMixedDtypes) {
  expect_error([&] { ei_currents(circuit.input, circuit.weights[0].to(at::kFloat)); },
               {kCurrents, "weight", "dtype Float"});
}

TEST_F(BadInput, CurrentsIntegerRates) {
  expect_error([&] { ei_currents(at::ones({2, 4}, at::kLong), circuit.weights[0]); },
               {kCurrents, "presynaptic_rates", "float32 or float64"});
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
