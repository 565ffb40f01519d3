// One table per enum: parsing a name, printing a value and the "expected one of ..." of an error
// message all read the same entries, so a new entry cannot be parsed but unprintable (or listed
// but unparsable).
#pragma once

#include <c10/util/Exception.h>
#include <c10/util/Optional.h>

#include <array>
#include <cstddef>
#include <string>

namespace eiprop {
namespace util {

template <typename Enum>
struct EnumName {
  const char* name;
  Enum value;
};

template <typename Enum, std::size_t N>
using EnumTable = std::array<EnumName<Enum>, N>;

template <typename Enum, std::size_t N>
c10::optional<Enum> parse_enum(const EnumTable<Enum, N>& table, const std::string& name) {
  for (const auto& entry : table) {
    if (name == entry.name) return entry.value;
  }
  return c10::nullopt;
}

template <typename Enum, std::size_t N>
const char* enum_name(const EnumTable<Enum, N>& table, Enum value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: an enum value missing from its table");
}

// "a, b, c": the names in table order.
template <typename Enum, std::size_t N>
std::string enum_choices(const EnumTable<Enum, N>& table) {
  std::string choices;
  for (const auto& entry : table) {
    if (!choices.empty()) choices += ", ";
    choices += entry.name;
  }
  return choices;
}

}  // namespace util
}  // namespace eiprop
