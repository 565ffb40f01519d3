// The comparison as a text table and as JSON.
#pragma once

#include "support/layered_comparison.h"
#include "support/machine.h"

#include <string>
#include <vector>

namespace eiprop {
namespace bench {

std::string table_header();
std::string table_row(const ComparisonRow& row);

// {"machine": {...}, "dtype": ..., "clock": ..., "layered": [rows...]}
std::string comparison_json(const Machine& machine, const std::string& dtype,
                            const std::string& clock, const std::vector<ComparisonRow>& rows);

}  // namespace bench
}  // namespace eiprop
