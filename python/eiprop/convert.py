"""eiprop.convert: a ``torch.nn.Sequential`` of Linear layers and activations as a BalancedMLP
that shares its parameters (training either trains both); eiprop.convert_parts: every such run
inside any model, the rest left to autograd."""
from dataclasses import dataclass, field
from typing import List

import torch

from eiprop.nn import BalancedMLP

# Activation modules with the operators' constants (torch.nn's defaults), by the operator's name.
def _activation_name(module: torch.nn.Module):
    if isinstance(module, torch.nn.Tanh):
        return "tanh"
    if isinstance(module, torch.nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, torch.nn.ReLU):
        return "relu"
    if isinstance(module, torch.nn.Identity):
        return "identity"
    if isinstance(module, torch.nn.LeakyReLU) and module.negative_slope == 0.01:
        return "leaky_relu"
    if isinstance(module, torch.nn.ELU) and module.alpha == 1.0:
        return "elu"
    if isinstance(module, torch.nn.Softplus) and module.beta == 1.0 and module.threshold == 20.0:
        return "softplus"
    return None


SUPPORTED = ("Linear, Tanh, Sigmoid, ReLU, Identity, LeakyReLU(0.01), ELU(alpha=1), "
             "Softplus(beta=1, threshold=20)")


def _circuit(linears, activations, **options) -> BalancedMLP:
    """A BalancedMLP whose layers are `linears` (already checked to chain), in place of its own."""
    first = linears[0]
    circuit = BalancedMLP([first.in_features] + [m.out_features for m in linears],
                          activations=[a or "identity" for a in activations],
                          bias=first.bias is not None, device="meta", **options)
    for l, linear in enumerate(linears):
        setattr(circuit, f"layer{l}", linear)
    return circuit


def convert(model: torch.nn.Sequential, learning: str = "credit", method: str = "sweep",
            max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> BalancedMLP:
    """The Sequential as a BalancedMLP whose layers are the model's own Linear modules.

    Each Linear may be followed by at most one activation (none: identity); the first layer must
    be a Linear. Any other layer is refused with an error naming it; so are Linear layers whose
    widths do not chain. :func:`convert_parts` converts what it can of any model instead.
    """
    if not isinstance(model, torch.nn.Sequential):
        raise TypeError(f"eiprop.convert: expected a torch.nn.Sequential, got "
                        f"{type(model).__name__}")
    linears, activations = [], []
    for name, module in model.named_children():
        where = f"layer {name} ({type(module).__name__})"
        if isinstance(module, torch.nn.Linear):
            if linears and module.in_features != linears[-1].out_features:
                raise ValueError(f"eiprop.convert: {where} takes {module.in_features} inputs but "
                                 f"the layer before gives {linears[-1].out_features}")
            if linears and (module.bias is None) != (linears[0].bias is None):
                raise ValueError(f"eiprop.convert: {where} has "
                                 f"{'no ' if module.bias is None else 'a '}bias but the first "
                                 f"Linear {'has' if module.bias is None else 'has none'}; "
                                 f"a BalancedMLP's layers all have biases or none")
            linears.append(module)
            activations.append(None)
            continue
        activation = _activation_name(module)
        if activation is None:
            raise ValueError(f"eiprop.convert: {where} is not supported by the rule; a "
                             f"convertible Sequential holds only {SUPPORTED}")
        if not linears:
            raise ValueError(f"eiprop.convert: {where} comes before any Linear layer")
        if activations[-1] is not None:
            raise ValueError(f"eiprop.convert: {where} follows another activation; each Linear "
                             f"takes at most one")
        activations[-1] = activation
    if not linears:
        raise ValueError("eiprop.convert: the Sequential holds no Linear layer")
    return _circuit(linears, activations, learning=learning, method=method, max_iters=max_iters,
                    tol=tol, dt=dt)


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


def _runs(children):
    """Maximal runs [(start, end)) of `children` ((name, module) pairs) that a BalancedMLP can
    take: a Linear, then Linears (widths chaining, biases all present or all absent), each
    followed by at most one supported activation."""
    runs, start, last, activated = [], None, None, False
    for i, (_, module) in enumerate(children):
        if isinstance(module, torch.nn.Linear):
            chains = (last is not None and module.in_features == last.out_features
                      and (module.bias is None) == (last.bias is None))
            if not chains:
                if start is not None:
                    runs.append((start, i))
                start = i
            last, activated = module, False
        elif start is not None and not activated and _activation_name(module) is not None:
            activated = True
        else:
            if start is not None:
                runs.append((start, i))
            start, last, activated = None, None, False
    if start is not None:
        runs.append((start, len(children)))
    return runs


def convert_parts(model: torch.nn.Module, learning: str = "credit", method: str = "sweep",
                  max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> Conversion:
    """Converts, in place, every maximal run of Linear layers and supported activations inside
    each ``torch.nn.Sequential`` of `model` (at any depth) into a BalancedMLP sharing their
    parameters, and leaves every other layer (BatchNorm, Dropout, residual blocks, ...) to
    autograd: credit relaxation then computes the circuits' parameter gradients and the input
    credit that autograd carries back through the rest, so the gradients stay exact.

    The converted Sequential holds the circuit under the name of the run's first layer, so the
    parameters keep their objects (an optimiser made before still holds them) but change their
    state_dict keys (``0.weight`` becomes ``0.layer0.weight``). Returns what was converted; its
    ``str`` is a report. A circuit takes [batch, features] input, as the operators do.
    """
    options = dict(learning=learning, method=method, max_iters=max_iters, tol=tol, dt=dt)
    conversion = Conversion(model)

    def visit(module: torch.nn.Module, path: str):
        children = list(module.named_children())
        runs = _runs(children) if isinstance(module, torch.nn.Sequential) else []
        circuits = {}  # run start -> (run end, circuit)
        for start, end in runs:
            run = children[start:end]
            activations = []
            for _, m in run:
                if isinstance(m, torch.nn.Linear):
                    activations.append(None)
                else:
                    activations[-1] = _activation_name(m)
            linears = [m for _, m in run if isinstance(m, torch.nn.Linear)]
            circuits[start] = (end, _circuit(linears, activations, **options))
        # The report in the model's order; the Sequential rebuilt with each run replaced.
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
            if next(child.children(), None) is None:
                conversion.autograd.append(f"{child_path} ({type(child).__name__})")
            else:
                visit(child, child_path)
            modules.append((name, child))
            i += 1
        if circuits:
            module._modules.clear()
            for name, child in modules:
                module.add_module(name, child)

    visit(model, "")
    return conversion
