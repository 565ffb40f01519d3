// Data-parallel training of Fashion-MNIST with the plasticity rule on c10d (Gloo).
//
// Each rank is one process of this program, started by torchrun (PyTorch's launcher; its
// --no_python runs a program directly), which exports RANK, WORLD_SIZE, MASTER_ADDR, ...:
//
//   torchrun --standalone --nproc_per_node 2 --no_python train_distributed [options]
//   train_distributed --nproc 2 [options]     # the same: runs that torchrun for you
//   train_distributed --scaling 1,2           # torchrun with 1 rank, then 2, ...: throughput table
//
// Every rank holds the same circuit, learns from its shard of each global batch and applies the
// ranks' averaged update (eiprop::DataParallel); each prints its throughput; rank 0 prints the
// test accuracy and writes <out>/summary.json.
#include "common/command_line.h"
#include "common/fashion_mnist.h"

#include <eiprop/distributed/data_parallel.h>
#include <eiprop/eiprop.h>
#include <eiprop/distributed/process_group.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

extern char** environ;

namespace {

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Settings {
  std::vector<int64_t> hidden{256, 128};
  std::string activation = "tanh";
  std::string learning = "rule";
  int epochs = 2;
  int64_t batch = 256;
  double lr = 0.5;
  double momentum = 0.9;
  int64_t train_limit = 0;
  int threads = 0;
  int timeout_s = 60;
  uint64_t seed = 0;
  double min_accuracy = 0.0;
  std::string data_dir = eiprop::examples::kFashionMnistDir;
  std::string cache_dir = ".cache/fashion-mnist";
  std::string out_dir = "out/distributed";
};

double test_accuracy(eiprop::BalancedMLP& model, const eiprop::examples::Split& split) {
  torch::NoGradGuard no_grad;
  const auto logits = model->forward(split.images);
  return 100.0 * logits.argmax(1).eq(split.labels).to(torch::kDouble).mean().item<double>();
}

// One rank: join the group, train, report.
int run_rank(const Settings& settings) {
  const auto group_options = eiprop::ProcessGroupOptions::from_environment().timeout(
      std::chrono::seconds(settings.timeout_s));
  const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
  const int local_ranks = std::max(1, local_world ? std::atoi(local_world) : 1);
  const int threads = settings.threads > 0
                          ? settings.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                                            local_ranks);
  torch::set_num_threads(threads);

  auto group = eiprop::init_process_group(group_options);
  const auto rank = group->getRank();
  const auto world = group->getSize();
  // The ranks of a machine share the cache of decompressed files: the first fills it (where
  // --nproc has not already), the others read it once it is complete.
  const char* local_rank = std::getenv("LOCAL_RANK");
  const bool fills_cache = local_rank == nullptr || std::atoi(local_rank) == 0;
  eiprop::examples::Split train;
  if (fills_cache) {  // decompresses the test set's files too
    train = eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, true);
  }
  group->barrier()->wait();
  if (!fills_cache) {
    train = eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, true);
  }
  if (settings.train_limit > 0 && settings.train_limit < train.images.size(0)) {
    train = {train.images.narrow(0, 0, settings.train_limit),
             train.labels.narrow(0, 0, settings.train_limit)};
  }

  std::vector<int64_t> widths{784};
  widths.insert(widths.end(), settings.hidden.begin(), settings.hidden.end());
  widths.push_back(10);
  torch::manual_seed(settings.seed);
  eiprop::BalancedMLP model(eiprop::BalancedMLPOptions(widths).activation(settings.activation));
  eiprop::DataParallel parallel(model, group);
  parallel.broadcast_parameters();  // rank 0's initialisation everywhere
  eiprop::PlasticityRule rule(model, settings.lr);
  std::unique_ptr<torch::optim::SGD> optimizer;
  if (settings.learning == "bridge") {
    optimizer = std::make_unique<torch::optim::SGD>(
        model->parameters(), torch::optim::SGDOptions(settings.lr).momentum(settings.momentum));
  }
  const auto prefix = fmt::format("[rank {}/{}]", rank, world);
  if (rank == 0) {
    fmt::print("{} {} ranks, {} threads each; {} train images, circuit {}, learning: {}, "
               "global batch {} ({} per rank), lr {}, {} all-reduce bucket(s) per step\n",
               prefix, world, threads, train.images.size(0), fmt::join(widths, "-"),
               settings.learning, settings.batch, (settings.batch + world - 1) / world, settings.lr,
               parallel.buckets());
  }

  const auto test = rank == 0 ? eiprop::examples::load_fashion_mnist(settings.data_dir,
                                                                     settings.cache_dir, false)
                              : eiprop::examples::Split{};
  const int64_t n = train.images.size(0);
  const int64_t steps_per_epoch = (n + settings.batch - 1) / settings.batch;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed + 1);
  double train_seconds = 0.0;
  int64_t local_samples_total = 0;
  for (int epoch = 1; epoch <= settings.epochs; ++epoch) {
    // The same permutation on every rank (same seed): each takes its shard of the same batch.
    const auto order = torch::randperm(n, generator, torch::kLong);
    const auto start = Clock::now();
    int64_t local_samples = 0;
    double loss_sum = 0.0;
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const auto index =
          parallel.shard(order.narrow(0, s * settings.batch, std::min(settings.batch, n - s * settings.batch)));
      const auto x = train.images.index_select(0, index);
      const auto y = train.labels.index_select(0, index);
      if (optimizer) {
        optimizer->zero_grad();
        double loss = 0.0;
        if (x.size(0) > 0) {
          const auto local_loss = F::cross_entropy(model->forward(x), y);
          local_loss.backward();
          loss = local_loss.item<double>();
        }
        loss_sum += parallel.average_gradients(x.size(0), loss);
        optimizer->step();
      } else {
        // Cross-entropy of the output rates as logits: imbalance one_hot(y) - softmax(r).
        parallel.step(rule, x, [&](const torch::Tensor& output) {
          return torch::one_hot(y, 10).to(output.dtype()) - output.softmax(1);
        });
      }
      local_samples += x.size(0);
    }
    const double seconds = seconds_since(start);
    train_seconds += seconds;
    local_samples_total += local_samples;
    fmt::print("{} epoch {}: {} samples in {:.2f} s = {:.0f} samples/s on this rank\n", prefix,
               epoch, local_samples, seconds, static_cast<double>(local_samples) / seconds);
    if (rank == 0) {
      fmt::print("{} epoch {}: global {:.0f} samples/s, test accuracy {:.2f}%{}\n", prefix, epoch,
                 static_cast<double>(n) / seconds, test_accuracy(model, test),
                 optimizer ? fmt::format(", mean train loss {:.4f}", loss_sum / steps_per_epoch) : "");
    }
    std::fflush(stdout);
  }

  if (rank != 0) return 0;
  const double accuracy = test_accuracy(model, test);
  const double global_rate = static_cast<double>(n * settings.epochs) / train_seconds;
  fmt::print("{} final test accuracy {:.2f}% after {} epochs; {:.0f} samples/s over {} ranks "
             "({:.1f} s of training)\n",
             prefix, accuracy, settings.epochs, global_rate, world, train_seconds);
  std::filesystem::create_directories(settings.out_dir);
  std::ofstream(settings.out_dir + "/summary.json") << fmt::format(
      "{{\n  \"ranks\": {},\n  \"threads_per_rank\": {},\n  \"epochs\": {},\n"
      "  \"train_images\": {},\n  \"global_batch\": {},\n  \"learning\": \"{}\",\n"
      "  \"test_accuracy\": {:.3f},\n  \"samples_per_second\": {:.1f},\n"
      "  \"train_seconds\": {:.3f}\n}}\n",
      world, threads, settings.epochs, n, settings.batch, settings.learning, accuracy, global_rate,
      train_seconds);
  if (accuracy < settings.min_accuracy) {
    fmt::print(stderr, "test accuracy {:.2f}% is below --min-accuracy {:.2f}%\n", accuracy,
               settings.min_accuracy);
    return 1;
  }
  return 0;
}

std::string this_program() {
  std::vector<char> path(4096);
  const auto length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  TORCH_CHECK(length > 0, "train_distributed: cannot find its own executable");
  return std::string(path.data(), static_cast<size_t>(length));
}

// Runs nproc ranks of this program on this machine under torchrun, as
// `<python> -m torch.distributed.run` (which every PyTorch with torchrun has; its options are
// spelled with underscores, which every version accepts). Returns torchrun's exit status: 0 if
// every rank succeeded; otherwise torchrun has stopped the other ranks and printed which failed
// and how.
int launch(const std::string& python, const std::vector<std::string>& arguments, int64_t nproc,
           int64_t master_port) {
  std::vector<std::string> command{python, "-m", "torch.distributed.run", "--nproc_per_node",
                                   std::to_string(nproc)};
  if (master_port > 0) {
    command.insert(command.end(), {"--nnodes", "1", "--master_addr", "127.0.0.1",
                                   "--master_port", std::to_string(master_port)});
  } else {
    command.push_back("--standalone");  // a rendezvous of its own on this machine
  }
  command.insert(command.end(), {"--no_python", this_program()});
  // The ranks get every argument but --nproc: under torchrun this program is a rank whatever
  // --nproc says, and torchrun's argparse reads "--nproc" as an ambiguous abbreviation of its
  // own --nproc_per_node even after the program, and stops.
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--nproc") {
      ++i;  // and its value
    } else if (arguments[i].rfind("--nproc=", 0) != 0) {
      command.push_back(arguments[i]);
    }
  }

  std::vector<char*> argv;
  for (auto& argument : command) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int error = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
      error != 0) {
    fmt::print(stderr, "cannot start {} (--python): {}\n", python, std::strerror(error));
    return 1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fmt::print(stderr, "torchrun ended by signal {}\n", WTERMSIG(status));
  return 1;
}

double read_samples_per_second(const std::string& summary) {
  std::ifstream file(summary);
  std::string line;
  while (std::getline(file, line)) {
    const auto key = line.find("\"samples_per_second\": ");
    if (key != std::string::npos) return std::stod(line.substr(key + 22));
  }
  throw std::runtime_error("no samples_per_second in " + summary);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Data-parallel training of Fashion-MNIST with the eiprop rule on c10d (Gloo)"};
  Settings settings;
  int64_t nproc = 2;
  int64_t master_port = 0;
  std::vector<int64_t> scaling;
  int repeats = 2;
  std::string python = EIPROP_TORCHRUN_PYTHON;
  app.add_option("--nproc", nproc,
                 "ranks to run on this machine under torchrun; 0: this process is one rank, from "
                 "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (always so under torchrun)")
      ->capture_default_str()
      ->check(eiprop::examples::non_negative())
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--master-port", master_port,
                 "TCPStore port of --nproc's torchrun (0: torchrun --standalone picks one)")
      ->capture_default_str();
  app.add_option("--python", python,
                 "Python interpreter whose torch runs torchrun for --nproc and --scaling")
      ->capture_default_str();
  app.add_option("--scaling", scaling,
                 "measure throughput for these rank counts, interleaved (e.g. 1,2); overrides --nproc")
      ->delimiter(',');
  app.add_option("--repeats", repeats, "rounds of --scaling")->capture_default_str();
  app.add_option("--hidden", settings.hidden, "hidden widths, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--activation", settings.activation, "hidden activation")->capture_default_str();
  app.add_option("--learning", settings.learning,
                 "rule: PlasticityRule (plain SGD steps); bridge: autograd bridge + SGD momentum")
      ->capture_default_str()
      ->check(CLI::IsMember({"rule", "bridge"}));
  app.add_option("--epochs", settings.epochs, "epochs")->capture_default_str()->check(eiprop::examples::positive());
  app.add_option("--batch", settings.batch, "global batch size (split over the ranks)")
      ->capture_default_str()
      ->check(eiprop::examples::positive());
  app.add_option("--lr", settings.lr, "learning rate")->capture_default_str();
  app.add_option("--momentum", settings.momentum, "SGD momentum (bridge)")->capture_default_str();
  app.add_option("--train-limit", settings.train_limit, "use only the first N training images (0: all)")
      ->capture_default_str();
  app.add_option("--threads", settings.threads,
                 "intra-op threads per rank (0: this machine's cores / ranks on it)")
      ->capture_default_str();
  app.add_option("--timeout", settings.timeout_s,
                 "seconds a rank waits for the others (rendezvous, each all-reduce)")
      ->capture_default_str();
  app.add_option("--seed", settings.seed, "random seed")->capture_default_str();
  app.add_option("--min-accuracy", settings.min_accuracy, "fail if the final test accuracy is lower")
      ->capture_default_str();
  eiprop::examples::add_fashion_mnist_options(app, settings.data_dir, settings.cache_dir);
  app.add_option("--out", settings.out_dir, "output directory (summary.json)")
      ->capture_default_str()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // --scaling appends its own
  app.footer(R"(Ranks are processes of this program started by torchrun, PyTorch's launcher
(`python -m torch.distributed.run` where no torchrun command is installed):
  one machine, 2 ranks (what --nproc 2 runs):
    torchrun --standalone --nproc_per_node 2 --no_python train_distributed [options]
  two machines, 2 ranks each: on both, with --node_rank 1 on the second,
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 2 --master_addr HOST0 \
      --master_port 29500 --no_python train_distributed [options]
  or with a rendezvous instead of node ranks (the same command on both machines):
    torchrun --nnodes 2 --nproc_per_node 2 --rdzv_backend c10d --rdzv_endpoint HOST0:29400 \
      --rdzv_id JOB --no_python train_distributed [options]
HOST0 is an address of the first machine that the others reach. torchrun stops every rank
when one fails and prints which failed. See docs/distributed.md.)");
  if (const int code = eiprop::examples::parse_command_line(app, argc, argv); code >= 0) {
    return code;
  }

  try {
    // Under torchrun (which exports TORCHELASTIC_RUN_ID) this process is a rank whatever
    // --nproc says: a rank that started torchrun again would start ranks without end.
    if (nproc == 0 || std::getenv("TORCHELASTIC_RUN_ID") != nullptr) return run_rank(settings);
    // Decompress the data once, before ranks read it.
    eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, true);
    eiprop::examples::load_fashion_mnist(settings.data_dir, settings.cache_dir, false);
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (scaling.empty()) {
      std::filesystem::create_directories(settings.out_dir);
      return launch(python, arguments, nproc, master_port);
    }
    // Scaling: the same job on 1, 2, ... ranks, interleaved so that load changes on the machine
    // affect every rank count alike; the median of the repeats.
    std::map<int64_t, std::vector<double>> rates;
    for (int r = 0; r < repeats; ++r) {
      for (auto ranks : scaling) {
        const auto out = settings.out_dir + "/scaling-" + std::to_string(ranks) + "ranks";
        std::filesystem::create_directories(out);
        auto run_arguments = arguments;
        run_arguments.insert(run_arguments.end(), {"--out", out});
        if (launch(python, run_arguments, ranks, master_port) != 0) return 1;
        rates[ranks].push_back(read_samples_per_second(out + "/summary.json"));
      }
    }
    const auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    };
    const double base = median(rates[scaling.front()]);
    fmt::print("\n{:>6}  {:>14}  {:>8}  {:>10}   (median of {} interleaved runs; runs: samples/s)\n",
               "ranks", "samples/s", "speedup", "efficiency", repeats);
    std::ofstream csv(settings.out_dir + "/scaling.csv");
    csv << "ranks,samples_per_second_median,speedup\n";
    for (auto ranks : scaling) {
      const double rate = median(rates[ranks]);
      fmt::print("{:>6}  {:>14.0f}  {:>8.2f}  {:>9.0f}%   {:.0f}\n", ranks, rate, rate / base,
                 100.0 * rate / base / static_cast<double>(ranks) *
                     static_cast<double>(scaling.front()),
                 fmt::join(rates[ranks], ", "));
      csv << ranks << "," << rate << "," << rate / base << "\n";
    }
    return 0;
  } catch (const eiprop::examples::MissingData& error) {
    fmt::print(stderr, "{}\n", error.what());
    return eiprop::examples::kMissingData;
  } catch (const std::exception& error) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
    fmt::print(stderr, "error: {}\n", c10_error ? c10_error->what_without_backtrace() : error.what());
    // Leave at once: the process group's destructor may wait on peers that are gone.
    std::fflush(stdout);
    std::_Exit(1);
  }
}
