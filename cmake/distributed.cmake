# Data-parallel training on c10d (eiprop::DataParallel, eiprop::init_process_group): the library
# eiprop_distributed, built where the LibTorch has c10d with Gloo and Gloo's headers are
# installed (Debian: libgloo-dev; PyPI's torch ships c10d's headers but not Gloo's). Elsewhere
# it is left out and its tests report a skip.
option(EIPROP_DISTRIBUTED "Build data-parallel training on c10d (needs Gloo's headers)" ON)
set(EIPROP_HAS_DISTRIBUTED OFF)
set(EIPROP_DISTRIBUTED_WHY "disabled (EIPROP_DISTRIBUTED=OFF)")
if(EIPROP_DISTRIBUTED)
  # LibTorch exports USE_DISTRIBUTED and USE_C10D_GLOO on torch_cpu when it was built with them
  # (c10d's headers compile to nothing without them).
  set(EIPROP_TORCH_DEFINITIONS)
  foreach(target torch_cpu torch)
    if(TARGET ${target})
      get_target_property(definitions ${target} INTERFACE_COMPILE_DEFINITIONS)
      if(definitions)
        list(APPEND EIPROP_TORCH_DEFINITIONS ${definitions})
      endif()
    endif()
  endforeach()
  find_path(EIPROP_GLOO_INCLUDE_DIR gloo/algorithm.h)
  if(NOT "USE_C10D_GLOO" IN_LIST EIPROP_TORCH_DEFINITIONS)
    set(EIPROP_DISTRIBUTED_WHY "this LibTorch was built without c10d's Gloo backend (USE_C10D_GLOO)")
  elseif(NOT EIPROP_GLOO_INCLUDE_DIR)
    set(EIPROP_DISTRIBUTED_WHY "Gloo's headers (gloo/algorithm.h) not found; install libgloo-dev")
  else()
    include(CheckCXXSourceCompiles)
    include(CMakePushCheckState)
    cmake_push_check_state(RESET)
    set(CMAKE_REQUIRED_INCLUDES ${TORCH_INCLUDE_DIRS} ${EIPROP_GLOO_INCLUDE_DIR})
    set(CMAKE_REQUIRED_FLAGS "-std=c++17 ${TORCH_CXX_FLAGS}")
    list(TRANSFORM EIPROP_TORCH_DEFINITIONS PREPEND "-D" OUTPUT_VARIABLE CMAKE_REQUIRED_DEFINITIONS)
    set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # compile only: LibTorch links later
    check_cxx_source_compiles([=[
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
int main() {
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  c10d::TCPStoreOptions store_options;
  store_options.isServer = true;
  return 0;
}
]=] EIPROP_C10D_GLOO_COMPILES)
    cmake_pop_check_state()
    if(EIPROP_C10D_GLOO_COMPILES)
      set(EIPROP_HAS_DISTRIBUTED ON)
      set(EIPROP_DISTRIBUTED_WHY "c10d with Gloo (headers: ${EIPROP_GLOO_INCLUDE_DIR})")
    else()
      set(EIPROP_DISTRIBUTED_WHY "this LibTorch's c10d/Gloo headers do not compile (see CMakeError.log)")
    endif()
  endif()
endif()
message(STATUS "eiprop: data-parallel training: ${EIPROP_HAS_DISTRIBUTED} - ${EIPROP_DISTRIBUTED_WHY}")

if(EIPROP_HAS_DISTRIBUTED)
  add_library(eiprop_distributed SHARED
    extension/api/distributed/process_group.cpp
    extension/api/distributed/data_parallel.cpp
  )
  add_library(eiprop::eiprop_distributed ALIAS eiprop_distributed)
  target_include_directories(eiprop_distributed PRIVATE ${EIPROP_GLOO_INCLUDE_DIR}
                                                      ${CMAKE_SOURCE_DIR}/extension)
  target_link_libraries(eiprop_distributed PUBLIC eiprop)
  target_compile_definitions(eiprop_distributed PUBLIC EIPROP_HAS_DISTRIBUTED)
  set_target_properties(eiprop_distributed PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
                                                      INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS eiprop_distributed EXPORT eiprop-targets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
