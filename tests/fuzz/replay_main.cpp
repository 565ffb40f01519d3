// The fuzz target without libFuzzer: the same LLVMFuzzerTestOneInput, driven by this main so that
// every build (GCC, and the ASan/UBSan build of scripts/sanitize.sh) replays the corpus in its
// test suite. It runs every file of the given directories (recursively, in sorted path order, so
// that a run is the same on every machine) and every file given directly, once each. It does not
// mutate: scripts/fuzz.sh runs the coverage-guided libFuzzer build, and its --merge adds the
// inputs that reach new coverage to tests/fuzz/corpus, which this replay then runs in CI.
// A bug aborts inside the target, which prints the decoded call; the input is written first to
// --artifact (default fuzz-input.bin) so that it can be replayed, and since libFuzzer names
// corpus files by the SHA-1 of their bytes, `sha1sum` of the artifact names the corpus file.
//   fuzz_ops_replay [--artifact FILE] CORPUS_DIR_OR_FILE...
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using Input = std::vector<uint8_t>;

// The files to replay: each directory's regular files (recursively, as libFuzzer reads a corpus)
// in sorted order, then the next argument's.
std::vector<fs::path> corpus_files(const std::vector<std::string>& arguments) {
  std::vector<fs::path> files;
  for (const auto& argument : arguments) {
    if (!fs::is_directory(argument)) {
      files.emplace_back(argument);
      continue;
    }
    std::vector<fs::path> directory;
    for (const auto& entry : fs::recursive_directory_iterator(argument)) {
      if (entry.is_regular_file()) directory.push_back(entry.path());
    }
    std::sort(directory.begin(), directory.end());
    files.insert(files.end(), directory.begin(), directory.end());
  }
  return files;
}

Input read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void run(const Input& input, const std::string& artifact) {
  // Written (and closed) before the call: if the target aborts, the file holds the input.
  {
    std::ofstream out(artifact, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(input.data()),
              static_cast<std::streamsize>(input.size()));
    if (!out) throw std::runtime_error("cannot write the artifact " + artifact);
  }
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Replays fuzz corpora through the eiprop fuzz target, each input once"};
  std::string artifact = "fuzz-input.bin";
  std::vector<std::string> corpora;
  app.add_option("--artifact", artifact, "where each input is written before it runs")
      ->capture_default_str();
  app.add_option("corpus", corpora, "corpus directories or single inputs")
      ->required()
      ->check(CLI::ExistingPath);
  CLI11_PARSE(app, argc, argv);

  LLVMFuzzerInitialize(&argc, &argv);
  const auto files = corpus_files(corpora);
  if (files.empty()) {
    // An empty corpus would make this test pass without running the target once.
    fmt::print(stderr, "fuzz_ops_replay: no inputs in the {} corpus argument(s)\n", corpora.size());
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (const auto& file : files) {
    const Input input = read(file);
    bytes += input.size();
    run(input, artifact);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove(artifact);
  fmt::print("eiprop fuzz replay: {} inputs ({} bytes) in {:.1f} s: no bug\n", files.size(), bytes,
             seconds);
  return 0;
}
