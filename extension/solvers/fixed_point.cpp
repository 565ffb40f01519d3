#include "solvers/fixed_point.h"

#include "solvers/residual.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace eiprop {
namespace solvers {
namespace {

// Anderson acceleration (type II, Walker & Ni 2011) per batch row: with the last n iterates X_i
// and their residuals G_i = T(X_i) - X_i, choose alpha (sum 1) minimising |sum alpha_i G_i| and
// move to sum alpha_i (X_i + beta G_i). Each step adds one row to the Gram matrix of the
// residuals (n dot products per sample) instead of rebuilding it, and
// keeps X_i + beta G_i rather than X_i, so the move is one batched product.
class Anderson {
 public:
  Anderson(const std::vector<at::Tensor>& state, double beta) : beta_(beta) {
    const int64_t batch = state[1].size(0);
    for (size_t p = 1; p < state.size(); ++p) {
      shapes_.push_back(state[p].sizes().vec());  // [B, N] or [B, C, H, W]
      widths_.push_back(c10::multiply_integers(state[p].sizes().slice(1)));
    }
    const int64_t width = std::accumulate(widths_.begin(), widths_.end(), int64_t{0});
    mixed_ = at::zeros({batch, kAndersonMemory, width}, state[1].options());
    residuals_ = at::zeros_like(mixed_);
    gram_ = at::zeros({batch, kAndersonMemory, kAndersonMemory},
                      state[1].options().dtype(at::kDouble));
    // Regularisation of the normal equations relative to the residuals' scale: larger in
    // float32, whose residuals near convergence are rounding noise.
    regularisation_ = state[1].scalar_type() == at::kDouble ? 1e-10 : 1e-5;
  }

  void step(std::vector<at::Tensor>& state, const std::vector<at::Tensor>& targets) {
    // The state is the previous step's combination (its populations are views of it) unless
    // this is the first step.
    const auto x = count_ == 0 ? flatten(state) : next_;
    const auto g = flatten(targets).sub_(x);
    const int64_t slot = count_ % kAndersonMemory;
    ++count_;
    const int64_t n = std::min(count_, kAndersonMemory);
    residuals_.select(1, slot).copy_(g);
    auto mixed = mixed_.select(1, slot);
    at::add_out(mixed, x, g, beta_);
    // The new row (and column) of the Gram matrix, its diagonal entry included: <G_i, g> for
    // i < n, in the state's dtype (converting the residuals to float64 every step made float32
    // Anderson 20 % slower per iteration), kept and solved in float64.
    const auto row =
        at::matmul(residuals_.narrow(1, 0, n), g.unsqueeze(2)).squeeze(2).to(at::kDouble);
    gram_.select(1, slot).narrow(1, 0, n).copy_(row);
    gram_.select(2, slot).narrow(1, 0, n).copy_(row);
    if (n == 1) {
      next_ = mixed_.select(1, slot).clone();
    } else {
      // Normal equations in float64: H alpha' = 1, alpha = alpha' / sum alpha'.
      const auto gram = gram_.narrow(1, 0, n).narrow(2, 0, n);
      const auto scale = gram.diagonal(0, 1, 2).mean(1, /*keepdim=*/true).unsqueeze(2);
      const auto regularised = gram + (regularisation_ * scale + 1e-200) * at::eye(n, gram.options());
      auto alpha = at::linalg_solve(regularised, at::ones({gram.size(0), n, 1}, gram.options()));
      alpha = (alpha / alpha.sum(1, /*keepdim=*/true)).to(x.scalar_type()).transpose(1, 2);
      next_ = at::matmul(alpha, mixed_.narrow(1, 0, n)).squeeze(1);
    }
    // Views, not copies: the map's matrix products read strided rows as they are.
    const auto parts = at::split_with_sizes(next_, widths_, 1);
    for (size_t p = 1; p < state.size(); ++p) state[p] = parts[p - 1].view(shapes_[p - 1]);
  }

 private:
  // [B, sum of N_p]: each population's rates per sample laid out flat, side by side.
  static at::Tensor flatten(const std::vector<at::Tensor>& populations) {
    std::vector<at::Tensor> rows;
    for (size_t p = 1; p < populations.size(); ++p) {
      rows.push_back(populations[p].flatten(1));
    }
    return at::cat(rows, 1);
  }

  double beta_;
  std::vector<std::vector<int64_t>> shapes_;
  std::vector<int64_t> widths_;
  at::Tensor mixed_;      // [B, m, N]: X_i + beta G_i
  at::Tensor residuals_;  // [B, m, N]: G_i
  at::Tensor gram_;       // [B, m, m]: <G_i, G_j>, float64
  at::Tensor next_;       // [B, N]: the last combination, whose views the state holds
  double regularisation_;
  int64_t count_ = 0;
};

// Geometric mean ratio of successive absolute steps over the last (up to) 10 iterations.
double contraction(const std::vector<double>& steps) {
  const auto n = static_cast<int64_t>(steps.size());
  if (n < 2) return 0.0;
  const int64_t span = std::min<int64_t>(10, n - 1);
  const double first = steps[n - 1 - span];
  const double last = steps[n - 1];
  if (!(first > 0) || !std::isfinite(last)) return std::isfinite(last) ? 0.0 : INFINITY;
  return std::pow(last / first, 1.0 / static_cast<double>(span));
}

// Anderson solves the fixed-point equation directly and can land on an equilibrium that the
// dynamics would leave. Power iteration on the Jacobian of the iteration map at the solution, by
// finite differences of the map (exact for the affine credit map), estimates its spectral radius:
// the geometric mean growth per step over the last kMeasured of kSteps steps. A clearly stable
// equilibrium stops early: from step kSettled on, once kQuiet successive growth factors all lie
// below kClearlyStable and none rose over the one before (their mean is the estimate then) (the transient of the starting direction has passed by then; an
// unstable mode would have begun to show). The probe direction is deterministic so the global
// random generator is left alone.
double spectral_radius_at(const FixedPointMap& map, const std::vector<at::Tensor>& solution,
                          const std::vector<at::Tensor>& image, const std::vector<bool>& recurrent) {
  // Power iteration on the Jacobian restricted to the recurrent populations: its spectral
  // radius is the full Jacobian's (block-triangular over the circuit's components), without the
  // transient growth of chains between them.
  const auto probed = [&](size_t p) { return recurrent.empty() || recurrent[p]; };
  constexpr int kSteps = 30;
  constexpr int kMeasured = 10;
  constexpr int kSettled = 12;
  constexpr int kQuiet = 4;
  constexpr double kClearlyStable = 0.8;
  // Largest |entry| over the populations that have entries (a batch of 0 or a population of
  // width 0 has none; with no entries at all there is nothing to probe).
  const auto largest = [&](const std::vector<at::Tensor>& tensors) {
    std::vector<at::Tensor> maxima;
    for (size_t p = 1; p < tensors.size(); ++p) {
      if (probed(p) && tensors[p].numel() > 0) maxima.push_back(tensors[p].abs().max());
    }
    return maxima.empty() ? 0.0 : at::stack(maxima).max().item<double>();
  };
  int64_t entries = 0;
  for (size_t p = 1; p < solution.size(); ++p) entries += probed(p) ? solution[p].numel() : 0;
  if (entries == 0) return 0.0;
  const double scale = largest(solution);
  const double epsilon =
      (solution[1].scalar_type() == at::kDouble ? 1e-6 : 1e-2) * std::max(scale, 1.0);
  std::vector<at::Tensor> direction(solution.size()), mapped(solution.size());
  std::vector<at::Tensor> probe{solution[0]};  // entry 0 (the clamped input) stays as it is
  probe.resize(solution.size());
  for (size_t p = 1; p < solution.size(); ++p) {
    const auto count = solution[p].numel();
    direction[p] = probed(p) ? at::sin(at::arange(count, solution[p].options()) * 0.7 + 0.3 * p)
                                   .reshape(solution[p].sizes())
                             : at::zeros_like(solution[p]);
  }
  // log |J^k v| for k = 0, 1, ...
  std::vector<double> log_norms;
  const auto growth_over = [&](int steps) {
    const auto last = log_norms.size() - 1;
    return std::exp((log_norms[last] - log_norms[last - steps]) / steps);
  };
  for (int step = 0;; ++step) {
    const double norm = largest(direction);
    if (!(norm > 0) || !std::isfinite(norm)) return 0.0;
    log_norms.push_back(std::log(norm));
    if (step == kSteps) return growth_over(kMeasured);
    if (step >= kSettled) {
      // Below kClearlyStable and not rising: a mode that grows shows itself as rising
      // factors while it takes over.
      bool quiet = true;
      for (int i = 0; i < kQuiet; ++i) {
        const auto k = log_norms.size() - 1 - i;
        const double factor = log_norms[k] - log_norms[k - 1];
        const double before = log_norms[k - 1] - log_norms[k - 2];
        quiet = quiet && factor < std::log(kClearlyStable) && factor <= before;
      }
      if (quiet) return growth_over(kQuiet);
    }
    for (size_t p = 1; p < solution.size(); ++p) {
      probe[p] = solution[p] + direction[p] * (epsilon / norm);
    }
    map(probe, mapped);
    for (size_t p = 1; p < solution.size(); ++p) {
      direction[p] = probed(p) ? (mapped[p] - image[p]) * (norm / epsilon)
                               : at::zeros_like(solution[p]);
    }
  }
}

}  // namespace

FixedPointStructure structure_of(const kernels::Circuit& circuit) {
  FixedPointStructure structure;
  structure.depth = std::max<int64_t>(1, circuit.depth());
  for (int64_t p = 0; p <= circuit.populations(); ++p) {
    structure.recurrent.push_back(circuit.recurrent(p));
  }
  return structure;
}

SolverStats relax_to_fixed_point(const FixedPointMap& map, std::vector<at::Tensor>& state,
                                 const SolverOptions& options,
                                 const FixedPointStructure& structure) {
  TORCH_INTERNAL_ASSERT(options.method != Method::sweep, "eiprop: sweep needs an acyclic circuit");
  const double dt = options.method == Method::jacobi ? 1.0 : options.dt;
  const auto stall_iterations = std::max<int64_t>(
      kStallIterations,
      static_cast<int64_t>(std::ceil(static_cast<double>(kStallPerDepth * structure.depth) / dt)));
  // Anderson mixing starts only once plain iteration has proved slow (options.h).
  c10::optional<Anderson> anderson;
  const int64_t anderson_warmup = std::max<int64_t>(kAndersonWarmup, 2 * structure.depth);
  double plain_contraction = 0.0;  // of the plain steps before mixing began
  // Anderson's refinement past tol (options.h): the best iterate so far and when to stop.
  struct Refinement {
    double target = 0.0;
    int64_t until = 0;
    int64_t best_iteration = 0;
    double best_residual = INFINITY;
    std::vector<at::Tensor> best_state;
  };
  c10::optional<Refinement> refinement;

  SolverStats stats;
  stats.converged = false;
  std::vector<at::Tensor> targets(state.size());
  std::vector<double> steps;
  double best = INFINITY;
  int64_t best_iteration = 0;
  double smallest_step = INFINITY;
  std::vector<at::Tensor> last;  // the last iterate (Anderson's stability probe)
  for (int64_t iteration = 1; iteration <= options.max_iters; ++iteration) {
    map(state, targets);
    const auto residual = measure_residual(targets, state);
    stats.iterations = iteration;
    stats.residual = residual.relative;
    steps.push_back(residual.step);
    if (!std::isfinite(residual.relative) && refinement) {
      // The solve had converged: back to its best iterate.
      state = refinement->best_state;
      map(state, targets);
      stats.residual = refinement->best_residual;
      if (options.probe_stability) last = state;
      break;
    }
    if (!std::isfinite(residual.relative)) {
      stats.diverged = true;
      stats.divergence = "the state became non-finite";
      stats.nonfinite_population = first_nonfinite_population(targets);
      // A non-finite clamped input (population 0) is the cause when it is there.
      if (state[0].defined() && !at::isfinite(state[0]).all().item<bool>()) {
        stats.nonfinite_population = 0;
      }
      break;
    }
    if (refinement) {
      if (residual.relative < refinement->best_residual) {
        refinement->best_residual = residual.relative;
        refinement->best_iteration = iteration;
        refinement->best_state = state;
      }
      const bool done = residual.relative <= refinement->target ||
                        iteration >= refinement->until || iteration == options.max_iters ||
                        iteration - refinement->best_iteration >= kAndersonRefinementPatience;
      if (done) {
        if (refinement->best_iteration != iteration) {
          // Back to the best iterate: its image, and what the map records (the drives).
          state = refinement->best_state;
          map(state, targets);
        }
        stats.residual = refinement->best_residual;
        if (options.probe_stability) last = state;
        break;
      }
    } else if (residual.relative <= options.tol) {
      stats.converged = true;
      const double target =
          options.tol * std::max(1.0 - plain_contraction, kAndersonRefinementFloor);
      if (!anderson || residual.relative <= target || iteration == options.max_iters) {
        if (anderson && options.probe_stability) last = state;
        break;
      }
      refinement.emplace();
      refinement->target = target;
      refinement->until = iteration + std::max<int64_t>(kAndersonRefinementPatience, iteration / 2);
      refinement->best_iteration = iteration;
      refinement->best_residual = residual.relative;
      refinement->best_state = state;
    }
    // (A refining solve has converged: it is not judged for stalls or blow-ups.)
    if (!refinement) {
      bool progress = false;
      if (residual.step > 0 && residual.step < smallest_step) {
        smallest_step = residual.step;
        progress = true;
      }
      if (residual.step > kBlowUpFactor * smallest_step) {
        stats.diverged = true;
        stats.divergence = c10::str("its step grew more than ", kBlowUpFactor,
                                    "-fold over the smallest one");
        break;
      }
      if (residual.relative < best) {
        best = residual.relative;
        progress = true;
      }
      if (progress) {
        best_iteration = iteration;
      } else if (iteration - best_iteration >= stall_iterations) {
        stats.diverged = true;
        const double eps = resolution(state[1].scalar_type());
        stats.stalled_at_roundoff =
            options.tol < kRoundOffTolerance * eps && best <= kRoundOffResidual * eps;
        stats.divergence =
            stats.stalled_at_roundoff
                ? c10::str("its residual stalled at round-off (best residual ", best, ", the dtype ",
                           state[1].scalar_type(), " resolves about ", eps, ")")
                : c10::str("neither its residual nor its step improved for ", stall_iterations,
                           " iterations (best residual ", best, ")");
        break;
      }
    }
    if (iteration == options.max_iters) break;
    if (options.method == Method::anderson && !anderson && iteration >= anderson_warmup &&
        contraction(steps) > kAndersonWorthwhile) {
      plain_contraction = contraction(steps);
      anderson.emplace(state, options.dt);
    }
    if (anderson) {
      anderson->step(state, targets);
    } else {
      for (size_t p = 1; p < state.size(); ++p) state[p] = at::lerp(state[p], targets[p], dt);
    }
  }
  stats.contraction = contraction(steps);
  if (!last.empty()) {
    stats.contraction = spectral_radius_at(map, last, targets, structure.recurrent);
    if (stats.contraction >= 1.0) {
      stats.converged = false;
      stats.diverged = true;
      stats.divergence = c10::str(
          "the equilibrium it converged to is unstable: the iteration's Jacobian there has "
          "spectral radius about ",
          stats.contraction, " >= 1, so the firing dynamics would leave it");
    }
    map(last, targets);  // the probe overwrote what the map records (the drives)
  }
  for (size_t p = 1; p < state.size(); ++p) state[p] = std::move(targets[p]);
  return stats;
}

}  // namespace solvers
}  // namespace eiprop
