#include "scratch_directory.h"

#include <ftw.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace eiprop {
namespace testing {

std::string make_scratch_directory(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + pattern);
  }
  return pattern;
}

void remove_directory(const std::string& directory) {
  // Depth first, so each directory is empty when it is removed.
  ::nftw(
      directory.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); },
      16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace testing
}  // namespace eiprop
