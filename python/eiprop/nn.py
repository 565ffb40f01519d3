"""Circuits as ``torch.nn.Module`` s, trained by the rule or by autograd on the same parameters.

``learning="credit"``: the forward is the E-I equilibrium (``eiprop::circuit`` /
``eiprop::graph_circuit``) and ``loss.backward()`` is credit relaxation. ``learning="autograd"``:
the same equilibrium computed by plain torch operations (one pass through the layers, or the
unrolled firing iterations of a recurrent circuit) and differentiated by autograd. Switch with
:meth:`set_learning` on the same weights for A/B tests; any ``torch.optim`` optimiser, DDP,
``torch.compile`` and ``state_dict`` work as with any module. Parameter names and layouts are
the C++ modules' (``eiprop/nn/*.h``), so checkpoints move between the two.
"""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from eiprop.projections import of_module as projections_of_module

LEARNING = ("credit", "autograd")

# The activations the operators know, as plain torch functions (the constants are torch.nn's
# defaults, as in extension/kernels/activation.h).
ACTIVATIONS = {
    "identity": lambda u: u,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda u: F.leaky_relu(u, 0.01),
    "softplus": lambda u: F.softplus(u, beta=1.0, threshold=20.0),
    "elu": lambda u: F.elu(u, alpha=1.0),
}

# The operators' solver defaults (extension/solvers/options.h): used by the unrolled autograd
# iteration, which has no operator to resolve them.
DEFAULT_MAX_ITERS = 10000
DEFAULT_TOL = {torch.float64: 1e-12, torch.float32: 1e-6}


# Activation modules with the operators' constants (torch.nn's defaults), by the operator's name.
def activation_name(module: torch.nn.Module):
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


ACTIVATION_CLASSES = (torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.ReLU, torch.nn.Identity,
                       torch.nn.LeakyReLU, torch.nn.ELU, torch.nn.Softplus)

def _check_learning(module: str, learning: str) -> str:
    if learning not in LEARNING:
        raise ValueError(f"eiprop.nn.{module}: learning is '{learning}'; expected one of "
                         f"{', '.join(LEARNING)}")
    return learning


def _check_activations(module: str, activations: Sequence[str]) -> List[str]:
    for index, name in enumerate(activations):
        if name not in ACTIVATIONS:
            raise ValueError(f"eiprop.nn.{module}: activation {index} is '{name}'; expected one "
                             f"of {', '.join(ACTIVATIONS)}")
    return list(activations)


class BalancedMLP(torch.nn.Module):
    """A layered circuit N_0 -> N_1 -> ... -> N_L; layer l is a ``torch.nn.Linear`` named
    ``layer<l>`` (parameters ``layer<l>.weight`` ``[N_{l+1}, N_l]`` and ``layer<l>.bias``)."""

    def __init__(self, widths: Sequence[int], activation: str = "tanh",
                 output_activation: str = "identity", activations: Optional[Sequence[str]] = None,
                 bias: bool = True, learning: str = "credit", method: str = "sweep",
                 max_iters: int = 0, tol: float = 0.0, dt: float = 1.0, device=None, dtype=None):
        super().__init__()
        widths = list(widths)
        if len(widths) < 2 or any(int(w) <= 0 for w in widths):
            raise ValueError(f"eiprop.nn.BalancedMLP: widths {widths} needs the input width and "
                             f"at least one layer, all positive")
        layers = len(widths) - 1
        if activations is None:
            activations = [activation] * (layers - 1) + [output_activation]
        if len(activations) != layers:
            raise ValueError(f"eiprop.nn.BalancedMLP: {len(activations)} activations for "
                             f"{layers} layers")
        self.activations = _check_activations("BalancedMLP", activations)
        self.learning = _check_learning("BalancedMLP", learning)
        self.method, self.max_iters, self.tol, self.dt = method, max_iters, tol, dt
        for l in range(layers):
            self.add_module(f"layer{l}", torch.nn.Linear(widths[l], widths[l + 1], bias=bias,
                                                         device=device, dtype=dtype))

    @property
    def layers(self) -> List[torch.nn.Linear]:
        return [getattr(self, f"layer{l}") for l in range(len(self.activations))]

    def set_learning(self, learning: str) -> "BalancedMLP":
        self.learning = _check_learning("BalancedMLP", learning)
        return self

    def forward(self, input: Tensor) -> Tensor:
        layers = self.layers
        if self.learning == "credit":
            return torch.ops.eiprop.circuit(input, [layer.weight for layer in layers],
                                            [layer.bias for layer in layers], self.activations,
                                            self.method, self.max_iters, self.tol, self.dt)
        rate = input
        for layer, activation in zip(layers, self.activations):
            rate = ACTIVATIONS[activation](layer(rate))
        return rate

    def extra_repr(self) -> str:
        return (f"activations={self.activations}, learning={self.learning}, "
                f"method={self.method}")


class RecurrentCircuit(torch.nn.Module):
    """A circuit graph: population 0 is the input, populations 1..P have activations, projection
    k runs from ``pre[k]`` to ``post[k]`` (self-projections and cycles allowed) with parameter
    ``weight_<pre>_<post>`` ``[N_post, N_pre]``; ``bias_<p>`` per population. The forward
    returns population ``output``'s equilibrium rates."""

    def __init__(self, widths: Sequence[int], pre: Sequence[int], post: Sequence[int],
                 activations: Sequence[str], output: int, bias: bool = True,
                 learning: str = "credit", method: str = "jacobi", max_iters: int = 0,
                 tol: float = 0.0, dt: float = 1.0, device=None, dtype=None):
        super().__init__()
        self.widths, self.pre, self.post = list(widths), list(pre), list(post)
        self.activations = _check_activations("RecurrentCircuit", activations)
        if len(self.widths) != len(self.activations) + 1:
            raise ValueError(f"eiprop.nn.RecurrentCircuit: {len(self.widths)} widths for "
                             f"{len(self.activations)} populations; give N_0 (input) .. N_P")
        if len(self.pre) != len(self.post):
            raise ValueError(f"eiprop.nn.RecurrentCircuit: pre has {len(self.pre)} entries, "
                             f"post {len(self.post)}")
        for k, (p, q) in enumerate(zip(self.pre, self.post)):
            if not (0 <= p < len(self.widths) and 1 <= q < len(self.widths)):
                raise ValueError(f"eiprop.nn.RecurrentCircuit: projection {k} runs {p} -> {q}; "
                                 f"pre must be 0..P and post 1..P (P = {len(self.activations)})")
        populations = len(self.activations)
        if not 1 <= output <= populations:
            raise ValueError(f"eiprop.nn.RecurrentCircuit: output is {output}; expected a "
                             f"population 1..{populations}")
        for p in range(1, populations + 1):
            if p not in self.post:
                raise ValueError(f"eiprop.nn.RecurrentCircuit: population {p} receives no "
                                 f"projection")
        self.output = output
        self.learning = _check_learning("RecurrentCircuit", learning)
        self.method, self.max_iters, self.tol, self.dt = method, max_iters, tol, dt
        factory = {"device": device, "dtype": dtype}
        self.weight_names = [f"weight_{p}_{q}" for p, q in zip(self.pre, self.post)]
        for name, p, q in zip(self.weight_names, self.pre, self.post):
            self.register_parameter(name, torch.nn.Parameter(
                torch.empty(self.widths[q], self.widths[p], **factory)))
        self.bias_names = ([f"bias_{p}" for p in range(1, len(self.widths))] if bias else [])
        for name, width in zip(self.bias_names, self.widths[1:]):
            self.register_parameter(name, torch.nn.Parameter(torch.empty(width, **factory)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(fan-in of the postsynaptic population), as nn.Linear's bound."""
        fan_in = [0] * len(self.widths)
        for p, q in zip(self.pre, self.post):
            fan_in[q] += self.widths[p]
        with torch.no_grad():
            for weight, q in zip(self.weights, self.post):
                bound = 1.0 / math.sqrt(fan_in[q])
                weight.uniform_(-bound, bound)
            for p, bias in enumerate(self.biases_present, start=1):
                bound = 1.0 / math.sqrt(fan_in[p]) if fan_in[p] else 0.0
                bias.uniform_(-bound, bound)

    @property
    def weights(self) -> List[Tensor]:
        return [getattr(self, name) for name in self.weight_names]

    @property
    def biases_present(self) -> List[Tensor]:
        return [getattr(self, name) for name in self.bias_names]

    @property
    def biases(self) -> List[Optional[Tensor]]:
        present = self.biases_present
        return present if present else [None] * len(self.activations)

    def set_learning(self, learning: str) -> "RecurrentCircuit":
        self.learning = _check_learning("RecurrentCircuit", learning)
        return self

    def forward(self, input: Tensor) -> Tensor:
        if self.learning == "credit":
            return torch.ops.eiprop.graph_circuit(input, self.weights, self.biases, self.pre,
                                                  self.post, self.activations, self.output,
                                                  self.method, self.max_iters, self.tol, self.dt)
        return self.unrolled_equilibrium(input)[self.output - 1]

    def unrolled_equilibrium(self, input: Tensor) -> List[Tensor]:
        """The rates of populations 1..P by synchronous firing updates from rest, differentiable
        by autograd, until the largest relative change is within tol (the operators' default
        tolerances and iteration limit; euler's step dt is honoured)."""
        max_iters = self.max_iters or DEFAULT_MAX_ITERS
        tol = self.tol or DEFAULT_TOL.get(input.dtype, DEFAULT_TOL[torch.float32])
        dt = self.dt if self.method == "euler" else 1.0
        weights, biases = self.weights, self.biases
        rates = [input] + [input.new_zeros(input.shape[0], n) for n in self.widths[1:]]
        residual = math.inf
        for _ in range(max_iters):
            following = [input]
            for p, activation in enumerate(self.activations, start=1):
                drive = biases[p - 1] if biases[p - 1] is not None else 0
                for weight, q, r in zip(weights, self.post, self.pre):
                    if q == p:
                        drive = drive + rates[r] @ weight.t()
                target = ACTIVATIONS[activation](drive)
                following.append(target if dt == 1.0 else rates[p] + dt * (target - rates[p]))
            with torch.no_grad():
                residual = 0.0
                for new, old in zip(following[1:], rates[1:]):
                    gap = (new - old).abs().max().item()
                    scale = max(new.abs().max().item(), old.abs().max().item())
                    if gap > 0:
                        residual = max(residual, gap / scale)
            rates = following
            if residual <= tol:
                return rates[1:]
        raise RuntimeError(f"eiprop.nn.RecurrentCircuit: the unrolled iteration did not converge "
                           f"in {max_iters} iterations (residual {residual} > tol={tol})")

    def extra_repr(self) -> str:
        projections = ", ".join(f"{p}->{q}" for p, q in zip(self.pre, self.post))
        return (f"widths={self.widths}, projections=[{projections}], "
                f"activations={self.activations}, output={self.output}, "
                f"learning={self.learning}, method={self.method}")


# The layers that are projections: dense, conv2d and the fixed kinds (eiprop.projections).
PROJECTION_CLASSES = (torch.nn.Linear, torch.nn.Conv2d, torch.nn.AvgPool2d, torch.nn.MaxPool2d,
                      torch.nn.Flatten)


class SequentialCircuit(torch.nn.Module):
    """A chain of ``torch.nn`` layers run as one layered circuit (``eiprop::circuit`` with
    ``projections``): each projection layer (``Linear``, ``Conv2d``, ``AvgPool2d``, ``MaxPool2d``,
    ``Flatten``) feeds a population of its own, whose activation is the supported activation
    layer right after it (identity when there is none; ``Identity`` layers pass). A max-pooling
    population is a winner-take-all one; pooling and flatten projections have no synapses to
    learn. The layers are this module's children ``layer0``, ``layer1``, ... in the given order
    (pass a model's own layers to share its parameters), and with ``learning="autograd"`` the
    forward runs them as the Sequential would. The input is ``[B, C, H, W]`` before a
    convolution or pooling, ``[B, N]`` before a Linear."""

    def __init__(self, layers: Sequence[torch.nn.Module], learning: str = "credit",
                 method: str = "sweep", max_iters: int = 0, tol: float = 0.0, dt: float = 1.0):
        super().__init__()
        self.projections: List[str] = []
        self.activations: List[str] = []
        self._projection_layers: List[int] = []  # which child is projection l
        open_projection = False  # the last projection still has no activation
        for index, layer in enumerate(layers):
            where = f"eiprop.nn.SequentialCircuit: layer {index} ({type(layer).__name__})"
            try:
                kind = projections_of_module(layer)
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
            if kind is not None:
                self.projections.append(kind)
                self.activations.append("identity")
                self._projection_layers.append(index)
                open_projection = True
            elif isinstance(layer, torch.nn.Identity):
                pass
            elif activation_name(layer) is not None:
                if not self.projections:
                    raise ValueError(f"{where} comes before any projection layer; the input "
                                     f"population is clamped")
                if not open_projection:
                    raise ValueError(f"{where} does not directly follow a projection layer; "
                                     f"each projection takes at most one activation")
                self.activations[-1] = activation_name(layer)
                open_projection = False
            else:
                kinds = ", ".join(kind.__name__ for kind in PROJECTION_CLASSES)
                raise ValueError(f"{where} is neither a projection layer ({kinds}) nor a "
                                 f"supported activation")
            self.add_module(f"layer{index}", layer)
        plastic = [m for m in self._projection_modules()
                   if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
        if not plastic:
            raise ValueError("eiprop.nn.SequentialCircuit: the layers hold no Linear or Conv2d; "
                             "a circuit needs synapses to learn")
        self.learning = _check_learning("SequentialCircuit", learning)
        self.method, self.max_iters, self.tol, self.dt = method, max_iters, tol, dt
        # The weight of a pooling or flatten projection: an empty placeholder.
        # (On the layers' device, in their dtype; it moves with the module.)
        weight = plastic[0].weight
        self.register_buffer("placeholder", torch.empty(0, dtype=weight.dtype,
                                                        device=weight.device), persistent=False)

    @property
    def layers(self) -> List[torch.nn.Module]:
        return list(self._modules.values())

    def _projection_modules(self) -> List[torch.nn.Module]:
        return [getattr(self, f"layer{i}") for i in self._projection_layers]

    @property
    def weights(self) -> List[Tensor]:
        return [m.weight if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) else
                self.placeholder for m in self._projection_modules()]

    @property
    def biases(self) -> List[Optional[Tensor]]:
        return [getattr(m, "bias", None) for m in self._projection_modules()]

    def set_learning(self, learning: str) -> "SequentialCircuit":
        self.learning = _check_learning("SequentialCircuit", learning)
        return self

    def forward(self, input: Tensor) -> Tensor:
        if self.learning == "credit":
            return torch.ops.eiprop.circuit(input, self.weights, self.biases, self.activations,
                                            self.method, self.max_iters, self.tol, self.dt,
                                            self.projections)
        rate = input
        for layer in self._modules.values():
            rate = layer(rate)
        return rate

    def extra_repr(self) -> str:
        return (f"activations={self.activations}, learning={self.learning}, "
                f"method={self.method}")
