"""Fake (meta) kernels of the operators, for torch.compile, torch.export and FakeTensor.

A fake kernel computes the shapes, dtypes and devices of an op's results without computing
them. The ops whose results are tensors only (``circuit``, ``graph_circuit``, the passes of their
autograd kernel, ``plasticity``, ``graph_plasticity``, ``ei_currents``) trace into graphs. The
relaxation ops also return their solver statistics (iterations, residual, converged): values
known only after the solve, which a traced graph cannot hold. Their fake kernels raise
DataDependentOutputException, the exception torch.compile turns into a graph break (the op runs
eagerly between compiled regions) and ``fullgraph=True`` / torch.export into an error naming
the op.
"""
from typing import List, Optional, Sequence

import torch
from torch import Tensor

_register = getattr(torch.library, "register_fake", None)  # torch >= 2.4


def _population_widths(op: str, input_width: int, weights: Sequence[Tensor],
                       post: Sequence[int], populations: int) -> List[int]:
    """N_0..N_P of a graph (the operator's own checks run with real tensors)."""
    if len(weights) != len(post):
        raise RuntimeError(f"eiprop::{op}: {len(weights)} weights for {len(post)} projections")
    widths: List[Optional[int]] = [input_width] + [None] * populations
    for k, q in enumerate(post):
        if not 1 <= q <= populations:
            raise RuntimeError(f"eiprop::{op}: post[{k}] = {q} is not a population 1..{populations}")
        widths[q] = weights[k].shape[0]
    for p in range(1, populations + 1):
        if widths[p] is None:
            raise RuntimeError(f"eiprop::{op}: population {p} receives no projection")
    return widths  # type: ignore[return-value]


def _states(input: Tensor, widths: Sequence[int]):
    rates = [input.new_empty(input.shape[0], n) for n in widths[1:]]
    drives = [input.new_empty(input.shape[0], n) for n in widths[1:]]
    return rates, drives


def _gradients(input: Tensor, weights: Sequence[Tensor], rates: Sequence[Tensor],
               output_mask: Sequence[bool]):
    projections = len(weights)
    # Fresh contiguous tensors, as the real kernel's products are.
    input_grad = input.new_empty(input.shape) if output_mask[0] else None
    weight_grads = [w.new_empty(w.shape) for k, w in enumerate(weights) if output_mask[1 + k]]
    bias_grads = [r.new_empty(r.shape[1]) for p, r in enumerate(rates)
                  if output_mask[1 + projections + p]]
    return input_grad, weight_grads, bias_grads


def _updates(input: Tensor, rates: Sequence[Tensor], pre: Sequence[int], post: Sequence[int]):
    population = [input] + list(rates)
    weight_updates = [input.new_empty(population[q].shape[1], population[p].shape[1])
                      for p, q in zip(pre, post)]
    bias_updates = [input.new_empty(r.shape[1]) for r in rates]
    return weight_updates, bias_updates


def _chain(layers: int):
    return list(range(layers)), list(range(1, layers + 1))


def _circuit(input, weights, biases, activations, method="sweep", max_iters=0, tol=0.0, dt=1.0):
    return input.new_empty(input.shape[0], weights[-1].shape[0])


def _graph_circuit(input, weights, biases, pre, post, activations, output, method="jacobi",
                   max_iters=0, tol=0.0, dt=1.0):
    widths = _population_widths("graph_circuit", input.shape[1], weights, post,
                                len(activations))
    if not 1 <= output <= len(activations):
        raise RuntimeError(f"eiprop::graph_circuit: output is {output}; expected a population "
                           f"1..{len(activations)}")
    return input.new_empty(input.shape[0], widths[output])


def _circuit_forward(input, weights, biases, activations, method, max_iters, tol, dt):
    return _states(input, [input.shape[1]] + [w.shape[0] for w in weights])


def _graph_circuit_forward(input, weights, biases, pre, post, activations, output, method,
                           max_iters, tol, dt):
    return _states(input, _population_widths("_graph_circuit_forward", input.shape[1], weights,
                                             post, len(activations)))


def _circuit_backward(grad_output, input, weights, rates, drives, activations, method, max_iters,
                      tol, dt, output_mask):
    return _gradients(input, weights, rates, output_mask)


def _graph_circuit_backward(grad_output, input, weights, rates, drives, pre, post, activations,
                            output, method, max_iters, tol, dt, output_mask):
    return _gradients(input, weights, rates, output_mask)


def _plasticity(input, rates, drives, credits, activations, lr):
    return _updates(input, rates, *_chain(len(rates)))


def _graph_plasticity(input, rates, drives, credits, pre, post, activations, lr):
    return _updates(input, rates, pre, post)


def _ei_currents(presynaptic_rates, weight):
    shape = (presynaptic_rates.shape[0], weight.shape[0])
    return presynaptic_rates.new_empty(shape), presynaptic_rates.new_empty(shape)


TRACEABLE = {
    "circuit": _circuit,
    "graph_circuit": _graph_circuit,
    "_circuit_forward": _circuit_forward,
    "_graph_circuit_forward": _graph_circuit_forward,
    "_circuit_backward": _circuit_backward,
    "_graph_circuit_backward": _graph_circuit_backward,
    "plasticity": _plasticity,
    "graph_plasticity": _graph_plasticity,
    "ei_currents": _ei_currents,
}
# Each returns solver statistics besides tensors.
DATA_DEPENDENT = ["ei_equilibrium", "credit_relaxation", "graph_equilibrium",
                  "graph_credit_relaxation", "learning_step", "graph_learning_step"]


def _data_dependent(name: str):
    def fake(*args, **kwargs):
        from torch._subclasses.fake_tensor import DataDependentOutputException
        raise DataDependentOutputException(getattr(torch.ops.eiprop, name).default)
    return fake


if _register is not None:
    for _name, _kernel in TRACEABLE.items():
        _register(f"eiprop::{_name}")(_kernel)
    for _name in DATA_DEPENDENT:
        _register(f"eiprop::{_name}")(_data_dependent(_name))
