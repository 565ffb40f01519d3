"""Shared by the Python package's tests: skipping where the torch is too old for an API.

ctest counts exit code 77 as skipped (SKIP_RETURN_CODE); the reason is printed first.
"""
import re
import sys

import torch

SKIPPED = 77


def torch_at_least(major: int, minor: int) -> bool:
    found = re.match(r"(\d+)\.(\d+)", torch.__version__)
    return found is not None and (int(found.group(1)), int(found.group(2))) >= (major, minor)


def require(condition: bool, why: str) -> None:
    if not condition:
        print(f"skipped: {why} (torch {torch.__version__})")
        sys.exit(SKIPPED)


def require_package_apis() -> None:
    """torch.library.register_fake / opcheck (torch 2.4) and torch.export's save/load."""
    require(torch_at_least(2, 4), "the package's fake kernels and opcheck need torch >= 2.4")


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    gap = (actual - expected).abs().max().item()
    return 0.0 if gap == 0 else gap / expected.abs().max().item()
