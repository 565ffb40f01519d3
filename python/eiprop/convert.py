"""eiprop.convert: a ``torch.nn.Sequential`` of Linear layers and activations as a BalancedMLP
that shares its parameters (training either trains both)."""
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


def convert(model: torch.nn.Sequential, learning: str = "credit", method: str = "sweep",
            max_iters: int = 0, tol: float = 0.0, dt: float = 1.0) -> BalancedMLP:
    """The Sequential as a BalancedMLP whose layers are the model's own Linear modules.

    Each Linear may be followed by at most one activation (none: identity); the first layer must
    be a Linear. Any other layer is refused with an error naming it; so are Linear layers whose
    widths do not chain.
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
    activations = [a or "identity" for a in activations]
    first = linears[0]
    circuit = BalancedMLP([first.in_features] + [m.out_features for m in linears],
                          activations=activations, bias=first.bias is not None,
                          learning=learning, method=method, max_iters=max_iters, tol=tol, dt=dt,
                          device="meta")
    for l, linear in enumerate(linears):
        setattr(circuit, f"layer{l}", linear)
    return circuit
