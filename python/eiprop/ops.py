"""Typed wrappers over the operators ``torch.ops.eiprop.*`` (docs/theory.md has the rule).

Each wrapper calls its operator with the same arguments; the operator's schema (shown at the end
of each docstring) is the source of truth, and the defaults here are the schema's (a test checks
that they agree). Populations are numbered 0 (the input) .. P; lists indexed by population hold
populations 1..P. Weights have ``torch.nn.Linear``'s layout ``[N_post, N_pre]``; with
``projections`` (:mod:`eiprop.projections`: one entry per weight, None for all dense) a weight may
also be a ``torch.nn.Conv2d`` weight, or an empty placeholder for a pooling or flatten
projection, and populations may be ``[B, C, H, W]``.

``circuit``, ``graph_circuit``, ``plasticity``, ``graph_plasticity`` and ``ei_currents`` return
tensors only and trace into ``torch.compile`` / ``torch.export`` graphs. The relaxations also
(and the learning steps) return solver statistics, values known only after the solve: their fake kernels say so
(DataDependentOutputException), so under ``torch.compile`` they run eagerly (a graph break),
and ``fullgraph=True`` or ``torch.export`` refuses them naming the op.
"""
from typing import List, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

def _kinds(projections: Optional[Sequence[str]]) -> Optional[List[str]]:
    return None if projections is None else list(projections)


class Equilibrium(NamedTuple):
    rates: List[Tensor]  # populations 1..P, [B, N_p]
    drives: List[Tensor]  # u_p, the input current before the activation
    iterations: int
    residual: float
    converged: bool = True  # the layered op raises instead of returning False


class Credits(NamedTuple):
    credits: List[Tensor]  # populations 1..P
    input_credit: Optional[Tensor]  # the input population's (= -B dLoss/dinput); None if skipped
    iterations: int
    residual: float
    converged: bool = True


class LearningStep(NamedTuple):
    output: Tensor  # the output population's rates before the update
    rate_iterations: int
    rate_residual: float
    credit_iterations: int
    credit_residual: float


class Updates(NamedTuple):
    weight_updates: List[Tensor]  # per projection, lr/B * delta_post^T r_pre
    bias_updates: List[Tensor]  # per population 1..P


def ei_equilibrium(input: Tensor, weights: Sequence[Tensor],
                   biases: Sequence[Optional[Tensor]], activations: Sequence[str],
                   method: str = "sweep", max_iters: int = 0, tol: float = 0.0,
                   dt: float = 1.0,
                   projections: Optional[Sequence[str]] = None) -> Equilibrium:
    """Fast timescale of a layered circuit: every layer's rates and drives at the E-I
    equilibrium, with the solver's iterations and final residual."""
    rates, drives, iterations, residual = torch.ops.eiprop.ei_equilibrium(
        input, list(weights), list(biases), list(activations), method, max_iters, tol, dt,
        _kinds(projections))
    return Equilibrium(rates, drives, iterations, residual)


def credit_relaxation(output_error: Tensor, drives: Sequence[Tensor], weights: Sequence[Tensor],
                      activations: Sequence[str], method: str = "sweep", max_iters: int = 0,
                      tol: float = 0.0, dt: float = 1.0, input_credit: bool = True,
                      projections: Optional[Sequence[str]] = None) -> Credits:
    """Middle timescale of a layered circuit: the credits received by retrograde signalling from
    the output imbalance ``output_error`` (e = -B dLoss/dr_out). ``input_credit=False`` skips the
    input population's credit (returned as None), which learning does not need."""
    credits, input, iterations, residual = torch.ops.eiprop.credit_relaxation(
        output_error, list(drives), list(weights), list(activations), method, max_iters, tol, dt,
        input_credit, _kinds(projections))
    return Credits(credits, input, iterations, residual)


def plasticity(input: Tensor, rates: Sequence[Tensor], drives: Sequence[Tensor],
               credits: Sequence[Tensor], activations: Sequence[str], lr: float,
               projections: Optional[Sequence[str]] = None) -> Updates:
    """Slow timescale of a layered circuit: the Hebbian updates lr/B * delta^T r (add them to
    the weights and biases to learn)."""
    return Updates(*torch.ops.eiprop.plasticity(input, list(rates), list(drives), list(credits),
                                                list(activations), lr, _kinds(projections)))


def circuit(input: Tensor, weights: Sequence[Tensor], biases: Sequence[Optional[Tensor]],
            activations: Sequence[str], method: str = "sweep", max_iters: int = 0,
            tol: float = 0.0, dt: float = 1.0,
            projections: Optional[Sequence[str]] = None) -> Tensor:
    """The output layer's equilibrium rates of a layered circuit, differentiable: its backward is
    credit relaxation, and the gradients equal autograd's through the same layers."""
    return torch.ops.eiprop.circuit(input, list(weights), list(biases), list(activations),
                                    method, max_iters, tol, dt, _kinds(projections))


def graph_equilibrium(input: Tensor, weights: Sequence[Tensor],
                      biases: Sequence[Optional[Tensor]], pre: Sequence[int], post: Sequence[int],
                      activations: Sequence[str], method: str = "jacobi", max_iters: int = 0,
                      tol: float = 0.0, dt: float = 1.0, strict: bool = True,
                      projections: Optional[Sequence[str]] = None) -> Equilibrium:
    """Fast timescale of a circuit graph (projection k runs pre[k] -> post[k], cycles allowed).
    With strict=False a solve that did not converge returns converged=False instead of
    raising."""
    return Equilibrium(*torch.ops.eiprop.graph_equilibrium(
        input, list(weights), list(biases), list(pre), list(post), list(activations), method,
        max_iters, tol, dt, strict, _kinds(projections)))


def graph_credit_relaxation(output_error: Tensor, output: int, drives: Sequence[Tensor],
                            weights: Sequence[Tensor], pre: Sequence[int], post: Sequence[int],
                            activations: Sequence[str], method: str = "jacobi",
                            max_iters: int = 0, tol: float = 0.0, dt: float = 1.0,
                            strict: bool = True, input_credit: bool = True,
                            projections: Optional[Sequence[str]] = None) -> Credits:
    """Middle timescale of a circuit graph, from the imbalance of population ``output``
    (``input_credit`` as for :func:`credit_relaxation`)."""
    return Credits(*torch.ops.eiprop.graph_credit_relaxation(
        output_error, output, list(drives), list(weights), list(pre), list(post),
        list(activations), method, max_iters, tol, dt, strict, input_credit, _kinds(projections)))


def graph_plasticity(input: Tensor, rates: Sequence[Tensor], drives: Sequence[Tensor],
                     credits: Sequence[Tensor], pre: Sequence[int], post: Sequence[int],
                     activations: Sequence[str], lr: float,
                     projections: Optional[Sequence[str]] = None) -> Updates:
    """Slow timescale of a circuit graph: one weight update per projection, one bias update per
    population."""
    return Updates(*torch.ops.eiprop.graph_plasticity(
        input, list(rates), list(drives), list(credits), list(pre), list(post),
        list(activations), lr, _kinds(projections)))


def graph_circuit(input: Tensor, weights: Sequence[Tensor], biases: Sequence[Optional[Tensor]],
                  pre: Sequence[int], post: Sequence[int], activations: Sequence[str],
                  output: int, method: str = "jacobi", max_iters: int = 0, tol: float = 0.0,
                  dt: float = 1.0,
                  projections: Optional[Sequence[str]] = None) -> Tensor:
    """Population ``output``'s equilibrium rates of a circuit graph, differentiable: its backward
    is credit relaxation, the exact implicit gradient at the equilibrium of a recurrent
    circuit."""
    return torch.ops.eiprop.graph_circuit(input, list(weights), list(biases), list(pre),
                                          list(post), list(activations), output, method,
                                          max_iters, tol, dt, _kinds(projections))


def learning_step(input: Tensor, target: Tensor, weights: Sequence[Tensor],
                  biases: Sequence[Optional[Tensor]], activations: Sequence[str], lr: float,
                  loss: str, method: str = "sweep", max_iters: int = 0, tol: float = 0.0,
                  dt: float = 1.0,
                  projections: Optional[Sequence[str]] = None) -> LearningStep:
    """One step of the rule on a layered circuit, applied in place: ``weights`` and ``biases``
    (nn.Linear layout; Parameters are fine, the step runs under ``torch.no_grad()`` as an
    optimizer's does) get ``-lr`` times the gradient of the loss, with no input credit and no
    update tensors. ``loss``: ``"squared_error"`` (1/(2B) sum ||target - r||^2) or
    ``"cross_entropy"`` (``torch.nn.functional.cross_entropy`` of the output rates as logits;
    target: class indices or probabilities)."""
    with torch.no_grad():
        return LearningStep(*torch.ops.eiprop.learning_step(
            input, target, list(weights), list(biases), list(activations), lr, loss, method,
            max_iters, tol, dt, _kinds(projections)))


def graph_learning_step(input: Tensor, target: Tensor, weights: Sequence[Tensor],
                        biases: Sequence[Optional[Tensor]], pre: Sequence[int],
                        post: Sequence[int], activations: Sequence[str], output: int, lr: float,
                        loss: str, method: str = "jacobi", max_iters: int = 0, tol: float = 0.0,
                        dt: float = 1.0,
                        projections: Optional[Sequence[str]] = None) -> LearningStep:
    """:func:`learning_step` on a circuit graph (recurrent or not), the loss read at population
    ``output``."""
    with torch.no_grad():
        return LearningStep(*torch.ops.eiprop.graph_learning_step(
            input, target, list(weights), list(biases), list(pre), list(post),
            list(activations), output, lr, loss, method, max_iters, tol, dt, _kinds(projections)))


def ei_currents(presynaptic_rates: Tensor, weight: Tensor):
    """The excitatory and inhibitory currents one projection delivers, ``[B, N_post]`` each."""
    return torch.ops.eiprop.ei_currents(presynaptic_rates, weight)


WRAPPERS = {
    "ei_equilibrium": ei_equilibrium,
    "credit_relaxation": credit_relaxation,
    "plasticity": plasticity,
    "circuit": circuit,
    "graph_equilibrium": graph_equilibrium,
    "graph_credit_relaxation": graph_credit_relaxation,
    "graph_plasticity": graph_plasticity,
    "graph_circuit": graph_circuit,
    "ei_currents": ei_currents,
    "learning_step": learning_step,
    "graph_learning_step": graph_learning_step,
}

for _name, _wrapper in WRAPPERS.items():
    _wrapper.__doc__ = (f"{_wrapper.__doc__}\n\n    Schema: eiprop::"
                        f"{getattr(torch.ops.eiprop, _name).default._schema}")
