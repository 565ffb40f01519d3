// Rendezvous for data-parallel training: a c10d process group (Gloo, over TCP) whose ranks meet
// through c10d's TCPStore (at MASTER_ADDR:MASTER_PORT, served by rank 0 or by torchrun) or
// FileStore (a file every rank can reach). Built only where the LibTorch has c10d and Gloo's
// headers are installed; EIPROP_HAS_DISTRIBUTED is then defined for users of
// eiprop::eiprop_distributed.
#pragma once

#include <torch/arg.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace eiprop {

struct ProcessGroupOptions {
  // RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the environment, where they are set (the
  // variables torchrun and most cluster launchers export), and serve_store from torchrun's
  // TORCHELASTIC_USE_AGENT_STORE; the defaults below otherwise. A set variable that is not a
  // valid value raises an error naming it.
  static ProcessGroupOptions from_environment();

  // This process's rank, in [0, world_size).
  TORCH_ARG(int64_t, rank) = 0;
  TORCH_ARG(int64_t, world_size) = 1;
  // Where rank 0 serves the TCPStore; every rank connects to it.
  TORCH_ARG(std::string, master_addr) = "127.0.0.1";
  TORCH_ARG(int64_t, master_port) = 29500;
  // Whether rank 0 serves the TCPStore. False where a launcher already serves it at
  // MASTER_ADDR:MASTER_PORT, as torchrun's agent does when it exports
  // TORCHELASTIC_USE_AGENT_STORE=True: every rank is then a client.
  TORCH_ARG(bool, serve_store) = true;
  // When not empty: rendezvous through a FileStore at this path instead of the TCPStore (a
  // fresh file on a file system every rank sees; nothing to choose, no port to race for).
  TORCH_ARG(std::string, store_file) = "";
  // The address this rank's Gloo connections bind to. Empty: 127.0.0.1 when master_addr is a
  // loopback address, the interface named by GLOO_SOCKET_IFNAME when that is set, otherwise
  // the address this host's name resolves to.
  TORCH_ARG(std::string, hostname) = "";
  // Bound on the rendezvous and on every collective: a rank that dies makes the others fail
  // at once (its connections close); one that stops answering, after at most this long.
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::seconds(60);
};

// Joins the process group: blocks until all world_size ranks have met (or the timeout passes,
// which raises an error naming the store and the rank), then returns the group, whose default
// backend is Gloo. Unless the program handles SIGPIPE itself, it is ignored from here on (as
// Python ignores it), so that a write to a dead peer's closed connection fails with an error that
// DataParallel reports instead of ending the process.
c10::intrusive_ptr<c10d::ProcessGroup> init_process_group(const ProcessGroupOptions& options);

}  // namespace eiprop
