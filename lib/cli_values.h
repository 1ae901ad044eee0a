// One rule for every xskit command line: an option given with an empty
// value (`--match ''`, `--pin-root=`, an empty interface name) is a usage
// error naming the option, never "no value" (a silent "no filter").
#pragma once

#include <string>

#include "CLI/CLI.hpp"

namespace xskit {

// Adds the check to every option that takes a value, in `app` and all its
// subcommands. Call after registering the options, before parse().
inline void RefuseEmptyValues(CLI::App& app) {
  CLI::Validator non_empty(
      [](std::string& v) {
        return v.empty() ? std::string("empty value (leave the option out instead)")
                         : std::string();
      },
      "");
  for (CLI::Option* o : app.get_options([](CLI::Option*) { return true; }))
    if (o->get_type_size() != 0) o->check(non_empty);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    RefuseEmptyValues(*sub);
}

}  // namespace xskit
