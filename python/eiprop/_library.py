"""Loads the ops library bundled with the package, refusing one built for another torch.

A library compiled against one libtorch and loaded into another registers its ops without a
complaint and then misreads their arguments (a ``str[]`` is a ``std::vector<std::string>`` whose
layout depends on the LibTorch version and ``_GLIBCXX_USE_CXX11_ABI``): a crash or a wrong
answer at the first call. So the import compares the build facts the library was compiled with
(``eiprop::build_facts``, ints only, safe to call across a mismatch) with the running torch and
raises an ImportError that names both sides.
"""
import os
import re
from typing import Dict, List, NamedTuple, Optional

import torch

# The library bundled with the package; EIPROP_LIBRARY names another build of the same ops (a
# sanitizer build, a development tree's build/libeiprop.so), checked the same way.
LIBRARY = os.environ.get("EIPROP_LIBRARY") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "libeiprop.so")

_COMPILERS = {0: "an unknown compiler", 1: "GCC", 2: "Clang"}


class BuildFacts(NamedTuple):
    """What the ops library was compiled with (``eiprop::build_facts``)."""

    torch_version: str  # "major.minor.patch" of LibTorch
    cxx11_abi: int  # _GLIBCXX_USE_CXX11_ABI
    compiler: str  # "GCC 12.2"
    cplusplus: int  # __cplusplus, e.g. 201703
    # CUDA version compiled in; None: no CUDA code (the ops reach CUDA tensors through ATen, so
    # the library runs with any CUDA build of its torch)
    cuda: Optional[str]

    def __str__(self) -> str:
        cuda = f"CUDA {self.cuda}" if self.cuda else "no CUDA code"
        return (f"LibTorch {self.torch_version} (_GLIBCXX_USE_CXX11_ABI={self.cxx11_abi}, "
                f"{self.compiler}, C++ {self.cplusplus}, {cuda})")


class RunningTorch(NamedTuple):
    """The torch this process runs."""

    version: str  # torch.__version__
    cxx11_abi: int
    cuda: Optional[str]  # torch.version.cuda
    libtorch_cpu: List[str]  # the libtorch_cpu files mapped into the process

    def __str__(self) -> str:
        cuda = f"CUDA {self.cuda}" if self.cuda else "no CUDA"
        where = ", ".join(self.libtorch_cpu) or "libtorch_cpu not found among the mapped files"
        return (f"torch {self.version} (_GLIBCXX_USE_CXX11_ABI={self.cxx11_abi}, {cuda}) "
                f"from {where}")


def facts_of(values: List[int]) -> BuildFacts:
    """BuildFacts from ``eiprop::build_facts``'s ints."""
    major, minor, patch, abi, compiler, cc_major, cc_minor, cplusplus, cuda = values
    return BuildFacts(
        torch_version=f"{major}.{minor}.{patch}",
        cxx11_abi=abi,
        compiler=f"{_COMPILERS.get(compiler, _COMPILERS[0])} {cc_major}.{cc_minor}",
        cplusplus=cplusplus,
        cuda=f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None,
    )


def mapped_libtorch_cpu() -> List[str]:
    """The distinct libtorch_cpu shared objects mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            fields = (line.split(None, 5) for line in maps)
            paths = {entry[5].strip() for entry in fields if len(entry) == 6}
    except OSError:
        return []
    found = {os.path.realpath(path) for path in paths
             if os.path.basename(path).startswith("libtorch_cpu.")}
    return sorted(found)


def running_torch() -> RunningTorch:
    return RunningTorch(version=torch.__version__,
                        cxx11_abi=int(torch._C._GLIBCXX_USE_CXX11_ABI),
                        cuda=torch.version.cuda,
                        libtorch_cpu=mapped_libtorch_cpu())


def release(version: str) -> str:
    """"2.11.0" of "2.11.0+cu130" or "2.11.0a0+git1234"."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return ".".join(match.groups()) if match else version


def mismatches(built: BuildFacts, running: RunningTorch) -> List[str]:
    """What disagrees between the library and the running torch (empty: they match)."""
    problems = []
    if built.torch_version != release(running.version):
        problems.append(f"LibTorch version {built.torch_version} != torch {running.version}")
    if built.cxx11_abi != running.cxx11_abi:
        problems.append(f"_GLIBCXX_USE_CXX11_ABI {built.cxx11_abi} != {running.cxx11_abi}")
    if built.cuda is not None and built.cuda != running.cuda:
        problems.append(f"CUDA {built.cuda} != torch's CUDA {running.cuda}")
    if len(running.libtorch_cpu) > 1:
        problems.append(f"{len(running.libtorch_cpu)} libtorch_cpu libraries are loaded at once "
                        f"({', '.join(running.libtorch_cpu)}); the library pulled in a second one")
    return problems


def registered(name: str) -> bool:
    """Whether the op eiprop::<name> is registered in this process."""
    try:
        getattr(torch.ops.eiprop, name)
        return True
    except (AttributeError, RuntimeError):
        return False


def load(library: str = LIBRARY) -> BuildFacts:
    """Loads the ops library and checks it against the running torch (ImportError if not).

    When an eiprop ops library is already loaded (torch.ops.load_library from a CMake build),
    loading a second one would register every op twice and abort the process: that one is
    checked and used instead.
    """
    rebuild = ("rebuild eiprop in this environment: pip install --no-build-isolation "
               "<eiprop source>")
    if registered("ei_equilibrium"):
        library = ", ".join(path for path in torch.ops.loaded_libraries
                            if "eiprop" in os.path.basename(path)) or "an eiprop library"
        if not registered("build_facts"):
            raise ImportError(f"eiprop: {library} is already loaded and predates the build facts "
                              f"the package checks; load nothing before `import eiprop`, or "
                              f"{rebuild}")
    else:
        if not os.path.exists(library):
            raise ImportError(f"eiprop: the ops library {library} is missing; {rebuild}")
        try:
            torch.ops.load_library(library)
        except OSError as error:
            raise ImportError(f"eiprop: {library} cannot be loaded into {running_torch()}: "
                              f"{error}; {rebuild}") from error
    running = running_torch()
    if len(running.libtorch_cpu) > 1:
        # The library pulled in a libtorch of its own: its ops live in that copy's dispatcher.
        raise ImportError(f"eiprop: loading {library} mapped {len(running.libtorch_cpu)} "
                          f"libtorch_cpu libraries ({', '.join(running.libtorch_cpu)}): it was "
                          f"built against another LibTorch than torch {running.version}; "
                          f"{rebuild}")
    try:
        built = facts_of(list(torch.ops.eiprop.build_facts()))
    except (AttributeError, RuntimeError, ValueError) as error:
        raise ImportError(f"eiprop: {library} gives no build facts to check against "
                          f"{running} ({error}); {rebuild}") from error
    problems = mismatches(built, running)
    if problems:
        raise ImportError(
            f"eiprop: {library} was built against {built}, but this process runs {running}: "
            f"{'; '.join(problems)}. Calling its ops would misread their arguments; {rebuild}")
    return built


_BUILT = load()


def build_info() -> Dict[str, object]:
    """What the ops library was built with, and the torch it runs in."""
    loaded = [path for path in torch.ops.loaded_libraries if "eiprop" in os.path.basename(path)]
    return {"library": loaded[0] if len(loaded) == 1 else loaded, "built": _BUILT._asdict(),
            "running": running_torch()._asdict()}
