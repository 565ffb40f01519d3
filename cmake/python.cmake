# The Python side of the build: the interpreter whose torch this LibTorch build must match, and
# the Python package's install rule.
#
# EIPROP_PYTHON runs the Python tests. Under pip (scikit-build-core sets SKBUILD) it is the
# interpreter building the package, and LibTorch is that interpreter's torch unless a prefix
# was given.
if(SKBUILD)
  if(NOT EIPROP_PYTHON)
    set(EIPROP_PYTHON "${Python_EXECUTABLE}" CACHE FILEPATH "" FORCE)
  endif()
  if(NOT Torch_DIR)
    # Both torch's cmake prefix and its package directory (as scripts/common.sh gives them):
    # TorchConfig finds its libraries with find_library, which would otherwise take a system
    # LibTorch's (Debian's libtorch-dev in /usr/lib) before the package's own.
    execute_process(
      COMMAND "${EIPROP_PYTHON}" -c
        "import os, torch; print(torch.utils.cmake_prefix_path + ';' + os.path.dirname(torch.__file__))"
      OUTPUT_VARIABLE EIPROP_PYTHON_TORCH_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "eiprop: ${EIPROP_PYTHON} cannot import torch; install torch into the "
                          "environment that builds eiprop (pip install --no-build-isolation "
                          "uses the environment's own torch)")
    endif()
    list(APPEND CMAKE_PREFIX_PATH "${EIPROP_PYTHON_TORCH_PREFIX}")
  endif()
endif()

# After find_package(Torch): refuses a build whose Python would load another torch than the
# LibTorch found (a library built against one libtorch and loaded into another crashes or
# misreads its arguments; the package's import guard catches it at run time, this at configure
# time).
function(eiprop_check_python_torch)
  if(NOT EIPROP_PYTHON)
    return()
  endif()
  execute_process(
    COMMAND "${EIPROP_PYTHON}" -c
      "import re, torch; print(re.match(r'[0-9]+[.][0-9]+[.][0-9]+', torch.__version__).group(0)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
    OUTPUT_VARIABLE facts OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE status
    ERROR_VARIABLE error)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "eiprop: EIPROP_PYTHON=${EIPROP_PYTHON} cannot import torch:\n${error}")
  endif()
  # The last two lines (the interpreter may print warnings first).
  string(REPLACE "\n" ";" facts "${facts}")
  list(LENGTH facts count)
  if(count LESS 2)
    message(FATAL_ERROR "eiprop: EIPROP_PYTHON=${EIPROP_PYTHON} did not report its torch: ${facts}")
  endif()
  math(EXPR last "${count} - 1")
  math(EXPR before_last "${count} - 2")
  list(GET facts ${before_last} python_version)
  list(GET facts ${last} python_abi)
  # LibTorch sets the ABI flag where it is not libstdc++'s default (1 since GCC 5); torch 2.11
  # sets none.
  set(abi 1)
  if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
    set(abi 0)
  endif()
  if(NOT python_version VERSION_EQUAL Torch_VERSION OR NOT python_abi EQUAL abi)
    message(FATAL_ERROR
      "eiprop: EIPROP_PYTHON's torch is not the LibTorch this build found:\n"
      "  LibTorch: ${Torch_VERSION} (_GLIBCXX_USE_CXX11_ABI=${abi}) from ${Torch_DIR}\n"
      "  ${EIPROP_PYTHON}: torch ${python_version} (_GLIBCXX_USE_CXX11_ABI=${python_abi})\n"
      "Point CMAKE_PREFIX_PATH at that Python's torch.utils.cmake_prefix_path, or EIPROP_PYTHON "
      "at the Python of this LibTorch.")
  endif()
  message(STATUS "eiprop: ${EIPROP_PYTHON} has torch ${python_version}, as LibTorch")
endfunction()

# After find_package(Torch): its libraries must be the ones its config describes. TorchConfig
# looks for them with find_library, which prefers the system's directories to the config's own
# hint: with Debian's libtorch-dev installed, PyPI torch's config could link eiprop against
# Debian's libtorch.so and libc10.so.1.13, headers of one LibTorch with the libraries of another.
function(eiprop_check_torch_libraries)
  get_filename_component(prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
  foreach(library TORCH_LIBRARY c10_LIBRARY)
    get_filename_component(found "${${library}}" REALPATH)
    string(FIND "${found}" "${prefix}/" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR
        "eiprop: LibTorch's config is ${Torch_DIR} (prefix ${prefix}) but ${library} is "
        "${${library}}, another LibTorch's. Put the config's own library directory first: for "
        "PyPI's torch, CMAKE_PREFIX_PATH needs both torch.utils.cmake_prefix_path and the torch "
        "package directory (scripts/common.sh: torch_prefix).")
    endif()
  endforeach()
endfunction()

# pip install: the ops library goes into the package directory, next to python/eiprop's modules.
function(eiprop_install_python_package)
  if(SKBUILD)
    install(TARGETS eiprop LIBRARY DESTINATION eiprop COMPONENT python)
  endif()
endfunction()
