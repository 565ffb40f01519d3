#include "gnuplot.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace eiprop {
namespace examples {

bool run_gnuplot(const std::string& script_path, const std::string& script) {
  std::ofstream(script_path) << script;
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::cerr << "gnuplot not found (Debian: gnuplot-nox); the figure script is " << script_path
              << "\n";
    return false;
  }
  const int status = std::system(("gnuplot '" + script_path + "'").c_str());
  if (status != 0) std::cerr << "gnuplot failed on " << script_path << "\n";
  return status == 0;
}

}  // namespace examples
}  // namespace eiprop
