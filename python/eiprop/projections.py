"""The operators' ``projections`` argument: what each projection's synapses compute.

One string per weight, every parameter named as ``torch.nn`` names it (there are no defaults)::

    "dense"
    "conv2d kernel=3,3 stride=1,1 padding=1,1 dilation=1,1 groups=1"
    "avg_pool2d kernel=2,2 stride=2,2 padding=0,0 ceil_mode=false count_include_pad=true"
    "max_pool2d kernel=2,2 stride=2,2 padding=0,0 dilation=1,1 ceil_mode=false"
    "flatten"

``None`` (or an empty list) means every projection is dense. A pooling or flatten projection has
no synapses to learn: its weight is an empty placeholder (``torch.empty(0)``). The builders below
write the strings; :func:`of_module` reads them off a ``torch.nn`` layer. :func:`population_shapes`
derives each population's per-sample shape as the operators do (the fake kernels use it).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

Pair = Union[int, Sequence[int]]
KINDS = ("dense", "conv2d", "avg_pool2d", "max_pool2d", "flatten")


def _pair(value: Pair) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"eiprop.projections: expected an int or a (height, width) pair, got "
                         f"{value}")
    return value  # type: ignore[return-value]


def _text(pair: Pair) -> str:
    height, width = _pair(pair)
    return f"{height},{width}"


def _flag(value: bool) -> str:
    return "true" if value else "false"


def dense() -> str:
    return "dense"


def conv2d(kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, groups: int) -> str:
    return (f"conv2d kernel={_text(kernel)} stride={_text(stride)} padding={_text(padding)} "
            f"dilation={_text(dilation)} groups={int(groups)}")


def avg_pool2d(kernel: Pair, stride: Pair, padding: Pair, ceil_mode: bool,
               count_include_pad: bool) -> str:
    return (f"avg_pool2d kernel={_text(kernel)} stride={_text(stride)} "
            f"padding={_text(padding)} ceil_mode={_flag(ceil_mode)} "
            f"count_include_pad={_flag(count_include_pad)}")


def max_pool2d(kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
               ceil_mode: bool) -> str:
    return (f"max_pool2d kernel={_text(kernel)} stride={_text(stride)} "
            f"padding={_text(padding)} dilation={_text(dilation)} "
            f"ceil_mode={_flag(ceil_mode)}")


def flatten() -> str:
    return "flatten"


def _conv_padding(module: torch.nn.Conv2d) -> Tuple[int, int]:
    padding = module.padding
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        if any(t % 2 for t in total):
            raise ValueError("padding='same' with an even dilated kernel pads one side more "
                             "than the other, which a circuit's conv2d projection does not do")
        return total[0] // 2, total[1] // 2
    return _pair(padding)


def of_module(module: torch.nn.Module) -> Optional[str]:
    """The projection a ``torch.nn`` layer is, or None when it is not one. Raises ValueError,
    naming the setting, for a projection layer with a setting the operators do not take."""
    if isinstance(module, torch.nn.Linear):
        return dense()
    if isinstance(module, torch.nn.Conv2d):
        if module.padding_mode != "zeros":
            raise ValueError(f"padding_mode='{module.padding_mode}': a conv2d projection pads "
                             f"with zeros only")
        return conv2d(module.kernel_size, module.stride, _conv_padding(module), module.dilation,
                      module.groups)
    if isinstance(module, torch.nn.AvgPool2d):
        if module.divisor_override is not None:
            raise ValueError("divisor_override: an avg_pool2d projection divides by its window")
        return avg_pool2d(module.kernel_size, module.stride or module.kernel_size, module.padding,
                          module.ceil_mode, module.count_include_pad)
    if isinstance(module, torch.nn.MaxPool2d):
        if module.return_indices:
            raise ValueError("return_indices=True: a max_pool2d projection returns the maxima "
                             "only")
        return max_pool2d(module.kernel_size, module.stride or module.kernel_size, module.padding,
                          module.dilation, module.ceil_mode)
    if isinstance(module, torch.nn.Flatten):
        if module.start_dim != 1 or module.end_dim != -1:
            raise ValueError(f"start_dim={module.start_dim}, end_dim={module.end_dim}: a flatten "
                             f"projection flattens [C, H, W] (start_dim=1, end_dim=-1)")
        return flatten()
    return None


REQUIRED = {
    "dense": (), "flatten": (),
    "conv2d": ("kernel", "stride", "padding", "dilation", "groups"),
    "avg_pool2d": ("kernel", "stride", "padding", "ceil_mode", "count_include_pad"),
    "max_pool2d": ("kernel", "stride", "padding", "dilation", "ceil_mode"),
}


def parse(entry: str) -> Tuple[str, Dict[str, str]]:
    """(kind, {key: value}) of one entry, with its keys checked as the operators check them
    (the values are checked by the operator)."""
    words = entry.split()
    if not words or words[0] not in KINDS:
        raise RuntimeError(f"eiprop: projection '{entry}' has no kind; the kinds are "
                           f"{', '.join(KINDS)}")
    kind, keys = words[0], {}
    for word in words[1:]:
        key, equals, value = word.partition("=")
        if not key or not equals:
            raise RuntimeError(f"eiprop: projection '{entry}' has '{word}' where a key=value "
                               f"belongs")
        keys[key] = value
    if set(keys) != set(REQUIRED[kind]):
        raise RuntimeError(f"eiprop: projection '{entry}': a {kind} projection takes exactly "
                           f"{', '.join(REQUIRED[kind]) or 'no parameters'} (as torch.nn names "
                           f"them; there are no defaults)")
    return kind, keys


def numbers(entry: str, keys: Dict[str, str], key: str) -> List[int]:
    """The integers of one key's value ("3,3" -> [3, 3])."""
    try:
        return [int(v) for v in keys[key].split(",")]
    except ValueError:
        raise RuntimeError(f"eiprop: projection '{entry}' gives {key}={keys[key]}; expected "
                           f"integers") from None


def _windows(size, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool):
    # torch's pooling_output_shape; a convolution is the floor case.
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out = out - 1
    return out


def postsynaptic_shape(entry: str, weight: torch.Tensor, presynaptic: Sequence) -> List:
    """The per-sample shape a projection gives its postsynaptic population."""
    kind, keys = parse(entry)
    if kind == "dense":
        return [weight.shape[0]]
    if kind == "flatten":
        size = 1
        for s in presynaptic:
            size = size * s
        return [size]
    values = {k: numbers(entry, keys, k) for k in ("kernel", "stride", "padding", "dilation")
              if k in keys}
    dilation = values.get("dilation", [1, 1])
    ceil_mode = keys.get("ceil_mode", "false") in ("true", "True", "1")
    channels = weight.shape[0] if kind == "conv2d" else presynaptic[0]
    shape = [channels]
    for d in range(2):
        shape.append(_windows(presynaptic[1 + d], values["kernel"][d], values["stride"][d],
                              values["padding"][d], 1 if kind == "avg_pool2d" else dilation[d],
                              kind != "conv2d" and ceil_mode))
    return shape


def population_shapes(op: str, input_shape: Optional[Sequence], weights: Sequence[torch.Tensor],
                      pre: Sequence[int], post: Sequence[int], populations: int,
                      projections: Optional[Sequence[str]]) -> List[Optional[List]]:
    """Each population's per-sample shape, 0..P, as the operators derive it: dense weights fix
    both ends, spatial projections carry their presynaptic shape on."""
    kinds = list(projections) if projections else ["dense"] * len(weights)
    if len(weights) != len(post) or len(kinds) != len(weights):
        raise RuntimeError(f"eiprop::{op}: {len(weights)} weights, {len(post)} projections and "
                           f"{len(kinds)} projection kinds")
    shapes: List[Optional[List]] = [list(input_shape) if input_shape is not None else None]
    shapes += [None] * populations
    for k, entry in enumerate(kinds):
        if not 1 <= post[k] <= populations:
            raise RuntimeError(f"eiprop::{op}: post[{k}] = {post[k]} is not a population "
                               f"1..{populations}")
        if parse(entry)[0] == "dense":
            shapes[post[k]] = [weights[k].shape[0]]
            shapes[pre[k]] = shapes[pre[k]] or [weights[k].shape[1]]
    for _ in range(populations + 1):
        for k, entry in enumerate(kinds):
            if parse(entry)[0] != "dense" and shapes[pre[k]] is not None:
                shapes[post[k]] = postsynaptic_shape(entry, weights[k], shapes[pre[k]])
    for p in range(1, populations + 1):
        if shapes[p] is None:
            raise RuntimeError(f"eiprop::{op}: nothing fixes the shape of population {p}")
    return shapes
