// The main job of the core: build a random layered circuit, run the rule's three operators
// (E-I equilibrium, credit relaxation, plasticity) and LibTorch autograd on it, and print per
// layer how closely the rule's updates agree with -lr * autograd's gradients, and the time
// each takes.
#include "common/command_line.h"
#include "common/threads.h"
#include <eiprop/eiprop.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace {

// Waits for queued device work so that wall-clock times cover it (a no-op on CPU).
void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double median_ms(int repeats, const torch::Device& device, const std::function<void()>& run) {
  std::vector<double> times;
  run();  // warm-up
  synchronize(device);
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    synchronize(device);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Agreement of the eiprop rule's updates with LibTorch autograd on a random "
               "layered circuit"};
  std::vector<int64_t> widths{784, 256, 128, 10};
  int64_t batch = 64;
  std::string activation = "tanh";
  std::string method = "sweep";
  std::string dtype_name = "float64";
  double lr = 0.1;
  int repeats = 20;
  uint64_t seed = 0;
  std::string device_name = "cpu";
  app.add_option("--widths", widths, "comma-separated population widths N_0,...,N_L")
      ->delimiter(',')
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--batch", batch, "batch size B")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--activation", activation, "activation of every layer but the last (identity)")
      ->capture_default_str();
  app.add_option("--method", method, "relaxation method: sweep, jacobi or euler")
      ->capture_default_str();
  app.add_option("--dtype", dtype_name, "float64 or float32")
      ->capture_default_str()
      ->check(CLI::IsMember({"float64", "float32"}));
  app.add_option("--lr", lr, "learning rate")->capture_default_str();
  app.add_option("--repeats", repeats, "timed repetitions (median reported)")
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  int threads = 0;
  eiprop::examples::add_threads_option(app, threads);
  app.add_option("--device", device_name, "cpu, cuda or cuda:N")
      ->capture_default_str()
      ->check(eiprop::examples::device_name());
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }

  if (widths.size() < 2) {
    return eiprop::examples::usage_error(app, "--widths", "needs at least two populations");
  }
  const auto dtype = dtype_name == "float64" ? torch::kFloat64 : torch::kFloat32;
  const auto thread_choice = eiprop::examples::set_intra_op_threads(threads);
  torch::manual_seed(seed);
  const torch::Device device(device_name);
  if (device.is_cuda() && !torch::cuda::is_available()) {
    return eiprop::examples::usage_error(app, "--device " + device_name,
                                         "is not available: this LibTorch sees no CUDA device");
  }
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  const auto input = torch::randn({batch, widths.front()}, options);
  const auto target = torch::randn({batch, widths.back()}, options);
  std::vector<torch::Tensor> weights;
  std::vector<c10::optional<torch::Tensor>> biases;
  std::vector<std::string> activations;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    weights.push_back(torch::randn({widths[l + 1], widths[l]}, options) /
                      std::sqrt(static_cast<double>(widths[l])));
    biases.push_back(0.1 * torch::randn({widths[l + 1]}, options));
    activations.push_back(l + 2 == widths.size() ? "identity" : activation);
  }

  try {
    const eiprop::RelaxationOptions relaxation(method);
    eiprop::Equilibrium equilibrium;
    eiprop::Credits credits;
    eiprop::Updates updates;
    auto rule = [&] {
      equilibrium = eiprop::ei_equilibrium(input, weights, biases, activations, relaxation);
      credits = eiprop::credit_relaxation(target - equilibrium.rates.back(), equilibrium.drives,
                                          weights, activations, relaxation);
      updates = eiprop::plasticity(input, equilibrium.rates, equilibrium.drives, credits.credits,
                                   activations, lr);
    };
    eiprop::AutogradGradients reference;
    auto autograd = [&] {
      reference = eiprop::autograd_gradients(input, weights, biases, activations, target);
    };
    const double rule_ms = median_ms(repeats, device, rule);
    const double autograd_ms = median_ms(repeats, device, autograd);

    fmt::print("eiprop layered agreement: widths {}, batch {}, {}, method {}, {}, lr {}, {}, "
               "{} intra-op thread(s) ({})\n",
               fmt::join(widths, ","), batch, activation, method, dtype_name, lr, device_name,
               thread_choice.threads, thread_choice.why);
    fmt::print("{:>5}  {:>10}  {:>8}  {:>14}  {:>14}  {:>10}\n", "layer", "activation", "shape",
               "rel.err dW", "rel.err db", "cosine dW");
    double worst = 0.0;
    for (size_t l = 0; l < weights.size(); ++l) {
      const auto expected_w = -lr * reference.weight_grads[l];
      const auto expected_b = -lr * reference.bias_grads[l];
      const double error_w = eiprop::relative_error(updates.weight_updates[l], expected_w);
      const double error_b = eiprop::relative_error(updates.bias_updates[l], expected_b);
      worst = std::max({worst, error_w, error_b});
      fmt::print("{:>5}  {:>10}  {:>8}  {:>14.3e}  {:>14.3e}  {:>10.12f}\n", l, activations[l],
                 fmt::format("{}x{}", widths[l + 1], widths[l]), error_w, error_b,
                 eiprop::cosine_similarity(updates.weight_updates[l], expected_w));
    }
    const double error_x = eiprop::relative_error(
        credits.input_credit, -static_cast<double>(batch) * reference.input_grad);
    fmt::print("input credit vs -B dLoss/dinput: relative error {:.3e}\n", error_x);
    fmt::print("worst relative error: {:.3e}\n", std::max(worst, error_x));
    fmt::print("time per step (median of {}): rule {:.3f} ms (equilibrium {} it, credits {} it), "
               "autograd {:.3f} ms, ratio {:.2f}\n",
               repeats, rule_ms, equilibrium.iterations, credits.iterations, autograd_ms,
               rule_ms / autograd_ms);
  } catch (const c10::Error& error) {
    fmt::print(stderr, "{}\n", error.what_without_backtrace());
    return 1;
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}\n", error.what());
    return 1;
  }
  return 0;
}
