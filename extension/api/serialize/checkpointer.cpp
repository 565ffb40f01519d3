#include "eiprop/serialize/checkpointer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <utility>

namespace eiprop {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCheckpointer = "eiprop::Checkpointer";
constexpr const char* kConfigurationKey = "__configuration__";
constexpr char kMagic[8] = {'E', 'I', 'P', 'C', 'K', 'P', 'T', '\n'};
constexpr uint32_t kVersion = 1;
constexpr const char* kDefaultGenerator = "default_cpu_generator";
constexpr const char* kSuffix = ".ckpt";
constexpr const char* kTemporary = ".tmp";

// The fixed-size header in front of the payload (host byte order, no padding on disk).
struct Header {
  int64_t step = 0;
  int64_t loader_position = 0;
  uint64_t payload_size = 0;
  uint32_t payload_crc = 0;
};
constexpr size_t kHeaderSize = sizeof(kMagic) + 4 + 8 + 8 + 8 + 4 + 4;  // ... + header CRC

uint32_t crc32_of(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const auto chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
T get(const std::string& in, size_t& offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  offset += sizeof(T);
  return value;
}

std::string encode_header(const Header& header) {
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<int64_t>(out, header.step);
  put<int64_t>(out, header.loader_position);
  put<uint64_t>(out, header.payload_size);
  put<uint32_t>(out, header.payload_crc);
  put<uint32_t>(out, crc32_of(out.data(), out.size()));
  return out;
}

std::string system_error() { return std::strerror(errno); }

void write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t written = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      const auto reason = system_error();
      ::close(fd);
      TORCH_CHECK(false, kCheckpointer, ": writing ", path, " failed: ", reason);
    }
    done += static_cast<size_t>(written);
  }
}

void fsync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  TORCH_CHECK(fd >= 0, kCheckpointer, ": cannot open directory ", directory, ": ", system_error());
  const int rc = ::fsync(fd);
  const auto reason = system_error();
  ::close(fd);
  TORCH_CHECK(rc == 0, kCheckpointer, ": fsync of directory ", directory, " failed: ", reason);
}

// The step in `<prefix>-<digits>.ckpt`, or -1 when the name is not a checkpoint's.
int64_t step_of(const std::string& file_name, const std::string& prefix) {
  const std::string head = prefix + "-";
  const std::string suffix = kSuffix;
  if (file_name.size() <= head.size() + suffix.size()) return -1;
  if (file_name.compare(0, head.size(), head) != 0) return -1;
  if (file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0) return -1;
  const auto digits = file_name.substr(head.size(), file_name.size() - head.size() - suffix.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

// Why a checkpoint file fails its integrity checks, or nullopt when it passes; on success the
// header and the payload are returned through the out-parameters.
c10::optional<std::string> verify(const std::string& path, Header& header, std::string& payload) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "cannot be opened: " + system_error();
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < kHeaderSize) {
    return c10::str("is truncated: ", bytes.size(), " bytes, shorter than the ", kHeaderSize,
                    "-byte header");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return std::string("is not an eiprop checkpoint (wrong magic bytes)");
  }
  size_t offset = sizeof(kMagic);
  const auto version = get<uint32_t>(bytes, offset);
  header.step = get<int64_t>(bytes, offset);
  header.loader_position = get<int64_t>(bytes, offset);
  header.payload_size = get<uint64_t>(bytes, offset);
  header.payload_crc = get<uint32_t>(bytes, offset);
  const auto header_crc = get<uint32_t>(bytes, offset);
  if (crc32_of(bytes.data(), kHeaderSize - 4) != header_crc) {
    return std::string("has a damaged header (header checksum mismatch)");
  }
  if (version != kVersion) {
    return c10::str("has format version ", version, "; this build reads version ", kVersion);
  }
  const uint64_t actual = bytes.size() - kHeaderSize;
  if (actual != header.payload_size) {
    return c10::str(actual < header.payload_size ? "is truncated" : "has trailing bytes",
                    ": the header promises ", header.payload_size, " payload bytes, the file holds ",
                    actual);
  }
  payload = bytes.substr(kHeaderSize);
  const auto crc = crc32_of(payload.data(), payload.size());
  if (crc != header.payload_crc) {
    return c10::str("is corrupt: payload CRC-32 ", crc, " but the header records ",
                    header.payload_crc);
  }
  return c10::nullopt;
}

}  // namespace

Checkpointer::Checkpointer(std::string directory, Options options)
    : directory_(std::move(directory)), options_(std::move(options)) {
  TORCH_CHECK(options_.every() > 0, kCheckpointer, ": options.every must be positive, got ",
              options_.every());
  TORCH_CHECK(options_.keep() > 0, kCheckpointer, ": options.keep must be positive, got ",
              options_.keep());
  TORCH_CHECK(!options_.prefix().empty() && options_.prefix().find('/') == std::string::npos,
              kCheckpointer, ": options.prefix must be a non-empty file name prefix, got '",
              options_.prefix(), "'");
  std::error_code error;
  fs::create_directories(directory_, error);
  TORCH_CHECK(!error && fs::is_directory(directory_), kCheckpointer, ": cannot create directory ",
              directory_, ": ", error.message());
  // Interrupted saves leave only temporary files; they never become checkpoints.
  std::vector<fs::path> stale;
  const std::string temporary_suffix = std::string(kSuffix) + kTemporary;
  for (const auto& item : fs::directory_iterator(directory_)) {
    const auto name = item.path().filename().string();
    if (name.size() > temporary_suffix.size() &&
        name.compare(name.size() - temporary_suffix.size(), temporary_suffix.size(),
                     temporary_suffix) == 0 &&
        step_of(name.substr(0, name.size() - std::strlen(kTemporary)), options_.prefix()) >= 0) {
      stale.push_back(item.path());
    }
  }
  for (const auto& path : stale) fs::remove(path, error);
}

void Checkpointer::add(Entry entry) {
  TORCH_CHECK(!entry.name.empty() && entry.name != kDefaultGenerator && entry.name != "module" &&
                  entry.name != "optimizer" && entry.name != kConfigurationKey,
              kCheckpointer, ": track: the name '", entry.name,
              "' is empty or reserved (module, optimizer, ", kDefaultGenerator, ", ",
              kConfigurationKey, ")");
  for (const auto& existing : tracked_) {
    TORCH_CHECK(existing.name != entry.name, kCheckpointer, ": track: the name '", entry.name,
                "' is already tracked");
  }
  tracked_.push_back(std::move(entry));
}

Checkpointer& Checkpointer::track(const std::string& name, torch::nn::Module& module) {
  Entry entry;
  entry.name = name;
  entry.module = &module;
  add(std::move(entry));
  return *this;
}

Checkpointer& Checkpointer::track(const std::string& name, torch::optim::Optimizer& optimizer) {
  Entry entry;
  entry.name = name;
  entry.optimizer = &optimizer;
  add(std::move(entry));
  return *this;
}

Checkpointer& Checkpointer::track(const std::string& name, at::Generator generator) {
  TORCH_CHECK(generator.defined(), kCheckpointer, ": track: generator '", name, "' is undefined");
  Entry entry;
  entry.name = name;
  entry.generator = std::move(generator);
  add(std::move(entry));
  return *this;
}

Checkpointer& Checkpointer::track(const std::string& name, at::Tensor& tensor) {
  Entry entry;
  entry.name = name;
  entry.tensor = &tensor;
  add(std::move(entry));
  return *this;
}

std::vector<Checkpointer::Entry> Checkpointer::entries_with(
    torch::nn::Module* module, torch::optim::Optimizer* optimizer) const {
  std::vector<Entry> entries = tracked_;
  if (module != nullptr) {
    Entry entry;
    entry.name = "module";
    entry.module = module;
    entries.push_back(std::move(entry));
  }
  if (optimizer != nullptr) {
    Entry entry;
    entry.name = "optimizer";
    entry.optimizer = optimizer;
    entries.push_back(std::move(entry));
  }
  if (options_.save_default_generator()) {
    Entry entry;
    entry.name = kDefaultGenerator;
    entry.generator = at::detail::getDefaultCPUGenerator();
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool Checkpointer::maybe_save(int64_t step, int64_t loader_position) {
  if (step <= 0 || step % options_.every() != 0) return false;
  save(step, loader_position);
  return true;
}

bool Checkpointer::maybe_save(int64_t step, const torch::nn::Module& module,
                              const torch::optim::Optimizer& optimizer, int64_t loader_position) {
  if (step <= 0 || step % options_.every() != 0) return false;
  save(step, module, optimizer, loader_position);
  return true;
}

std::string Checkpointer::save(int64_t step, int64_t loader_position) {
  return write(step, loader_position, entries_with(nullptr, nullptr));
}

std::string Checkpointer::save(int64_t step, const torch::nn::Module& module,
                               const torch::optim::Optimizer& optimizer, int64_t loader_position) {
  // Saving only reads them; the entries hold non-const pointers because loading writes them.
  return write(step, loader_position,
               entries_with(const_cast<torch::nn::Module*>(&module),
                            const_cast<torch::optim::Optimizer*>(&optimizer)));
}

std::string Checkpointer::write(int64_t step, int64_t loader_position,
                                const std::vector<Entry>& entries) {
  TORCH_CHECK(step >= 0, kCheckpointer, ": save: step must be >= 0, got ", step);
  torch::serialize::OutputArchive archive;
  for (const auto& entry : entries) {
    if (entry.module != nullptr) {
      torch::serialize::OutputArchive nested;
      entry.module->save(nested);
      archive.write(entry.name, nested);
    } else if (entry.optimizer != nullptr) {
      torch::serialize::OutputArchive nested;
      entry.optimizer->save(nested);
      archive.write(entry.name, nested);
    } else if (entry.generator.has_value()) {
      at::Generator generator = *entry.generator;
      at::Tensor state;
      {
        std::lock_guard<std::mutex> lock(generator.mutex());
        state = generator.get_state();
      }
      archive.write(entry.name, state);
    } else {
      TORCH_CHECK(entry.tensor->defined(), kCheckpointer, ": save: tracked tensor '", entry.name,
                  "' is undefined");
      archive.write(entry.name, *entry.tensor);
    }
  }
  std::string payload;
  if (!options_.configuration().empty()) {
    c10::List<std::string> configuration;
    for (const auto& [name, value] : options_.configuration()) {
      configuration.push_back(name);
      configuration.push_back(value);
    }
    archive.write(kConfigurationKey, c10::IValue(configuration));
  }
  archive.save_to([&payload](const void* data, size_t size) -> size_t {
    payload.append(static_cast<const char*>(data), size);
    return size;
  });

  Header header;
  header.step = step;
  header.loader_position = loader_position;
  header.payload_size = payload.size();
  header.payload_crc = crc32_of(payload.data(), payload.size());

  char name[32];
  std::snprintf(name, sizeof(name), "-%012lld", static_cast<long long>(step));
  const auto path = (fs::path(directory_) / (options_.prefix() + name + kSuffix)).string();
  const auto temporary = path + kTemporary;
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TORCH_CHECK(fd >= 0, kCheckpointer, ": cannot create ", temporary, ": ", system_error());
  write_all(fd, encode_header(header), temporary);
  write_all(fd, payload, temporary);
  if (::fsync(fd) != 0) {
    const auto reason = system_error();
    ::close(fd);
    TORCH_CHECK(false, kCheckpointer, ": fsync of ", temporary, " failed: ", reason);
  }
  TORCH_CHECK(::close(fd) == 0, kCheckpointer, ": closing ", temporary, " failed: ",
              system_error());
  TORCH_CHECK(::rename(temporary.c_str(), path.c_str()) == 0, kCheckpointer, ": renaming ",
              temporary, " to ", path, " failed: ", system_error());
  fsync_directory(directory_);
  prune();
  return path;
}

void Checkpointer::prune() const {
  auto files = checkpoints();
  const auto keep = static_cast<size_t>(options_.keep());
  for (size_t i = 0; i + keep < files.size(); ++i) {
    std::error_code error;
    fs::remove(files[i], error);
  }
}

std::vector<std::string> Checkpointer::checkpoints() const {
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& item : fs::directory_iterator(directory_)) {
    std::error_code error;
    if (!item.is_regular_file(error)) continue;
    const auto step = step_of(item.path().filename().string(), options_.prefix());
    if (step >= 0) found.emplace_back(step, item.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& item : found) paths.push_back(std::move(item.second));
  return paths;
}

void Checkpointer::check_configuration(const std::string& path,
                                       torch::serialize::InputArchive& archive) const {
  const auto& expected = options_.configuration();
  if (expected.empty()) return;
  c10::IValue value;
  TORCH_CHECK(archive.try_read(kConfigurationKey, value) && value.isList(), kCheckpointer,
              ": refusing checkpoint ", path,
              ": it records no configuration, so it cannot be checked against this run's");
  const auto saved = value.toList();
  std::map<std::string, std::string> recorded;
  for (size_t i = 0; i + 1 < saved.size(); i += 2) {
    recorded[saved.get(i).toStringRef()] = saved.get(i + 1).toStringRef();
  }
  std::string differences;
  for (const auto& [name, setting] : expected) {
    const auto found = recorded.find(name);
    const std::string was = found == recorded.end() ? "(not recorded)" : found->second;
    if (was == setting) continue;
    differences += c10::str(differences.empty() ? "" : "; ", name, " ", was, " (this run: ",
                            setting, ")");
  }
  TORCH_CHECK(differences.empty(), kCheckpointer, ": refusing checkpoint ", path,
              ": it was written with another configuration: ", differences);
}

TrainingPosition Checkpointer::read(const std::string& path, const std::vector<Entry>& entries) {
  Header header;
  std::string payload;
  const auto problem = verify(path, header, payload);
  TORCH_CHECK(!problem.has_value(), kCheckpointer, ": refusing checkpoint ", path, ": it ",
              *problem);
  torch::serialize::InputArchive archive;
  archive.load_from(payload.data(), payload.size());
  // The configuration must match and every tracked entry be present before anything is
  // overwritten.
  check_configuration(path, archive);
  for (const auto& entry : entries) {
    c10::IValue value;
    TORCH_CHECK(archive.try_read(entry.name, value), kCheckpointer, ": checkpoint ", path,
                " holds no '", entry.name, "' (saved with other tracked state?)");
  }
  for (const auto& entry : entries) {
    if (entry.module != nullptr) {
      torch::serialize::InputArchive nested;
      archive.read(entry.name, nested);
      entry.module->load(nested);
    } else if (entry.optimizer != nullptr) {
      torch::serialize::InputArchive nested;
      archive.read(entry.name, nested);
      entry.optimizer->load(nested);
    } else if (entry.generator.has_value()) {
      at::Tensor state;
      archive.read(entry.name, state);
      at::Generator generator = *entry.generator;
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(state);
    } else {
      at::Tensor value;
      archive.read(entry.name, value);
      *entry.tensor = value;
    }
  }
  return {header.step, header.loader_position, path};
}

TrainingPosition Checkpointer::load(const std::string& path) {
  return read(path, entries_with(nullptr, nullptr));
}

TrainingPosition Checkpointer::load(const std::string& path, torch::nn::Module& module,
                                    torch::optim::Optimizer& optimizer) {
  return read(path, entries_with(&module, &optimizer));
}

c10::optional<TrainingPosition> Checkpointer::read_latest(const std::vector<Entry>& entries) {
  const auto files = checkpoints();
  std::vector<std::string> refused;
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    Header header;
    std::string payload;
    const auto problem = verify(*file, header, payload);
    if (problem.has_value()) {
      TORCH_WARN(kCheckpointer, ": refusing checkpoint ", *file, ": it ", *problem,
                 "; trying the previous one");
      refused.push_back(*file);
      continue;
    }
    return read(*file, entries);
  }
  // Files exist but none is intact: starting from scratch silently would be wrong.
  TORCH_CHECK(refused.empty(), kCheckpointer, ": all ", refused.size(), " checkpoints in ",
              directory_, " failed their integrity checks (see the warnings); none was loaded");
  return c10::nullopt;
}

c10::optional<TrainingPosition> Checkpointer::load_latest() {
  return read_latest(entries_with(nullptr, nullptr));
}

c10::optional<TrainingPosition> Checkpointer::load_latest(torch::nn::Module& module,
                                                          torch::optim::Optimizer& optimizer) {
  return read_latest(entries_with(&module, &optimizer));
}

}  // namespace eiprop
