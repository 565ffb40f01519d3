#include "eiprop/distributed/process_group.h"
#include "api/distributed/error_text.h"

#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <string>

namespace eiprop {
namespace {
constexpr const char* kInit = "eiprop::init_process_group";

using detail::error_text;

// The integer in environment variable `name`, or `fallback` where it is not set.
int64_t integer_from_environment(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  TORCH_CHECK(end != nullptr && *end == '\0', "eiprop::ProcessGroupOptions::from_environment: ",
              name, "='", text, "' is not an integer");
  return value;
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const ProcessGroupOptions& options) {
  if (!options.hostname().empty()) {
    return c10d::ProcessGroupGloo::createDeviceForHostname(options.hostname());
  }
  if (options.store_file().empty() && is_loopback(options.master_addr())) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// A peer that dies closes its connections, and writing to a closed one raises SIGPIPE, which
// would end this process before DataParallel can report the failure. Unless the program handles
// SIGPIPE itself, it is ignored from here on (as the Python interpreter ignores it from
// start-up): the write then fails with EPIPE and the collective raises.
void ignore_broken_pipes() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
}

}  // namespace

ProcessGroupOptions ProcessGroupOptions::from_environment() {
  ProcessGroupOptions options;
  options.rank(integer_from_environment("RANK", options.rank()));
  options.world_size(integer_from_environment("WORLD_SIZE", options.world_size()));
  if (const char* address = std::getenv("MASTER_ADDR"); address && *address) {
    options.master_addr(address);
  }
  options.master_port(integer_from_environment("MASTER_PORT", options.master_port()));
  // torchrun's spelling (Python's True); its agent then already listens on MASTER_PORT.
  if (const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); agent_store) {
    options.serve_store(std::string(agent_store) != "True");
  }
  return options;
}

c10::intrusive_ptr<c10d::ProcessGroup> init_process_group(const ProcessGroupOptions& options) {
  TORCH_CHECK(options.world_size() >= 1, kInit, ": world_size (WORLD_SIZE) must be >= 1, got ",
              options.world_size());
  TORCH_CHECK(options.rank() >= 0 && options.rank() < options.world_size(), kInit,
              ": rank (RANK) must be in [0, ", options.world_size(), "), got ", options.rank());
  TORCH_CHECK(options.master_port() > 0 && options.master_port() < 65536, kInit,
              ": master_port (MASTER_PORT) must be in [1, 65535], got ", options.master_port());
  TORCH_CHECK(options.timeout().count() > 0, kInit, ": timeout must be positive, got ",
              options.timeout().count(), " ms");
  ignore_broken_pipes();
  const int rank = static_cast<int>(options.rank());
  const int size = static_cast<int>(options.world_size());
  const std::string where =
      options.store_file().empty()
          ? "the TCPStore at " + options.master_addr() + ":" + std::to_string(options.master_port())
          : "the FileStore " + options.store_file();

  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  try {
    if (options.store_file().empty()) {
      c10d::TCPStoreOptions store_options;
      store_options.port = static_cast<std::uint16_t>(options.master_port());
      store_options.isServer = rank == 0 && options.serve_store();
      store_options.numWorkers = static_cast<std::size_t>(size);
      store_options.timeout = options.timeout();
      store = c10::make_intrusive<c10d::TCPStore>(options.master_addr(), store_options);
    } else {
      store = c10::make_intrusive<c10d::FileStore>(options.store_file(), size);
    }
    store->setTimeout(options.timeout());
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout());
    gloo_options->devices.push_back(gloo_device(options));
    gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, gloo_options);
  } catch (const std::exception& error) {
    TORCH_CHECK(false, kInit, ": rank ", rank, " of ", size, " could not meet the other ranks through ",
                where, " within ", options.timeout().count(), " ms: ", error_text(error));
  }
#if TORCH_VERSION_MAJOR >= 2
  // Since LibTorch 2.0 a ProcessGroup dispatches to one backend per device type.
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
  group->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  return group;
#else
  return gloo;
#endif
}

}  // namespace eiprop
