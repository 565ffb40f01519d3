// What every relaxation solver takes and reports (one uniform signature, torchdeq-style).
#pragma once

#include <c10/core/ScalarType.h>
#include <c10/util/Optional.h>

#include <string>
#include <vector>

namespace eiprop {
namespace solvers {

// sweep: one pass in topological order (acyclic circuits only).
// jacobi: synchronous updates x <- T(x); on acyclic circuits a wavefront, exact after depth steps.
// euler: x <- x + dt (T(x) - x), the time-discretised dynamics.
// anderson: Anderson acceleration of x <- T(x) with kAndersonMemory past iterates and mixing dt;
//   on acyclic circuits the jacobi wavefront (already exact).
enum class Method { sweep, jacobi, euler, anderson };

c10::optional<Method> parse_method(const std::string& name);
const char* method_name(Method method);
std::string method_choices();  // "sweep, jacobi, euler, anderson"

struct SolverOptions {
  Method method = Method::sweep;
  int64_t max_iters = 0;  // 0: the method's default (kDefaultMaxIters)
  double tol = 0.0;       // 0: the default for the dtype (kDefaultTol*)
  double dt = 1.0;        // euler step / anderson mixing, in units of the time constant, in (0, 1]
  // Whether an exact schedule scans its result for NaN/Inf (one device synchronisation) and
  // reports it in SolverStats::nonfinite_population. A caller that scans the whole learning step
  // at once (ops/timescales.h: learn) turns it off. Iterative solves see non-finite states in
  // their residual either way.
  bool scan_nonfinite = true;
  // Whether Anderson, once converged, probes the stability of the equilibrium it found (12-30 map
  // evaluations, fixed_point.h). A credit solve at drives that are a firing equilibrium this
  // step has already judged (probed by Anderson, or reached by plain or damped iteration, which
  // converges only where that iteration is stable) turns it off: the credit map's Jacobian
  // W^T D has the firing map's spectral radius (rho(W^T D) = rho(D W)), so the answer is known.
  bool probe_stability = true;
};

constexpr int64_t kDefaultMaxIters = 10000;
constexpr double kDefaultTolFloat64 = 1e-12;
constexpr double kDefaultTolFloat32 = 1e-6;
// Anderson acceleration combines the last kAndersonMemory iterates (per sample).
constexpr int64_t kAndersonMemory = 5;
// Anderson takes plain steps x <- x + dt (T(x) - x) for its first kAndersonWarmup iterations (at
// least twice the circuit's depth) and starts mixing only if their contraction factor exceeds
// kAndersonWorthwhile: an iteration that contracts faster gains too few iterations from mixing
// to pay for its per-sample least squares and for the stability probe at the end (measured:
// benchmarks/python/deq_solvers.py). A solve that never mixes is judged as jacobi's is.
constexpr int64_t kAndersonWarmup = 8;
constexpr double kAndersonWorthwhile = 0.7;
// Mixing removes the fast and the rotating modes of the error and leaves the ones with
// eigenvalues near 1, where a residual r means an error up to r / (1 - rho); plain iteration
// leaves its error spread over the slowest modes of every phase, where the residual is about
// the error. So once Anderson has met tol it goes on toward tol * max(1 - rho,
// kAndersonRefinementFloor), rho the plain steps' contraction factor, for at most half again
// its iterations and while its residual improves within kAndersonRefinementPatience iterations,
// and returns its best iterate: as accurate as jacobi at the same tol (measured:
// benchmarks/python/deq_solvers.py). It has already converged; the refinement never raises.
constexpr double kAndersonRefinementFloor = 0.02;
constexpr int64_t kAndersonRefinementPatience = 10;
// An iterative solve is stopped as diverged when neither its relative residual nor its absolute
// step has improved on its best for kStallIterations iterations (a limit cycle, an oscillation),
// or when its absolute step has grown kBlowUpFactor-fold over the smallest step so far (an
// unstable equilibrium running away). Anderson, which can converge to an unstable equilibrium,
// then estimates the spectral radius of the iteration's Jacobian by power iteration and reports
// an equilibrium with radius >= 1 as diverged.
constexpr int64_t kStallIterations = 200;
// ... and at least kStallPerDepth iterations per population of the circuit's depth (divided by
// dt): the transient of a signal crossing a deep circuit (fixed_point.h).
constexpr int64_t kStallPerDepth = 2;
constexpr double kBlowUpFactor = 1e8;

// The dtype's resolution (machine epsilon): 1.2e-7 for float32, 2.2e-16 for float64. A relative
// residual stalls within a small multiple of it.
double resolution(c10::ScalarType dtype);
// A solve that stalls with tol below kRoundOffTolerance resolutions and its best residual within
// kRoundOffResidual resolutions has stalled at round-off, not diverged.
constexpr double kRoundOffTolerance = 10.0;
constexpr double kRoundOffResidual = 1000.0;

// Replaces 0 by the documented defaults for this dtype.
SolverOptions resolve_defaults(SolverOptions options, c10::ScalarType dtype);

struct SolverStats {
  int64_t iterations = 0;  // synchronous updates (sweep: 1 pass)
  double residual = 0.0;   // relative residual (solvers/residual.h) at the last iteration
  bool converged = true;
  // Stopped early: the state became non-finite, blew up or stopped improving; `divergence` says
  // which (empty otherwise).
  bool diverged = false;
  std::string divergence;
  // Stalled at round-off: the residual stopped improving at the dtype's resolution while tol
  // asks for less than it resolves (not a divergence of the dynamics).
  bool stalled_at_roundoff = false;
  // The population (1..P) whose state first became non-finite, or -1.
  int64_t nonfinite_population = -1;
  // Estimated contraction factor of the iteration (geometric mean ratio of successive absolute
  // steps over the last iterations; for anderson, the power-iteration estimate at the solution):
  // the spectral radius of the iteration map near a fixed point. 0 when not measured (exact
  // schedules).
  double contraction = 0.0;
};

}  // namespace solvers
}  // namespace eiprop
