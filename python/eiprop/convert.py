"""eiprop.convert: a ``torch.nn.Sequential`` of Linear layers and activations as a BalancedMLP
that shares its parameters (training either trains both); eiprop.convert_parts: every such run
inside any model, the rest left to autograd."""
from dataclasses import dataclass, field
from typing import List

import torch

from eiprop.nn import BalancedMLP, RecurrentCircuit

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


_ACTIVATION_CLASSES = (torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.ReLU, torch.nn.Identity,
                       torch.nn.LeakyReLU, torch.nn.ELU, torch.nn.Softplus)

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
    for name, module in _children(model):
        where = f"layer {name} ({type(module).__name__})"
        if isinstance(module, torch.nn.Identity) and _plain(module):
            continue
        if (isinstance(module, torch.nn.Linear) or _activation_name(module)) and not _plain(module):
            raise ValueError(f"eiprop.convert: {where} has hooks, a parametrization, its own "
                             f"forward or lazy parameters; the circuit reads the weights "
                             f"directly and would skip them (eiprop.convert_parts leaves such "
                             f"a layer to autograd)")
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


def _plain(module: torch.nn.Module) -> bool:
    """Whether the rule may stand in for the module: its class's own forward (not a subclass's),
    no hooks, no parametrization (weight_norm, spectral_norm, pruning register one or the other),
    no uninitialised (lazy) parameters. A circuit reads a Linear's weight and bias directly, so
    anything that changes what the module computes would be skipped silently."""
    base = torch.nn.Linear if isinstance(module, torch.nn.Linear) else None
    if base is None:
        for kind in _ACTIVATION_CLASSES:
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


def _runs(children):
    """Maximal runs [(start, end)) of `children` ((name, module) pairs) that a BalancedMLP can
    take: a Linear, then Linears (widths chaining, biases all present or all absent), each
    followed by at most one supported activation; Identity passes anywhere inside a run. Only
    plain modules (:func:`_plain`) join a run."""
    runs, start, last, activated = [], None, None, False
    for i, (_, module) in enumerate(children):
        plain = _plain(module)
        if plain and isinstance(module, torch.nn.Linear):
            chains = (last is not None and module.in_features == last.out_features
                      and (module.bias is None) == (last.bias is None))
            if not chains:
                if start is not None:
                    runs.append((start, i))
                start = i
            last, activated = module, False
        elif start is not None and plain and isinstance(module, torch.nn.Identity):
            continue
        elif start is not None and plain and not activated and _activation_name(module):
            activated = True
        else:
            if start is not None:
                runs.append((start, i))
            start, last, activated = None, None, False
    if start is not None:
        runs.append((start, len(children)))
    return runs


def _children(module: torch.nn.Module):
    """(name, module) of every child slot, in order. Unlike named_children(), a module that fills
    two slots (a shared activation, tied layers) is listed at each."""
    return [(name, child) for name, child in module._modules.items() if child is not None]


def convert_parts(model: torch.nn.Module, learning: str = "credit", method: str = "sweep",
                  max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> Conversion:
    """Converts, in place, every maximal run of Linear layers and supported activations inside
    each ``torch.nn.Sequential`` of `model` (at any depth) into a BalancedMLP sharing their
    parameters, and leaves every other layer (BatchNorm, Dropout, residual blocks, ...) to
    autograd: credit relaxation then computes the circuits' parameter gradients and the input
    credit that autograd carries back through the rest, so the gradients stay exact.

    Only plain layers join a run: a layer with hooks, a parametrization (weight_norm,
    spectral_norm, pruning), a subclass's own forward or lazy parameters stays with autograd, as
    do the children of a Sequential subclass with its own forward (which may index them). The
    converted Sequential holds each circuit under the name of its run's first layer, so the
    parameters keep their objects (an optimiser made before still holds them) but children's
    positions and the state_dict keys change (``0.weight`` becomes ``0.layer0.weight``). Every
    circuit is built before any Sequential is changed, so a failure leaves the model as it was;
    circuits already in the model are left alone (a second call converts nothing more).
    Returns what was converted; its ``str`` is a report. A circuit takes [batch, features] input,
    as the operators do.
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
            run = [m for _, m in children[start:end] if not isinstance(m, torch.nn.Identity)]
            activations = []
            for m in run:
                if isinstance(m, torch.nn.Linear):
                    activations.append(None)
                else:
                    activations[-1] = _activation_name(m)
            linears = [m for m in run if isinstance(m, torch.nn.Linear)]
            circuits[start] = (end, _circuit(linears, activations, **options))
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
            if isinstance(child, (BalancedMLP, RecurrentCircuit)):
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
