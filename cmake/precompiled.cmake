# Build speed on small machines: ccache and one precompiled header shared by every target.
#
# Parsing LibTorch's ATen headers is most of the time a translation unit of eiprop takes (about 10
# of 14 s for an operator's file on the 2-core build machine). They are compiled once into
# eiprop_pch's precompiled header and every target reuses it (REUSE_FROM), so each file pays that
# parse once per build instead of once per file. Only the core headers are precompiled: loading
# a precompiled header costs time in proportion to its size, and a header of all of
# <torch/torch.h> (728 MB) costs more to load (7.6 s) than it saves a file that needs ATen only.
#
# GCC uses a precompiled header only when the flags that shape it match, so every target is
# compiled as position-independent code (-fPIC, which shared libraries need anyway, instead of
# the -fPIE an executable gets by default) and the sanitizer flags are set for the whole build.
# GCC's -Winvalid-pch (which CMake adds) reports a file that could not use it.
option(EIPROP_PCH "Precompile LibTorch's core headers once and reuse them in every target" ON)
if(EIPROP_BUILD_FUZZ)
  # The fuzz build instruments single targets with flags of their own (tests/fuzz).
  set(EIPROP_PCH OFF)
endif()

# ccache: CCACHE_BASEDIR makes paths relative so that clones of the repository share compile
# results; pch_defines/time_macros/include_file_* let ccache cache files that use the
# precompiled header; hash_dir off lets builds with debug information (the sanitizer build)
# hit across build directories.
find_program(EIPROP_CCACHE ccache)
if(EIPROP_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR} CCACHE_NOHASHDIR=1
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${EIPROP_CCACHE})
endif()

if(EIPROP_PCH)
  add_compile_options(-fPIC)
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/eiprop_pch.cpp
       CONTENT "// The translation unit that carries eiprop's precompiled header.\n")
  add_library(eiprop_pch OBJECT ${CMAKE_BINARY_DIR}/eiprop_pch.cpp)
  target_link_libraries(eiprop_pch PRIVATE ${TORCH_LIBRARIES})
  target_precompile_headers(eiprop_pch PRIVATE
    <ATen/ATen.h> <torch/library.h> <torch/types.h> <torch/utils.h>
    <functional> <memory> <string> <tuple> <vector>)
endif()

# Every C++ target defined in `directory` and below it reuses eiprop_pch's header.
function(eiprop_use_precompiled_header directory)
  if(NOT EIPROP_PCH)
    return()
  endif()
  get_property(targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT target STREQUAL "eiprop_pch" AND type MATCHES
       "^(EXECUTABLE|SHARED_LIBRARY|STATIC_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      target_precompile_headers(${target} REUSE_FROM eiprop_pch)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    eiprop_use_precompiled_header(${subdirectory})
  endforeach()
endfunction()
