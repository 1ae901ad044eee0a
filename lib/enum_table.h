// One table per enum, read both ways (xdp-tools' `enum_val` tables): the
// name a value prints as, the value a name parses to, and the map CLI11's
// CheckedTransformer takes, so a flag accepts exactly the names the tools
// print. The tables themselves live beside their enums (lib/enums.h).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xskit {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `value` in `table`, or `fallback` when the table has none.
template <typename E, size_t N>
constexpr const char* NameOf(const EnumName<E> (&table)[N], E value, const char* fallback) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  return fallback;
}

// The value named `name` (exact match), or nullopt.
template <typename E, size_t N>
std::optional<E> ValueOf(const EnumName<E> (&table)[N], std::string_view name) {
  for (const auto& e : table)
    if (name == e.name) return e.value;
  return std::nullopt;
}

// name -> value, for CLI::CheckedTransformer(map): parsing accepts exactly
// the table's names and its error lists them.
template <typename E, size_t N>
std::map<std::string, E> CliMap(const EnumName<E> (&table)[N]) {
  std::map<std::string, E> m;
  for (const auto& e : table) m.emplace(e.name, e.value);
  return m;
}

// The names in table order ("auto", "native", "generic").
template <typename E, size_t N>
std::vector<std::string> NamesOf(const EnumName<E> (&table)[N]) {
  std::vector<std::string> v;
  for (const auto& e : table) v.emplace_back(e.name);
  return v;
}

}  // namespace xskit
