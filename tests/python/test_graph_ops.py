"""The graph operators from Python and TorchScript.

A recurrent circuit (input -> hidden, hidden -> hidden, hidden -> output, output -> hidden) in
float64: eiprop.graph_circuit's backward (credit relaxation) against autograd through 2000
unrolled firing iterations, eagerly and scripted; the three-op rule against the same; the
statistics and the strict flag; a refused malformed graph.
"""
import argparse
import sys
from typing import List, Optional

import torch
from torch import Tensor

PRE = [0, 1, 1, 2]
POST = [1, 1, 2, 1]
ACTIVATIONS = ["tanh", "identity"]
OUTPUT = 2


class RecurrentNet(torch.nn.Module):
    def __init__(self, weights: List[Tensor], biases: List[Tensor], method: str):
        super().__init__()
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(w.clone()) for w in weights])
        self.biases = torch.nn.ParameterList([torch.nn.Parameter(b.clone()) for b in biases])
        self.method = method
        self.pre: List[int] = PRE
        self.post: List[int] = POST
        self.activations: List[str] = ACTIVATIONS
        self.output: int = OUTPUT

    def forward(self, x: Tensor) -> Tensor:
        weights: List[Tensor] = [w for w in self.weights]
        biases: List[Optional[Tensor]] = [b for b in self.biases]
        return torch.ops.eiprop.graph_circuit(x, weights, biases, self.pre, self.post,
                                              self.activations, self.output, self.method, 0, 1e-14)


def unrolled(x, weights, biases, iterations):
    """Backprop-able synchronous iterations from rest."""
    rates = [x, torch.zeros(x.shape[0], weights[0].shape[0], dtype=x.dtype),
             torch.zeros(x.shape[0], weights[2].shape[0], dtype=x.dtype)]
    functions = {"tanh": torch.tanh, "identity": lambda u: u}
    for _ in range(iterations):
        nxt = [x]
        for p in (1, 2):
            drive = biases[p - 1].unsqueeze(0)
            for k in range(len(PRE)):
                if POST[k] == p:
                    drive = drive + rates[PRE[k]] @ weights[k].t()
            nxt.append(functions[ACTIVATIONS[p - 1]](drive))
        rates = nxt
    return rates


def relative_error(actual: Tensor, expected: Tensor) -> float:
    gap = (actual - expected).abs().max().item()
    return 0.0 if gap == 0 else gap / expected.abs().max().item()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", required=True, help="path of the eiprop shared library")
    args = parser.parse_args()
    torch.ops.load_library(args.library)

    gen = torch.Generator().manual_seed(4)
    widths = [5, 9, 3]
    x = torch.randn(6, widths[0], generator=gen, dtype=torch.float64)
    y = torch.randn(6, widths[2], generator=gen, dtype=torch.float64)
    weights = [torch.randn(widths[post], widths[pre], generator=gen, dtype=torch.float64)
               * (0.5 if post <= pre else 1.0) / widths[pre] ** 0.5
               for pre, post in zip(PRE, POST)]
    biases = [0.1 * torch.randn(widths[p], generator=gen, dtype=torch.float64) for p in (1, 2)]
    failures = []

    def check(name: str, error: float, tol: float):
        status = "ok" if error <= tol else "FAILED"
        print(f"{name}: {error:.2e} ({status}, tol {tol:.0e})")
        if error > tol:
            failures.append(name)

    # The reference: autograd through 2000 unrolled iterations (contraction < 0.9 per step).
    ws = [w.clone().requires_grad_(True) for w in weights]
    bs = [b.clone().requires_grad_(True) for b in biases]
    reference_out = unrolled(x, ws, bs, 2000)[OUTPUT]
    ((y - reference_out).pow(2).sum() / (2 * x.shape[0])).backward()
    expected = [w.grad for w in ws] + [b.grad for b in bs]

    for method in ("jacobi", "anderson"):
        for name, net in (("eager", RecurrentNet(weights, biases, method)),
                          ("scripted", torch.jit.script(RecurrentNet(weights, biases, method)))):
            out = net(x)
            check(f"{method} {name}: output vs unrolled", relative_error(out, reference_out), 1e-12)
            ((y - out).pow(2).sum() / (2 * x.shape[0])).backward()
            grads = [p.grad for p in net.parameters()]  # weights, then biases
            check(f"{method} {name}: gradients vs unrolled autograd",
                  max(relative_error(g, e) for g, e in zip(grads, expected)), 1e-9)

    rates, drives, iterations, residual, converged = torch.ops.eiprop.graph_equilibrium(
        x, weights, biases, PRE, POST, ACTIVATIONS, "anderson", 0, 1e-14)
    check("graph_equilibrium converged with residual <= tol",
          0.0 if converged and residual <= 1e-14 and iterations > 1 else 1.0, 0)
    credits, input_credit, _, _, _ = torch.ops.eiprop.graph_credit_relaxation(
        y - rates[OUTPUT - 1], OUTPUT, drives, weights, PRE, POST, ACTIVATIONS, "anderson", 0, 1e-14)
    updates, bias_updates = torch.ops.eiprop.graph_plasticity(
        x, rates, drives, credits, PRE, POST, ACTIVATIONS, 0.1)
    check("graph_plasticity vs -lr * unrolled autograd",
          max(relative_error(u, -0.1 * e) for u, e in zip(updates + bias_updates, expected)), 1e-9)

    *_, unconverged = torch.ops.eiprop.graph_equilibrium(
        x, weights, biases, PRE, POST, ACTIVATIONS, "jacobi", 2, 0.0, 1.0, False)
    check("strict=False returns converged=False", 0.0 if not unconverged else 1.0, 0)
    try:
        torch.ops.eiprop.graph_equilibrium(x, weights, biases, PRE, [1, 1, 2, 0], ACTIVATIONS)
        failures.append("a projection into the input accepted")
    except RuntimeError as error:
        check("error names op and projection",
              0.0 if all(s in str(error) for s in ("eiprop::graph_equilibrium", "post[3]")) else 1.0,
              0)

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
