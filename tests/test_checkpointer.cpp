// Checkpointer: round trip of module, optimizer and RNG state; every-N and keep-K; detection of
// truncated and damaged files with fallback to the previous checkpoint; bitwise resumption in a
// new process; SIGKILL in the middle of saves never yields a checkpoint that loads but is wrong.
#include "reference.h"
#include "scratch_directory.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <torch/nn/module.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

extern char** environ;

namespace eiprop {
namespace testing {
namespace {

namespace fs = std::filesystem;

pid_t spawn(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  EXPECT_EQ(rc, 0) << "posix_spawn " << arguments[0];
  return pid;
}

int run(const std::vector<std::string>& arguments) {
  const pid_t pid = spawn(arguments);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<at::Tensor> read_parameters(const std::string& path) {
  std::vector<at::Tensor> parameters;
  torch::load(parameters, path);
  return parameters;
}

struct Model {
  BalancedMLP net{BalancedMLPOptions({6, 8, 3})};
  torch::optim::SGD optimizer{net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)};

  void train_step(int64_t seed) {
    torch::manual_seed(seed);
    optimizer.zero_grad();
    net->forward(torch::randn({5, 6})).pow(2).sum().backward();
    optimizer.step();
  }
};

std::vector<at::Tensor> snapshot(torch::nn::Module& module) {
  std::vector<at::Tensor> values;
  for (const auto& parameter : module.parameters()) values.push_back(parameter.detach().clone());
  return values;
}

void expect_bitwise_equal(const std::vector<at::Tensor>& actual,
                          const std::vector<at::Tensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_TRUE(torch::equal(actual[i], expected[i])) << i;
}

void flip_byte(const std::string& path, std::streamoff offset) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekg(offset);
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  file.seekp(offset);
  file.write(&byte, 1);
}

TEST(Checkpointer, RestoresModuleOptimizerGeneratorAndPosition) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-round-trip");
  const auto& directory = directory_scratch.path();
  Model model;
  model.train_step(1);
  model.train_step(2);  // momentum buffers now hold state
  Checkpointer checkpoints(directory, CheckpointerOptions().every(5));
  const auto path = checkpoints.save(10, *model.net, model.optimizer, 42);
  const auto saved = snapshot(*model.net);
  const auto draw_after_save = torch::randn({4});  // from the saved generator state
  model.train_step(3);                             // parameters, momentum and generator move on
  const auto trained_once_more = snapshot(*model.net);

  const auto position = checkpoints.load_latest(*model.net, model.optimizer);
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->step, 10);
  EXPECT_EQ(position->loader_position, 42);
  EXPECT_EQ(position->path, path);
  expect_bitwise_equal(snapshot(*model.net), saved);
  EXPECT_TRUE(torch::equal(torch::randn({4}), draw_after_save));
  // Same step again from the restored momentum: the same parameters, bitwise.
  model.train_step(3);
  expect_bitwise_equal(snapshot(*model.net), trained_once_more);
}

TEST(Checkpointer, SavesEveryNStepsAndKeepsTheLastK) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-every-keep");
  const auto& directory = directory_scratch.path();
  Model model;
  Checkpointer checkpoints(directory, CheckpointerOptions().every(3).keep(2).prefix("run"));
  std::vector<int64_t> saved;
  for (int64_t step = 0; step <= 12; ++step) {
    if (checkpoints.maybe_save(step, *model.net, model.optimizer, step)) saved.push_back(step);
  }
  EXPECT_EQ(saved, (std::vector<int64_t>{3, 6, 9, 12}));
  const auto files = checkpoints.checkpoints();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "run-000000000009.ckpt");
  EXPECT_EQ(fs::path(files[1]).filename(), "run-000000000012.ckpt");
  for (const auto& item : fs::directory_iterator(directory)) {
    EXPECT_EQ(item.path().extension(), ".ckpt") << item.path();  // no temporary files left
  }
}

TEST(Checkpointer, TracksFurtherModulesGeneratorsAndTensors) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-tracked");
  const auto& directory = directory_scratch.path();
  Model first, second;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  at::Tensor progress = torch::tensor({1.5, 2.5}, torch::kDouble);
  Checkpointer checkpoints(directory);
  checkpoints.track("first", *first.net)
      .track("first_optimizer", first.optimizer)
      .track("second", *second.net)
      .track("loader_generator", generator)
      .track("progress", progress);
  checkpoints.save(1, 0);
  const auto first_saved = snapshot(*first.net), second_saved = snapshot(*second.net);
  const auto draw = torch::randperm(20, generator, torch::kLong);
  first.train_step(5);
  second.train_step(6);
  torch::randperm(20, generator, torch::kLong);
  progress = torch::zeros({2}, torch::kDouble);
  ASSERT_TRUE(checkpoints.load_latest().has_value());
  expect_bitwise_equal(snapshot(*first.net), first_saved);
  expect_bitwise_equal(snapshot(*second.net), second_saved);
  EXPECT_TRUE(torch::equal(torch::randperm(20, generator, torch::kLong), draw));
  EXPECT_TRUE(torch::equal(progress, torch::tensor({1.5, 2.5}, torch::kDouble)));
  expect_error([&] { checkpoints.track("progress", progress); }, {"already tracked"});
  expect_error([&] { checkpoints.track("module", *first.net); }, {"reserved"});
}

TEST(Checkpointer, RefusesBadOptions) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-options");
  const auto& directory = directory_scratch.path();
  expect_error([&] { Checkpointer(directory, CheckpointerOptions().every(0)); },
               {"eiprop::Checkpointer", "every must be positive"});
  expect_error([&] { Checkpointer(directory, CheckpointerOptions().keep(-1)); },
               {"eiprop::Checkpointer", "keep must be positive"});
  expect_error([&] { Checkpointer(directory, CheckpointerOptions().prefix("a/b")); },
               {"eiprop::Checkpointer", "prefix"});
}

TEST(Checkpointer, DetectsTruncatedAndDamagedFilesAndFallsBack) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-damage");
  const auto& directory = directory_scratch.path();
  Model model;
  Checkpointer checkpoints(directory, CheckpointerOptions().every(1).keep(10));
  checkpoints.save(1, *model.net, model.optimizer, 1);
  const auto good = snapshot(*model.net);
  model.train_step(1);
  const auto newest = checkpoints.save(2, *model.net, model.optimizer, 2);
  const auto size = static_cast<std::streamoff>(fs::file_size(newest));
  const auto original = [&] {
    std::ifstream file(newest, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  }();
  const auto restore = [&] { std::ofstream(newest, std::ios::binary) << original; };

  struct Damage {
    std::string what;
    std::function<void()> apply;
    std::string reason;
  };
  const std::vector<Damage> damages{
      {"truncated payload", [&] { fs::resize_file(newest, size - 100); }, "is truncated"},
      {"truncated header", [&] { fs::resize_file(newest, 20); }, "is truncated"},
      {"empty file", [&] { fs::resize_file(newest, 0); }, "is truncated"},
      {"flipped payload byte", [&] { flip_byte(newest, size / 2); }, "is corrupt"},
      {"flipped last byte", [&] { flip_byte(newest, size - 1); }, "is corrupt"},
      {"flipped step in header", [&] { flip_byte(newest, 12); }, "damaged header"},
      {"flipped magic", [&] { flip_byte(newest, 0); }, "not an eiprop checkpoint"},
      {"trailing garbage", [&] { std::ofstream(newest, std::ios::app) << "xyz"; },
       "trailing bytes"},
  };
  for (const auto& damage : damages) {
    SCOPED_TRACE(damage.what);
    restore();
    damage.apply();
    expect_error([&] { checkpoints.load(newest, *model.net, model.optimizer); },
                 {"eiprop::Checkpointer", "refusing checkpoint", newest, damage.reason});
    model.train_step(9);  // whatever the module holds now must be replaced by step 1's state
    const auto position = checkpoints.load_latest(*model.net, model.optimizer);
    ASSERT_TRUE(position.has_value());
    EXPECT_EQ(position->step, 1);
    expect_bitwise_equal(snapshot(*model.net), good);
  }
  // With every file damaged nothing is loaded, and that is an error, not a fresh start.
  flip_byte(checkpoints.checkpoints().front(), 100);
  expect_error([&] { checkpoints.load_latest(*model.net, model.optimizer); },
               {"eiprop::Checkpointer", "all 2 checkpoints", "integrity"});
}

TEST(Checkpointer, RefusesACheckpointWithoutTheTrackedState) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-other-model");
  const auto& directory = directory_scratch.path();
  Model model;
  Checkpointer(directory).save(1, *model.net, model.optimizer, 0);
  BalancedMLP other(BalancedMLPOptions({6, 8, 3}));
  torch::optim::SGD optimizer(other->parameters(), torch::optim::SGDOptions(0.1));
  Checkpointer checkpoints(directory);
  checkpoints.track("extra", *other);
  expect_error([&] { checkpoints.load_latest(*other, optimizer); },
               {"eiprop::Checkpointer", "holds no 'extra'"});
}

// A checkpoint records the configuration it was written with; a load with another one is refused
// before anything changes, naming the file and each differing setting.
TEST(Checkpointer, RefusesACheckpointWrittenWithAnotherConfiguration) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-configuration");
  const auto& directory = directory_scratch.path();
  Model model;
  const CheckpointConfiguration written{{"hidden", "256,128"}, {"activation", "tanh"},
                                        {"batch", "64"}};
  const auto path = Checkpointer(directory, CheckpointerOptions().configuration(written))
                        .save(5, *model.net, model.optimizer, 5);
  model.train_step(1);
  const auto before = snapshot(*model.net);
  Checkpointer other(directory, CheckpointerOptions().configuration(
                                    {{"hidden", "64"}, {"activation", "tanh"}, {"batch", "32"}}));
  expect_error([&] { other.load_latest(*model.net, model.optimizer); },
               {"eiprop::Checkpointer: refusing checkpoint " + path,
                "written with another configuration: hidden 256,128 (this run: 64); batch 64 "
                "(this run: 32)"});
  expect_bitwise_equal(snapshot(*model.net), before);
  // The same configuration loads; a checkpointer without one does not check.
  Checkpointer same(directory, CheckpointerOptions().configuration(written));
  EXPECT_EQ(same.load_latest(*model.net, model.optimizer)->step, 5);
  Checkpointer unchecked(directory);
  EXPECT_EQ(unchecked.load_latest(*model.net, model.optimizer)->step, 5);
  // A checkpoint written without a configuration cannot be checked against one.
  const ScratchDirectory unrecorded_scratch("eiprop-checkpointer-configuration-none");
  const auto& unrecorded = unrecorded_scratch.path();
  Checkpointer(unrecorded).save(3, *model.net, model.optimizer, 3);
  Checkpointer checking(unrecorded, CheckpointerOptions().configuration(written));
  expect_error([&] { checking.load_latest(*model.net, model.optimizer); },
               {"records no configuration"});
}

TEST(Checkpointer, InterruptedSavesLeaveNoCheckpointAndTheirTemporariesAreRemoved) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-temporary");
  const auto& directory = directory_scratch.path();
  const auto stale = directory + "/checkpoint-000000000007.ckpt.tmp";
  std::ofstream(stale) << "half a checkpoint";
  Checkpointer checkpoints(directory);
  EXPECT_FALSE(fs::exists(stale));
  Model model;
  EXPECT_FALSE(checkpoints.load_latest(*model.net, model.optimizer).has_value());
}

const std::string kTrainer = EIPROP_CHECKPOINT_TRAINER;

TEST(Checkpointer, ResumingInANewProcessReproducesTheUninterruptedRunBitwise) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-resume");
  const auto& directory = directory_scratch.path();
  const int64_t steps = 40;  // 3 epochs of 12 batches and a part
  ASSERT_EQ(run({kTrainer, "train", directory + "/straight", std::to_string(steps), "1000",
                 directory + "/straight.pt"}),
            0);
  ASSERT_EQ(run({kTrainer, "train", directory + "/halves", std::to_string(steps / 2),
                 std::to_string(steps / 2), directory + "/first_half.pt"}),
            0);
  ASSERT_TRUE(fs::exists(directory + "/halves/checkpoint-000000000020.ckpt"));
  ASSERT_EQ(run({kTrainer, "train", directory + "/halves", std::to_string(steps),
                 std::to_string(steps / 2), directory + "/resumed.pt"}),
            0);
  const auto straight = read_parameters(directory + "/straight.pt");
  const auto first_half = read_parameters(directory + "/first_half.pt");
  const auto resumed = read_parameters(directory + "/resumed.pt");
  expect_bitwise_equal(resumed, straight);
  EXPECT_FALSE(torch::equal(first_half[0], straight[0]));  // the second half did train
}

// Step s of the save loop holds parameters filled with s + 0.25 * index and position 3 s.
void expect_save_loop_checkpoint(const TrainingPosition& position, torch::nn::Module& module) {
  EXPECT_EQ(position.loader_position, 3 * position.step);
  int64_t index = 0;
  for (const auto& parameter : module.parameters()) {
    const double expected =
        static_cast<double>(position.step) + 0.25 * static_cast<double>(index++);
    EXPECT_TRUE(torch::equal(parameter, torch::full_like(parameter, expected)))
        << "step " << position.step << " parameter " << index - 1;
  }
}

bool has_temporary(const std::string& directory) {
  for (const auto& item : fs::directory_iterator(directory)) {
    if (item.path().extension() == ".tmp") return true;
  }
  return false;
}

TEST(Checkpointer, SigkillDuringSavesNeverLeavesAWrongCheckpoint) {
  const ScratchDirectory directory_scratch("eiprop-checkpointer-sigkill");
  const auto& directory = directory_scratch.path();
  std::mt19937 random(1234);
  std::uniform_int_distribution<int> delay_ms(0, 400);
  int killed_mid_save = 0;
  int64_t last_step = 0;
  const int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    const pid_t child = spawn({kTrainer, "save-loop", directory});
    // Program start-up takes seconds on a loaded machine: wait until the child is saving (its
    // first temporary file appears), then kill it at once (even rounds: inside that save) or at
    // a random moment of the save loop (odd rounds).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (!has_temporary(directory) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the save loop exited by itself (status " << status << ")";
    if (has_temporary(directory)) ++killed_mid_save;
    // A new Checkpointer (as a restarted program would make) loads what is there.
    BalancedMLP net(BalancedMLPOptions({512, 1024, 1024, 10}));
    torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    Checkpointer checkpoints(directory, CheckpointerOptions().every(1).keep(2));
    const auto position = checkpoints.load_latest(*net, optimizer);
    if (!position.has_value()) {
      EXPECT_EQ(last_step, 0) << "checkpoints vanished after round " << round;
      continue;
    }
    EXPECT_GE(position->step, last_step);
    last_step = position->step;
    expect_save_loop_checkpoint(*position, *net);
  }
  std::printf("SIGKILL rounds: %d, killed while a temporary file existed: %d, last step %lld\n",
              rounds, killed_mid_save, static_cast<long long>(last_step));
  EXPECT_GT(last_step, 0) << "no save completed in " << rounds << " rounds";
  EXPECT_GT(killed_mid_save, 0) << "no kill landed during a save";
}

}  // namespace
}  // namespace testing
}  // namespace eiprop
