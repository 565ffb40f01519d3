// Figures through gnuplot: writes the script next to its data and runs it.
#pragma once

#include <string>

namespace eiprop {
namespace examples {

// Writes `script` to script_path and runs gnuplot on it; false (with a message on stderr) when
// gnuplot is missing or fails.
bool run_gnuplot(const std::string& script_path, const std::string& script);

}  // namespace examples
}  // namespace eiprop
