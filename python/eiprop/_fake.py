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
from typing import List, Sequence

import torch
from torch import Tensor

from eiprop.projections import numbers, parse, population_shapes

_register = getattr(torch.library, "register_fake", None)  # torch >= 2.4


def _shapes(op: str, input: Tensor, weights: Sequence[Tensor], pre: Sequence[int],
            post: Sequence[int], populations: int, projections) -> List[List]:
    """Per-sample shapes of populations 0..P (the operator's own checks run with real
    tensors)."""
    return population_shapes(op, input.shape[1:], weights, pre, post, populations, projections)


def _states(input: Tensor, shapes: Sequence[Sequence], pre: Sequence[int], post: Sequence[int],
            projections):
    rates = [input.new_empty(input.shape[0], *shape) for shape in shapes[1:]]
    drives = [input.new_empty(input.shape[0], *shape) for shape in shapes[1:]]
    # A max_pool2d projection's window winners are int64 and shaped like its postsynaptic rates;
    # every other kind's entry is empty.
    kinds = list(projections) if projections else ["dense"] * len(pre)
    winners = [input.new_empty((input.shape[0], *shapes[q]) if parse(entry)[0] == "max_pool2d"
                               else (0,), dtype=torch.int64)
               for q, entry in zip(post, kinds)]
    return rates, drives, winners


def _gradients(input: Tensor, weights: Sequence[Tensor], rates: Sequence[Tensor],
               output_mask: Sequence[bool]):
    projections = len(weights)
    # Fresh contiguous tensors, as the real kernel's products are (a fixed projection's is as
    # empty as its placeholder weight).
    input_grad = input.new_empty(input.shape) if output_mask[0] else None
    weight_grads = [w.new_empty(w.shape) for k, w in enumerate(weights) if output_mask[1 + k]]
    bias_grads = [r.new_empty(r.shape[1]) for p, r in enumerate(rates)
                  if output_mask[1 + projections + p]]
    return input_grad, weight_grads, bias_grads


def _updates(input: Tensor, rates: Sequence[Tensor], pre: Sequence[int], post: Sequence[int],
             projections):
    population = [input] + list(rates)
    kinds = list(projections) if projections else ["dense"] * len(pre)
    weight_updates = []
    for p, q, entry in zip(pre, post, kinds):
        kind, keys = parse(entry)
        if kind == "dense":
            shape = [population[q].shape[1], population[p].shape[1]]
        elif kind == "conv2d":
            kernel = numbers(entry, keys, "kernel")
            groups = numbers(entry, keys, "groups")[0]
            shape = [population[q].shape[1], population[p].shape[1] // groups] + kernel
        else:
            shape = [0]
        weight_updates.append(input.new_empty(shape))
    bias_updates = [input.new_empty(r.shape[1]) for r in rates]
    return weight_updates, bias_updates


def _chain(layers: int):
    return list(range(layers)), list(range(1, layers + 1))


def _circuit(input, weights, biases, activations, method="sweep", max_iters=0, tol=0.0, dt=1.0,
             projections=None):
    shapes = _shapes("circuit", input, weights, *_chain(len(weights)), len(weights), projections)
    return input.new_empty(input.shape[0], *shapes[-1])


def _graph_circuit(input, weights, biases, pre, post, activations, output, method="jacobi",
                   max_iters=0, tol=0.0, dt=1.0, projections=None):
    shapes = _shapes("graph_circuit", input, weights, pre, post, len(activations), projections)
    if not 1 <= output <= len(activations):
        raise RuntimeError(f"eiprop::graph_circuit: output is {output}; expected a population "
                           f"1..{len(activations)}")
    return input.new_empty(input.shape[0], *shapes[output])


def _circuit_forward(input, weights, biases, activations, method, max_iters, tol, dt,
                     projections=None):
    chain = _chain(len(weights))
    return _states(input, _shapes("_circuit_forward", input, weights, *chain, len(weights),
                                  projections), *chain, projections)


def _graph_circuit_forward(input, weights, biases, pre, post, activations, output, method,
                           max_iters, tol, dt, projections=None):
    return _states(input, _shapes("_graph_circuit_forward", input, weights, pre, post,
                                  len(activations), projections), pre, post, projections)


def _circuit_backward(grad_output, input, weights, rates, drives, activations, method, max_iters,
                      tol, dt, output_mask, projections=None, winners=None,
                      states_checked=False):
    return _gradients(input, weights, rates, output_mask)


def _graph_circuit_backward(grad_output, input, weights, rates, drives, pre, post, activations,
                            output, method, max_iters, tol, dt, output_mask, projections=None,
                            winners=None, states_checked=False):
    return _gradients(input, weights, rates, output_mask)


def _plasticity(input, rates, drives, credits, activations, lr, projections=None):
    return _updates(input, rates, *_chain(len(rates)), projections)


def _graph_plasticity(input, rates, drives, credits, pre, post, activations, lr,
                      projections=None):
    return _updates(input, rates, pre, post, projections)


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
