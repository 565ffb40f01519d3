"""A DEQ-style recurrent circuit: eiprop's graph_circuit with jacobi and anderson against
torchdeq's fixed-point iteration and Anderson solvers (exact implicit gradient, ift=True).

One population of N tanh neurons with a self-projection (the DEQ layer z = tanh(W z + U x + b)),
input 256, a linear readout of 10, batch 64, the squared error against a random target. Each
contestant computes the equilibrium and the gradient of every parameter; all are timed
interleaved in one process (medians, 1 thread by default). Gradient error: the largest relative
error of any parameter's gradient against eiprop jacobi in float64 at tol 1e-14 (the exact
implicit gradient, tested against a dense linear solve). Two circuits per size: `moderate`
(recurrent weight spectral radius 0.5) and `hard` (0.98 with small drives, so that tanh' ~ 1 and
the iteration's Jacobian has spectral radius near 0.96).

torchdeq is not a dependency of eiprop: install it into a folder of its own and put that on
PYTHONPATH (BENCHMARKS.md); without it only eiprop's rows are measured.
"""
import argparse
import random
import statistics
import sys
import time

import torch

import eiprop  # noqa: F401  (loads the ops)

try:
    from torchdeq import get_deq
except ImportError:  # measured without torchdeq's rows
    get_deq = None

E = torch.ops.eiprop
PRE, POST, ACTIVATIONS = [0, 1, 1], [1, 1, 2], ["tanh", "identity"]
INPUT, OUTPUT, BATCH = 256, 10, 64


def circuit(width, case, dtype, seed):
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)
    recurrent = draw(width, width)
    radius = 0.5 if case == "moderate" else 0.98
    recurrent *= radius / torch.linalg.eigvals(recurrent).abs().max().item()
    drive_scale = 1.0 if case == "moderate" else 0.05
    params = {
        "U": draw(width, INPUT) / INPUT ** 0.5 * drive_scale,
        "W": recurrent,
        "b": draw(width) * 0.1 * drive_scale,
        "V": draw(OUTPUT, width) / width ** 0.5,
    }
    x = draw(BATCH, INPUT)
    target = draw(BATCH, OUTPUT)
    return {k: v.to(dtype) for k, v in params.items()}, x.to(dtype), target.to(dtype)


def loss_of(output, target):
    return (target - output).pow(2).sum() / (2 * output.shape[0])


def eiprop_gradients(params, x, target, method, tol):
    leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    output = E.graph_circuit(x, [leaves["U"], leaves["W"], leaves["V"]], [leaves["b"], None],
                             PRE, POST, ACTIVATIONS, 2, method, 0, tol, 1.0)
    loss_of(output, target).backward()
    return {k: v.grad for k, v in leaves.items()}


def torchdeq_gradients(deq, params, x, target):
    leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    injection = x @ leaves["U"].t() + leaves["b"]

    def layer(z):
        return torch.tanh(z @ leaves["W"].t() + injection)
    z_out, _ = deq(layer, torch.zeros(x.shape[0], leaves["W"].shape[0], dtype=x.dtype))
    loss_of(z_out[-1] @ leaves["V"].t(), target).backward()
    return {k: v.grad for k, v in leaves.items()}


def iterations(params, x, method, tol):
    return E.graph_equilibrium(x, [params["U"], params["W"], params["V"]], [params["b"], None],
                               PRE, POST, ACTIVATIONS, method, 0, tol, 1.0, True)[2]


def jacobian_radius(params, x):
    """The iteration map's Jacobian diag(tanh'(u)) W at the equilibrium, sample 0."""
    p64 = {k: v.double() for k, v in params.items()}
    rates, drives, _, _, _ = E.graph_equilibrium(x.double(), [p64["U"], p64["W"], p64["V"]],
                                                 [p64["b"], None], PRE, POST, ACTIVATIONS,
                                                 "jacobi", 0, 1e-14, 1.0, True)
    slope = 1 - torch.tanh(drives[0][0]) ** 2
    return torch.linalg.eigvals(slope[:, None] * p64["W"]).abs().max().item()


def relative_error(gradients, reference):
    return max(((gradients[k].double() - reference[k]).abs().max()
                / reference[k].abs().max()).item() for k in reference)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="256,1024")
    parser.add_argument("--cases", default="moderate,hard")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tol-float64", type=float, default=1e-10)
    parser.add_argument("--tol-float32", type=float, default=1e-5,
                        help="relative residual; 1e-6 stalls at float32 round-off in the hard "
                             "case at N 1024")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    tolerances = {"float64": args.tol_float64, "float32": args.tol_float32}
    print(f"torchdeq: {'not installed' if get_deq is None else 'installed'}; torch "
          f"{torch.__version__}, {args.threads} thread(s)")
    print(f"tol: {args.tol_float64:g} (float64), {args.tol_float32:g} (float32)")
    print(f"{'N':>5} {'case':<9}{'dtype':<8}{'rho(J)':>7}  {'solver':<26}{'iters':>6}"
          f"{'ms':>9}{'/ eiprop jacobi':>16}{'grad error':>12}")
    for width in map(int, args.widths.split(",")):
        for case in args.cases.split(","):
            for dtype_name in args.dtypes.split(","):
                dtype = getattr(torch, dtype_name)
                tol = tolerances[dtype_name]
                params, x, target = circuit(width, case, dtype, args.seed)
                p64 = {k: v.double() for k, v in params.items()}
                reference = eiprop_gradients(p64, x.double(), target.double(), "jacobi", 1e-14)
                radius = jacobian_radius(params, x)
                contestants = {
                    "eiprop jacobi": lambda: eiprop_gradients(params, x, target, "jacobi", tol),
                    "eiprop anderson": lambda: eiprop_gradients(params, x, target, "anderson",
                                                                tol),
                }
                counts = {"eiprop jacobi": iterations(params, x, "jacobi", tol),
                          "eiprop anderson": iterations(params, x, "anderson", tol)}
                if get_deq is not None:
                    for solver in ("fixed_point_iter", "anderson"):
                        deq = get_deq(f_solver=solver, b_solver=solver, f_max_iter=2000,
                                      b_max_iter=2000, f_tol=tol, b_tol=tol, f_stop_mode="rel",
                                      b_stop_mode="rel", ift=True)
                        contestants[f"torchdeq {solver}"] = (
                            lambda deq=deq: torchdeq_gradients(deq, params, x, target))
                        with torch.no_grad():
                            injection = x @ params["U"].t() + params["b"]
                            _, info = deq(lambda z: torch.tanh(z @ params["W"].t() + injection),
                                          torch.zeros(BATCH, width, dtype=dtype))
                        counts[f"torchdeq {solver}"] = int(info["nstep"].max().item())
                errors = {name: relative_error(run(), reference) for name, run in contestants.items()}
                samples = {name: [] for name in contestants}
                order = random.Random(args.seed)
                for _ in range(args.repetitions):
                    names = list(contestants)
                    order.shuffle(names)
                    for name in names:
                        start = time.process_time()
                        contestants[name]()
                        samples[name].append(time.process_time() - start)
                medians = {name: statistics.median(v) for name, v in samples.items()}
                for name in contestants:
                    print(f"{width:>5} {case:<9}{dtype_name:<8}{radius:>7.3f}  {name:<26}"
                          f"{counts[name]:>6}{medians[name] * 1e3:>9.1f}"
                          f"{medians[name] / medians['eiprop jacobi']:>16.2f}"
                          f"{errors[name]:>12.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
