// The fuzz target without libFuzzer: the same LLVMFuzzerTestOneInput, driven by this main so that
// every build (GCC, and the ASan/UBSan build of scripts/sanitize.sh) runs it in its test suite.
// It replays every input of the given corpus directories, then for --seconds mutates randomly
// chosen corpus inputs (flip, overwrite, insert, erase, duplicate bytes; splice two inputs) with
// a seeded generator and calls the target on each. Not coverage-guided: scripts/fuzz.sh runs the
// libFuzzer build for that. A bug aborts inside the target, which prints the decoded call; the
// input is written first to --artifact (default fuzz-input.bin) so it can be replayed.
//   fuzz_ops_replay [--seconds S] [--seed N] [--artifact FILE] CORPUS_DIR...
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

std::vector<Input> read_corpus(const std::vector<std::string>& directories) {
  std::vector<Input> corpus;
  for (const auto& directory : directories) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());  // a fixed order: runs are reproducible by --seed
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return corpus;
}

Input mutate(const std::vector<Input>& corpus, std::mt19937_64& random) {
  const auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  Input input = corpus[pick(corpus.size())];
  const size_t mutations = 1 + pick(8);
  for (size_t m = 0; m < mutations; ++m) {
    const uint8_t byte = static_cast<uint8_t>(random());
    switch (pick(6)) {
      case 0:  // flip one bit
        if (!input.empty()) input[pick(input.size())] ^= static_cast<uint8_t>(1u << pick(8));
        break;
      case 1:  // overwrite a byte (0, 0xff or random: the decoder's boundaries)
        if (!input.empty()) input[pick(input.size())] = pick(3) == 0 ? 0 : pick(2) ? 0xff : byte;
        break;
      case 2:  // insert a byte
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)), byte);
        break;
      case 3:  // erase a run of bytes
        if (!input.empty()) {
          const size_t at = pick(input.size());
          const size_t count = 1 + pick(std::min<size_t>(16, input.size() - at));
          input.erase(input.begin() + static_cast<std::ptrdiff_t>(at),
                      input.begin() + static_cast<std::ptrdiff_t>(at + count));
        }
        break;
      case 4:  // duplicate a run of bytes in place
        if (!input.empty()) {
          const size_t at = pick(input.size());
          const size_t count = 1 + pick(std::min<size_t>(16, input.size() - at));
          const Input run(input.begin() + static_cast<std::ptrdiff_t>(at),
                          input.begin() + static_cast<std::ptrdiff_t>(at + count));
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), run.begin(), run.end());
        }
        break;
      default: {  // splice: this input's head, another's tail
        const Input& other = corpus[pick(corpus.size())];
        const size_t head = pick(input.size() + 1);
        const size_t tail = pick(other.size() + 1);
        input.resize(head);
        input.insert(input.end(), other.begin() + static_cast<std::ptrdiff_t>(tail), other.end());
        break;
      }
    }
  }
  return input;
}

void run(const Input& input, const std::string& artifact) {
  // Written before the call: if the target aborts, the file holds the input that did it.
  std::ofstream(artifact, std::ios::binary)
      .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays a fuzz corpus through the eiprop fuzz target, then mutates it for a while"};
  double seconds = 30.0;
  uint64_t seed = 1;
  std::string artifact = "fuzz-input.bin";
  std::vector<std::string> directories;
  app.add_option("--seconds", seconds, "time for mutated inputs after the replay")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "mutation generator seed")->capture_default_str();
  app.add_option("--artifact", artifact, "where each input is written before it runs")
      ->capture_default_str();
  app.add_option("corpus", directories, "corpus directories")->required()->check(CLI::ExistingDirectory);
  CLI11_PARSE(app, argc, argv);

  LLVMFuzzerInitialize(&argc, &argv);
  const auto corpus = read_corpus(directories);
  if (corpus.empty()) {
    fmt::print(stderr, "fuzz_ops_replay: no inputs in the corpus\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  for (const auto& input : corpus) run(input, artifact);
  const double replayed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::mt19937_64 random(seed);
  int64_t mutated = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    run(mutate(corpus, random), artifact);
    ++mutated;
  }
  std::filesystem::remove(artifact);
  fmt::print("eiprop fuzz replay: {} corpus inputs in {:.1f} s, then {} mutated inputs in {:.0f} s "
             "(seed {}): no bug\n",
             corpus.size(), replayed, mutated, seconds, seed);
  return 0;
}
