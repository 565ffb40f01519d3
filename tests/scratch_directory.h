// Scratch directories for tests: made fresh under the system's temporary directory and removed
// with everything in them, so repeated runs do not fill it. (POSIX calls, not std::filesystem:
// PyPI's libtorch exports its own copy of some std::filesystem symbols, which the dynamic linker
// may pick instead of libstdc++'s; its remove_all crashes.)
#pragma once

#include <string>

namespace eiprop {
namespace testing {

// A new, empty directory "<TMPDIR or /tmp>/<prefix>-XXXXXX".
std::string make_scratch_directory(const std::string& prefix);

// Removes a directory and everything under it (symbolic links are removed, not followed).
void remove_directory(const std::string& directory);

// A scratch directory that lives as long as this object.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(const std::string& prefix) : path_(make_scratch_directory(prefix)) {}
  ~ScratchDirectory() { remove_directory(path_); }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace testing
}  // namespace eiprop
