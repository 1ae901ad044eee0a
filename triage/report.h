// Renders a triage report: a table for people, JSON for pipelines (--json).
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "triage/triage.h"

namespace xskit::triage {

std::string RenderText(const Report& report);
nlohmann::json RenderJson(const Report& report);

}  // namespace xskit::triage
