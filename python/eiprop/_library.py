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
    # The files mapped into the process of each of torch's core libraries (CORE_LIBRARIES).
    libraries: Dict[str, List[str]]

    def __str__(self) -> str:
        cuda = f"CUDA {self.cuda}" if self.cuda else "no CUDA"
        where = ", ".join(self.libraries.get("libtorch_cpu", [])) or "an unknown place"
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


# Each must be mapped once: a library linked against another LibTorch's copy of one of them (a
# libc10.so.1.13 from Debian's libtorch-dev beside torch's libc10.so) runs against two
# dispatchers and registries at once.
CORE_LIBRARIES = ("libc10", "libtorch", "libtorch_cpu")


def mapped_libraries() -> Dict[str, List[str]]:
    """The distinct files of each core library mapped into this process (Linux; empty
    elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            fields = (line.split(None, 5) for line in maps)
            paths = {entry[5].strip() for entry in fields if len(entry) == 6}
    except OSError:
        return {}
    found: Dict[str, set] = {name: set() for name in CORE_LIBRARIES}
    for path in paths:
        stem = os.path.basename(path).split(".so", 1)[0]
        if stem in found and ".so" in os.path.basename(path):
            found[stem].add(os.path.realpath(path))
    return {name: sorted(files) for name, files in found.items()}


def duplicated(libraries: Dict[str, List[str]]) -> List[str]:
    """"libc10 (a, b)" for each core library mapped from more than one file."""
    return [f"{name} ({', '.join(files)})" for name, files in libraries.items() if len(files) > 1]


def running_torch() -> RunningTorch:
    return RunningTorch(version=torch.__version__,
                        cxx11_abi=int(torch._C._GLIBCXX_USE_CXX11_ABI),
                        cuda=torch.version.cuda,
                        libraries=mapped_libraries())


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
    twice = duplicated(running.libraries)
    if twice:
        problems.append(f"two copies of a LibTorch library are loaded at once: "
                        f"{'; '.join(twice)}")
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
    twice = duplicated(running.libraries)
    if twice:
        # The library pulled in LibTorch libraries of its own (its ops may even live in another
        # dispatcher, so build_facts may not be reachable): refused before anything is called.
        raise ImportError(f"eiprop: loading {library} mapped a second copy of LibTorch: "
                          f"{'; '.join(twice)}: it was linked against another LibTorch than "
                          f"torch {running.version}; {rebuild}")
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
