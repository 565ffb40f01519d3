#include "eiprop/launch.h"

#include <c10/util/Exception.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

extern char** environ;

namespace eiprop {
namespace {
constexpr const char* kLaunch = "eiprop::launch_local";
using Clock = std::chrono::steady_clock;

const char* const kRankVariables[] = {"RANK=",        "LOCAL_RANK=",  "WORLD_SIZE=",
                                      "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="};

// This process's environment without the rank variables, then those of `rank`.
std::vector<std::string> rank_environment(int64_t rank, int64_t local_rank,
                                          const LaunchOptions& options, int64_t world_size,
                                          int port) {
  std::vector<std::string> environment;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    const std::string entry = *variable;
    bool ours = false;
    for (const char* prefix : kRankVariables) ours = ours || entry.rfind(prefix, 0) == 0;
    if (!ours) environment.push_back(entry);
  }
  environment.push_back("RANK=" + std::to_string(rank));
  environment.push_back("LOCAL_RANK=" + std::to_string(local_rank));
  environment.push_back("WORLD_SIZE=" + std::to_string(world_size));
  environment.push_back("LOCAL_WORLD_SIZE=" + std::to_string(options.nproc()));
  environment.push_back("MASTER_ADDR=" + options.master_addr());
  environment.push_back("MASTER_PORT=" + std::to_string(port));
  return environment;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}
}  // namespace

int free_port(const std::string& address) {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  TORCH_CHECK(socket_fd >= 0, "eiprop::free_port: socket() failed: ", std::strerror(errno));
  sockaddr_in endpoint{};
  endpoint.sin_family = AF_INET;
  endpoint.sin_port = 0;
  const bool parsed = ::inet_pton(AF_INET, address.c_str(), &endpoint.sin_addr) == 1;
  socklen_t length = sizeof(endpoint);
  const bool bound = parsed &&
                     ::bind(socket_fd, reinterpret_cast<sockaddr*>(&endpoint), sizeof(endpoint)) == 0 &&
                     ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&endpoint), &length) == 0;
  ::close(socket_fd);
  TORCH_CHECK(parsed, "eiprop::free_port: address '", address, "' is not an IPv4 address");
  TORCH_CHECK(bound, "eiprop::free_port: cannot bind to ", address, ":0");
  return ntohs(endpoint.sin_port);
}

std::vector<RankExit> launch_local(const std::string& program,
                                   const std::vector<std::string>& arguments,
                                   const LaunchOptions& options) {
  TORCH_CHECK(options.nproc() >= 1, kLaunch, ": nproc must be >= 1, got ", options.nproc());
  const int64_t world_size = options.world_size() > 0 ? options.world_size() : options.nproc();
  TORCH_CHECK(options.first_rank() >= 0 && options.first_rank() + options.nproc() <= world_size,
              kLaunch, ": ranks ", options.first_rank(), "..",
              options.first_rank() + options.nproc() - 1, " are not all below world_size ",
              world_size);
  const int port = options.master_port() > 0 ? static_cast<int>(options.master_port())
                                             : free_port(options.master_addr());
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const auto nproc = options.nproc();
  std::vector<pid_t> pids(nproc, -1);
  std::vector<RankExit> results(nproc);

  for (int64_t local = 0; local < nproc; ++local) {
    const int64_t rank = options.first_rank() + local;
    results[local].rank = rank;
    auto environment_text = rank_environment(rank, local, options, world_size, port);
    std::vector<std::string> argument_text{program};
    argument_text.insert(argument_text.end(), arguments.begin(), arguments.end());
    auto environment = pointers(environment_text);
    auto argv = pointers(argument_text);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = options.log_dir() + "/rank" + std::to_string(rank) + ".log";
    if (!options.log_dir().empty()) {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
      posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    }
    const int status = posix_spawn(&pids[local], program.c_str(), &actions, nullptr, argv.data(),
                                   environment.data());
    posix_spawn_file_actions_destroy(&actions);
    if (status != 0) {
      for (int64_t r = 0; r < local; ++r) ::kill(pids[r], SIGKILL);
      for (int64_t r = 0; r < local; ++r) ::waitpid(pids[r], nullptr, 0);
      TORCH_CHECK(false, kLaunch, ": cannot start rank ", rank, " (", program,
                  "): ", std::strerror(status));
    }
  }

  int64_t running = nproc;
  bool stopping = false;
  while (running > 0) {
    for (int64_t local = 0; local < nproc; ++local) {
      if (pids[local] < 0) continue;
      int status = 0;
      if (::waitpid(pids[local], &status, WNOHANG) != pids[local]) continue;
      auto& result = results[local];
      result.exited = true;
      result.seconds = elapsed();
      if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
      pids[local] = -1;
      --running;
      if (!result.succeeded() && result.exited && options.stop_all_on_failure()) stopping = true;
    }
    const bool late = options.deadline().count() > 0 &&
                      elapsed() * 1000.0 > static_cast<double>(options.deadline().count());
    if (running > 0 && (stopping || late)) {
      for (int64_t local = 0; local < nproc; ++local) {
        if (pids[local] < 0) continue;
        ::kill(pids[local], SIGKILL);
        int status = 0;
        ::waitpid(pids[local], &status, 0);
        results[local].exited = false;
        results[local].signal = SIGKILL;
        results[local].seconds = elapsed();
        pids[local] = -1;
      }
      running = 0;
    }
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return results;
}

}  // namespace eiprop
