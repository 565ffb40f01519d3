"""eiprop.convert: a ``torch.nn.Sequential`` of Linear, Conv2d, pooling and Flatten layers and
activations as one circuit that shares its parameters (training either trains both);
eiprop.convert_parts: every such run inside any model, the rest left to autograd."""
from dataclasses import dataclass, field
from typing import List

import torch

from eiprop import projections
from eiprop.nn import (ACTIVATION_CLASSES as _ACTIVATION_CLASSES, PROJECTION_CLASSES,
                       BalancedMLP, RecurrentCircuit, SequentialCircuit,
                       activation_name as _activation_name)

SUPPORTED = ("Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Tanh, Sigmoid, ReLU, Identity, "
             "LeakyReLU(0.01), ELU(alpha=1), Softplus(beta=1, threshold=20)")


def _circuit(linears, activations, **options) -> BalancedMLP:
    """A BalancedMLP whose layers are `linears` (already checked to chain), in place of its own."""
    first = linears[0]
    circuit = BalancedMLP([first.in_features] + [m.out_features for m in linears],
                          activations=[a or "identity" for a in activations],
                          bias=first.bias is not None, device="meta", **options)
    for l, linear in enumerate(linears):
        setattr(circuit, f"layer{l}", linear)
    return circuit


def _linear_only(layers) -> bool:
    return all(isinstance(m, torch.nn.Linear) or not isinstance(m, PROJECTION_CLASSES)
               for m in layers)


def _run_circuit(layers, **options):
    """The circuit of a run of layers: a BalancedMLP when they are Linear layers with biases all
    present or all absent (and activations), else a SequentialCircuit."""
    linears = [m for m in layers if isinstance(m, torch.nn.Linear)]
    if _linear_only(layers) and len({m.bias is None for m in linears}) == 1:
        activations = []
        for m in layers:
            if isinstance(m, torch.nn.Linear):
                activations.append(None)
            elif not isinstance(m, torch.nn.Identity):
                activations[-1] = _activation_name(m)
        return _circuit(linears, activations, **options)
    return SequentialCircuit([m for m in layers if not isinstance(m, torch.nn.Identity)],
                             **options)


def convert(model: torch.nn.Sequential, learning: str = "credit", method: str = "sweep",
            max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> torch.nn.Module:
    """The Sequential as one circuit whose layers are the model's own modules: a BalancedMLP
    when it holds Linear layers and activations only (biases all present or all absent), else a
    :class:`~eiprop.nn.SequentialCircuit` of its ``Conv2d``, ``Linear``, ``MaxPool2d``,
    ``AvgPool2d`` and ``Flatten`` layers and activations.

    Each projection layer may be followed by at most one activation (none: identity); the first
    layer must be a projection. Any other layer is refused with an error naming it; so are
    Linear layers whose widths do not chain. :func:`convert_parts` converts what it can of any
    model instead.
    """
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"eiprop.convert: expected a torch.nn.Sequential, got "
                        f"{type(model).__name__}")
    layers, last, activated = [], None, False
    for name, module in _children(model):
        where = f"layer {name} ({type(module).__name__})"
        if isinstance(module, torch.nn.Identity) and _plain(module):
            continue
        projection = isinstance(module, PROJECTION_CLASSES)
        if (projection or _activation_name(module)) and not _plain(module):
            raise ValueError(f"eiprop.convert: {where} has hooks, a parametrization, its own "
                             f"forward or lazy parameters; the circuit reads the weights "
                             f"directly and would skip them (eiprop.convert_parts leaves such "
                             f"a layer to autograd)")
        if projection:
            try:
                projections.of_module(module)
            except ValueError as error:
                raise ValueError(f"eiprop.convert: {where}: {error}") from None
            if (isinstance(module, torch.nn.Linear) and isinstance(last, torch.nn.Linear)
                    and module.in_features != last.out_features):
                raise ValueError(f"eiprop.convert: {where} takes {module.in_features} inputs but "
                                 f"the layer before gives {last.out_features}")
            layers.append(module)
            last, activated = module, False
            continue
        if _activation_name(module) is None:
            raise ValueError(f"eiprop.convert: {where} is not supported by the rule; a "
                             f"convertible Sequential holds only {SUPPORTED}")
        if last is None:
            raise ValueError(f"eiprop.convert: {where} comes before any projection layer")
        if activated:
            raise ValueError(f"eiprop.convert: {where} follows another activation; each "
                             f"projection layer takes at most one")
        layers.append(module)
        activated = True
    if not any(isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) for m in layers):
        raise ValueError("eiprop.convert: the Sequential holds no Linear or Conv2d layer")
    return _run_circuit(layers, learning=learning, method=method, max_iters=max_iters, tol=tol,
                        dt=dt)


@dataclass
class ConvertedRun:
    """A maximal run of supported layers that became one circuit."""
    sequential: str          # the Sequential's path in the model ("" for the model itself)
    layers: List[str]        # the run's children, by name
    kinds: List[str]         # their classes
    name: str                # the circuit's name in the Sequential (its first layer's)

    def __str__(self) -> str:
        where = f"{self.sequential}." if self.sequential else ""
        span = self.layers[0] if len(self.layers) == 1 else f"{self.layers[0]}-{self.layers[-1]}"
        return (f"{where}{span} ({', '.join(self.kinds)}) -> circuit {where}{self.name}")


@dataclass
class Conversion:
    """What :func:`convert_parts` did: the circuits it made and the layers left to autograd."""
    model: torch.nn.Module
    circuits: List[ConvertedRun] = field(default_factory=list)
    autograd: List[str] = field(default_factory=list)  # "path (Class)" of each leaf left alone

    def __str__(self) -> str:
        lines = [f"{len(self.circuits)} circuit(s), trained by the rule:"]
        lines += [f"  {run}" for run in self.circuits]
        lines.append(f"{len(self.autograd)} layer(s) left to autograd:")
        lines += [f"  {layer}" for layer in self.autograd]
        return "\n".join(lines)


def _plain(module: torch.nn.Module) -> bool:
    """Whether the rule may stand in for the module: its class's own forward (not a subclass's),
    no hooks, no parametrization (weight_norm, spectral_norm, pruning register one or the other),
    no uninitialised (lazy) parameters. A circuit reads a Linear's weight and bias directly, so
    anything that changes what the module computes would be skipped silently."""
    base = None
    for kind in PROJECTION_CLASSES + _ACTIVATION_CLASSES:
        if isinstance(module, kind):
            base = kind
            break
    if base is None or type(module).forward is not base.forward:
        return False
    if (module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
            or getattr(module, "_backward_pre_hooks", None)
            or torch.nn.utils.parametrize.is_parametrized(module)
            or isinstance(module, torch.nn.modules.lazy.LazyModuleMixin)):
        return False
    return True


def _convertible_projection(module: torch.nn.Module) -> bool:
    """A plain projection layer whose settings the operators take."""
    if not (isinstance(module, PROJECTION_CLASSES) and _plain(module)):
        return False
    try:
        return projections.of_module(module) is not None
    except ValueError:
        return False


# The projections whose postsynaptic population is [C, H, W]: only after one of them does a
# Flatten join a run (elsewhere it may flatten what a circuit does not take: a [B, N] or an
# unbatched tensor), so it stays with autograd.
_SPATIAL = (torch.nn.Conv2d, torch.nn.AvgPool2d, torch.nn.MaxPool2d)


def _runs(children):
    """Maximal runs [(start, end)) of `children` ((name, module) pairs) that one circuit can
    take: projection layers (Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten), each followed by at
    most one supported activation, the first a projection (a Flatten only after a convolution or
    pooling in the same run); where two Linear layers meet, their widths chain and their biases
    are both present or both absent (as a BalancedMLP's layers); Identity passes anywhere inside
    a run. Only plain modules
    (:func:`_plain`) join a run, and a run needs a Linear or Conv2d (synapses to learn)."""
    runs, start, last, activated = [], None, None, False

    def close(end):
        layers = [m for _, m in children[start:end]]
        if any(isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) for m in layers):
            runs.append((start, end))

    for i, (_, module) in enumerate(children):
        plain = _plain(module)
        if _convertible_projection(module) and not (
                isinstance(module, torch.nn.Flatten) and not isinstance(last, _SPATIAL)):
            chains = not (isinstance(module, torch.nn.Linear) and isinstance(last, torch.nn.Linear)
                          and (module.in_features != last.out_features
                               or (module.bias is None) != (last.bias is None)))
            if start is None or not chains:
                if start is not None:
                    close(i)
                start = i
            last, activated = module, False
        elif start is not None and plain and isinstance(module, torch.nn.Identity):
            continue
        elif start is not None and plain and not activated and _activation_name(module):
            activated = True
        else:
            if start is not None:
                close(i)
            start, last, activated = None, None, False
    if start is not None:
        close(len(children))
    return runs


def _children(module: torch.nn.Module):
    """(name, module) of every child slot, in order. Unlike named_children(), a module that fills
    two slots (a shared activation, tied layers) is listed at each."""
    return [(name, child) for name, child in module._modules.items() if child is not None]


def convert_parts(model: torch.nn.Module, learning: str = "credit", method: str = "sweep",
                  max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> Conversion:
    """Converts, in place, every maximal run of projection layers (Linear, Conv2d, MaxPool2d,
    AvgPool2d, Flatten) and supported activations inside each ``torch.nn.Sequential`` of `model`
    (at any depth) into a circuit (BalancedMLP or SequentialCircuit, as :func:`convert` makes
    them) sharing their parameters, and leaves every other layer (BatchNorm, Dropout, residual
    blocks, ...) to autograd: credit relaxation then computes the circuits' parameter gradients
    and the input credit that autograd carries back through the rest, so the gradients stay
    exact.

    Only plain layers join a run: a layer with hooks, a parametrization (weight_norm,
    spectral_norm, pruning), a subclass's own forward or lazy parameters stays with autograd, as
    do the children of a Sequential subclass with its own forward (which may index them). The
    converted Sequential holds each circuit under the name of its run's first layer, so the
    parameters keep their objects (an optimiser made before still holds them) but children's
    positions and the state_dict keys change (``0.weight`` becomes ``0.layer0.weight``). Every
    circuit is built before any Sequential is changed, so a failure leaves the model as it was;
    circuits already in the model are left alone (a second call converts nothing more).
    Returns what was converted; its ``str`` is a report. A circuit takes the input its first
    layer takes: [batch, features] before a Linear, [batch, C, H, W] before a Conv2d or pooling.
    """
    options = dict(learning=learning, method=method, max_iters=max_iters, tol=tol, dt=dt)
    conversion = Conversion(model)
    rebuilt = []  # (Sequential, its new children), applied once every circuit is built

    def visit(module: torch.nn.Module, path: str):
        children = _children(module)
        convertible = type(module).forward is torch.nn.Sequential.forward
        runs = _runs(children) if convertible else []
        circuits = {}  # run start -> (run end, circuit)
        for start, end in runs:
            run = [m for _, m in children[start:end]]
            circuits[start] = (end, _run_circuit(run, **options))
        # The report in the model's order; the Sequential's children with each run replaced.
        modules, i = [], 0
        while i < len(children):
            name, child = children[i]
            if i in circuits:
                end, circuit = circuits[i]
                run = children[i:end]
                conversion.circuits.append(ConvertedRun(
                    path, [n for n, _ in run], [type(m).__name__ for _, m in run], name))
                modules.append((name, circuit))
                i = end
                continue
            child_path = f"{path}.{name}" if path else name
            if isinstance(child, (BalancedMLP, RecurrentCircuit, SequentialCircuit)):
                pass  # already a circuit (e.g. a second call): neither converted nor autograd's
            elif next(child.children(), None) is None:
                conversion.autograd.append(f"{child_path} ({type(child).__name__})")
            else:
                visit(child, child_path)
            modules.append((name, child))
            i += 1
        if circuits:
            rebuilt.append((module, modules))

    visit(model, "")
    for module, modules in rebuilt:
        module._modules.clear()
        for name, child in modules:
            module.add_module(name, child)
    return conversion
