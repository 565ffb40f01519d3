"""One training step from Python, each path against autograd, interleaved in one process.

Per shape (widths W0..WL, batch B; tanh hidden layers, identity output, the squared error
1/(2B) sum ||y - r_L||^2, float32 by default) and solver method, these contestants each take one
SGD step with lr on the same batches from the same initial weights:

  autograd        nn.Linear/Tanh stack + backward() + torch.optim.SGD (the reference)
  learning_step   torch.ops.eiprop.learning_step: the rule's step in place
  scripted        the same op called from a torch.jit.script module's method
  three_ops       ei_equilibrium -> credit_relaxation(input_credit=False) -> plasticity, then
                  add_ of the updates
  circuit         eiprop.nn.BalancedMLP (credit learning) + backward() + torch.optim.SGD
  mm              torch.mm on the step's matrix products alone (the GEMM ceiling)

Every repetition runs every contestant once, in a fresh random order, after --warmup untimed
steps of each; the table shows medians and the ratio of medians to autograd's. GEMM % is the
step's matrix-product FLOPs (per layer the drive, the Hebbian product and, above the input
layer, the retrograde credit: the products autograd makes) per second, relative to `mm`'s.
`weight diff` is each path's relative weight difference from autograd's after all steps.
"""
import argparse
import ctypes
import json
import platform
import random
import resource
import statistics
import sys
import time
from typing import List, Optional

import torch
from torch import Tensor

import eiprop

STANDARD_SHAPES = ["784,256,10:64", "1024,1024,1024,1024,1024:256", "4096,4096,4096:1024"]
RULE_PATHS = ["learning_step", "scripted", "three_ops", "circuit"]
TARGETS = {"learning_step": 0.90, "scripted": 0.90, "three_ops": 1.05, "circuit": 1.02}


def parse_shape(text: str):
    widths, _, batch = text.partition(":")
    try:
        parsed = [int(w) for w in widths.split(",")], int(batch)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"shape '{text}': expected widths then the batch, e.g. 784,256,10:64") from None
    if len(parsed[0]) < 2 or min(parsed[0]) < 1 or parsed[1] < 1:
        raise argparse.ArgumentTypeError(f"shape '{text}': needs >= 2 positive widths and a batch")
    return parsed


def shape_name(widths, batch):
    body = "-".join(map(str, widths))
    if len(set(widths)) == 1:
        body = f"{widths[0]}x{len(widths)}"
    return f"{body} B={batch}"


class ScriptedStep(torch.nn.Module):
    """A TorchScript user's module: its `step` calls the op."""

    def __init__(self, layers: List[torch.nn.Linear], activations: List[str], lr: float,
                 method: str):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)
        self.activations = activations
        self.lr = lr
        self.method = method

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        weights = [layer.weight for layer in self.layers]
        biases: List[Optional[Tensor]] = [layer.bias for layer in self.layers]
        with torch.no_grad():
            output, _, _, _, _ = torch.ops.eiprop.learning_step(
                x, y, weights, biases, self.activations, self.lr, "squared_error", self.method,
                0, 0.0, 1.0)
        return output


def linear_stack(widths, dtype, seed):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(widths[i], widths[i + 1]).to(dtype) for i in range(len(widths) - 1)]
    return layers


def contestants(widths, batch, method, lr, dtype, seed):
    activations = ["tanh"] * (len(widths) - 2) + ["identity"]
    steps = {}

    layers = linear_stack(widths, dtype, seed)
    modules = []
    for i, layer in enumerate(layers):
        modules.append(layer)
        if i < len(layers) - 1:
            modules.append(torch.nn.Tanh())
    reference = torch.nn.Sequential(*modules)
    sgd = torch.optim.SGD(reference.parameters(), lr=lr)

    def autograd(x, y):
        sgd.zero_grad(set_to_none=True)
        ((y - reference(x)).pow(2).sum() / (2 * batch)).backward()
        sgd.step()
    steps["autograd"] = (autograd, layers)

    op_layers = linear_stack(widths, dtype, seed)
    op_weights = [layer.weight.detach() for layer in op_layers]
    op_biases = [layer.bias.detach() for layer in op_layers]

    def learning_step(x, y):
        torch.ops.eiprop.learning_step(x, y, op_weights, op_biases, activations, lr,
                                       "squared_error", method)
    steps["learning_step"] = (learning_step, op_layers)

    scripted_layers = linear_stack(widths, dtype, seed)
    scripted = torch.jit.script(ScriptedStep(scripted_layers, activations, lr, method))
    steps["scripted"] = (lambda x, y: scripted(x, y), scripted_layers)

    three_layers = linear_stack(widths, dtype, seed)
    three_weights = [layer.weight.detach() for layer in three_layers]
    three_biases = [layer.bias.detach() for layer in three_layers]
    E = torch.ops.eiprop

    def three_ops(x, y):
        rates, drives, _, _ = E.ei_equilibrium(x, three_weights, three_biases, activations,
                                               method)
        credits = E.credit_relaxation(y - rates[-1], drives, three_weights, activations, method,
                                      0, 0.0, 1.0, False)[0]
        weight_updates, bias_updates = E.plasticity(x, rates, drives, credits, activations, lr)
        for parameter, update in zip(three_weights + three_biases, weight_updates + bias_updates):
            parameter.add_(update)
    steps["three_ops"] = (three_ops, three_layers)

    mlp = eiprop.nn.BalancedMLP(widths, activation="tanh", output_activation="identity",
                                method=method).to(dtype)
    with torch.no_grad():
        for mine, theirs in zip(mlp.layers, linear_stack(widths, dtype, seed)):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
    mlp_sgd = torch.optim.SGD(mlp.parameters(), lr=lr)

    def circuit(x, y):
        mlp_sgd.zero_grad(set_to_none=True)
        ((y - mlp(x)).pow(2).sum() / (2 * batch)).backward()
        mlp_sgd.step()
    steps["circuit"] = (circuit, mlp.layers)
    return steps


def gemm_flops(widths, batch):
    flops = 0
    for layer in range(len(widths) - 1):
        products = 3 if layer > 0 else 2
        flops += products * 2 * batch * widths[layer] * widths[layer + 1]
    return flops


def mm_contestant(widths, batch, dtype):
    """The step's products by torch.mm into preallocated outputs."""
    products = []
    for layer in range(len(widths) - 1):
        n_in, n_out = widths[layer], widths[layer + 1]
        r, w, d = (torch.randn(batch, n_in, dtype=dtype), torch.randn(n_out, n_in, dtype=dtype),
                   torch.randn(batch, n_out, dtype=dtype))
        products.append((r, w.t(), torch.empty(batch, n_out, dtype=dtype)))  # drive
        products.append((d.t(), r, torch.empty(n_out, n_in, dtype=dtype)))  # Hebbian
        if layer > 0:
            products.append((d, w, torch.empty(batch, n_in, dtype=dtype)))  # credit

    def run(x, y):
        for a, b, out in products:
            torch.mm(a, b, out=out)
    return run


def relative_difference(layers, reference_layers):
    gap, scale = 0.0, 0.0
    for mine, theirs in zip(layers, reference_layers):
        for a, b in ((mine.weight, theirs.weight), (mine.bias, theirs.bias)):
            gap = max(gap, (a.detach() - b.detach()).abs().max().item())
            scale = max(scale, b.detach().abs().max().item())
    return gap / scale if scale > 0 else gap


def interleaved(timed, batches, args, clock):
    """Every repetition runs every contestant (timed[key](x, y)) once, in a fresh random order
    (seeded by args.seed), on the repetition's batch; args.warmup repetitions are not timed.
    Returns (median seconds, samples, page faults per step) per key: the faults are the minor
    page faults the process took during the key's timed steps (memory the allocator had given
    back to the system and took again), averaged."""
    samples = {key: [] for key in timed}
    faults = {key: 0 for key in timed}
    order = random.Random(args.seed)
    for repetition in range(args.warmup + args.repetitions):
        keys = list(timed)
        order.shuffle(keys)
        x, y = batches[repetition % len(batches)]
        for key in keys:
            faulted = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = clock()
            timed[key](x, y)
            elapsed = clock() - start
            if repetition >= args.warmup:
                samples[key].append(elapsed)
                faults[key] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faulted
    return ({key: statistics.median(values) for key, values in samples.items()}, samples,
            {key: count / args.repetitions for key, count in faults.items()})


def timing_arguments(parser):
    """The flags of an interleaved timing run (this script and cnn_step_ratio.py)."""
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu: the process's CPU time (leaves out time given to others)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write the rows and the machine's context here")
    parser.add_argument("--heap", choices=["trimmed", "kept"], default="trimmed",
                        help="trimmed: glibc malloc's defaults, which give freed memory at the "
                        "top of the heap back to the system, so a step may pay page faults to "
                        "take it again; kept: no trimming and no mmap below 32 MiB (mallopt), "
                        "so that no contestant pays for that")


# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def start_timing(parser, args):
    """Checks the timing flags, sets the threads and the heap policy; returns the clock."""
    if args.repetitions < 1 or args.warmup < 0:
        parser.error("--repetitions must be >= 1 and --warmup >= 0")
    if args.heap == "kept":
        try:
            libc = ctypes.CDLL("libc.so.6")
            kept = (libc.mallopt(M_TRIM_THRESHOLD, 2**30) == 1 and
                    libc.mallopt(M_MMAP_THRESHOLD, 32 * 2**20) == 1)
        except (OSError, AttributeError):
            kept = False
        if not kept:
            parser.error("--heap kept needs glibc's malloc (mallopt)")
    torch.set_num_threads(args.threads)
    return time.process_time if args.clock == "cpu" else time.perf_counter


def write_json(args, rows, **context):
    """The rows and the machine's context, to --json (when given)."""
    if not args.json:
        return
    context.update({"torch": torch.__version__, "threads": torch.get_num_threads(),
                    "clock": args.clock, "heap": args.heap, "machine": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0], "eiprop": eiprop.build_info()})
    with open(args.json, "w") as out:
        json.dump({"context": context, "rows": rows}, out, indent=1, default=str)


def measure(widths, batch, methods, args, dtype, clock):
    name = shape_name(widths, batch)
    generator = torch.Generator().manual_seed(args.seed)
    batches = [(torch.randn(batch, widths[0], generator=generator, dtype=dtype),
                torch.randn(batch, widths[-1], generator=generator, dtype=dtype))
               for _ in range(4)]
    timed = {}
    weights = {}
    for method in methods:
        for path, (step, layers) in contestants(widths, batch, method, args.lr, dtype,
                                                args.seed).items():
            if path == "autograd" and method != methods[0]:
                continue
            if path != "autograd" and path not in args.paths:
                continue
            key = "autograd" if path == "autograd" else (method, path)
            timed[key] = step
            weights[key] = layers
    timed["mm"] = mm_contestant(widths, batch, dtype)
    medians, samples, faults = interleaved(timed, batches, args, clock)
    flops = gemm_flops(widths, batch)
    mm_rate = flops / medians["mm"]
    rows = []
    for key in timed:
        if key in ("autograd", "mm"):
            continue
        method, path = key
        ratio = medians[key] / medians["autograd"]
        rows.append({
            "shape": name, "method": method, "path": path,
            "step_ms": medians[key] * 1e3, "autograd_ms": medians["autograd"] * 1e3,
            "ratio": ratio, "target": TARGETS[path], "meets_target": ratio <= TARGETS[path],
            "gemm_percent_of_mm": 100 * (flops / medians[key]) / mm_rate,
            "autograd_gemm_percent_of_mm": 100 * (flops / medians["autograd"]) / mm_rate,
            "weight_difference": relative_difference(weights[key], weights["autograd"]),
            "page_faults_per_step": faults[key],
            "autograd_page_faults_per_step": faults["autograd"],
            "repetitions": len(samples[key]),
        })
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", action="append", type=parse_shape,
                        help="W0,W1,...:B (repeatable; default the three standard shapes)")
    parser.add_argument("--methods", default="sweep,jacobi")
    parser.add_argument("--paths", default=",".join(RULE_PATHS))
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    timing_arguments(parser)
    args = parser.parse_args(argv)
    args.paths = args.paths.split(",")
    unknown = set(args.paths) - set(RULE_PATHS)
    if unknown:
        parser.error(f"--paths: {sorted(unknown)} not among {RULE_PATHS}")
    methods = args.methods.split(",")
    clock = start_timing(parser, args)
    dtype = getattr(torch, args.dtype)
    shapes = args.shapes or [parse_shape(s) for s in STANDARD_SHAPES]

    rows = []
    print(f"{'shape':<18}{'method':<8}{'path':<15}{'step ms':>9}{'autograd ms':>12}"
          f"{'ratio':>7}{'target':>9}{'GEMM %':>8}{'autograd %':>11}{'weight diff':>12}")
    for widths, batch in shapes:
        for row in measure(widths, batch, methods, args, dtype, clock):
            rows.append(row)
            target = ("" if row["meets_target"] else "MISS") + f"<={row['target']:.2f}"
            print(f"{row['shape']:<18}{row['method']:<8}{row['path']:<15}{row['step_ms']:>9.3f}"
                  f"{row['autograd_ms']:>12.3f}{row['ratio']:>7.3f}{target:>9}"
                  f"{row['gemm_percent_of_mm']:>7.0f}%{row['autograd_gemm_percent_of_mm']:>10.0f}%"
                  f"{row['weight_difference']:>12.1e}", flush=True)
    write_json(args, rows, dtype=args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
