#include "exporter/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace xskit::exporter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

template <typename Int>
void AppendInt(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// As the library's stream writes a double: "%.16g" (max_digits10 - 1),
// "Nan", "+Inf", "-Inf". Whole numbers below 1e15 (every counter) print the
// same digits through the integer path, which is several times cheaper.
void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "Nan";
  } else if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
  } else if (std::fabs(v) < 1e15 && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    AppendInt(out, static_cast<int64_t>(v));
  } else {
    char buf[40];
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general,
                           std::numeric_limits<double>::max_digits10 - 1);
    out.append(buf, r.ptr);
  }
}

// Label values escape backslash, double quote and newline. A plain loop:
// string_view::find_first_of calls memchr over the set once per character,
// which made this the costliest line of a scrape.
void AppendLabelValue(std::string& out, std::string_view v) {
  size_t from = 0;
  for (size_t i = 0; i < v.size(); i++) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(v.data() + from, i - from);
    out += c == '\n' ? "\\n" : c == '\\' ? "\\\\" : "\\\"";
    from = i + 1;
  }
  out.append(v.data() + from, v.size() - from);
}

// HELP text escapes backslash and newline.
void AppendHelp(std::string& out, std::string_view v) {
  size_t from = 0;
  for (size_t at; (at = v.find_first_of("\\\n", from)) != std::string_view::npos; from = at + 1) {
    out.append(v.substr(from, at - from));
    out += v[at] == '\n' ? "\\n" : "\\\\";
  }
  out.append(v.substr(from));
}

// An extra label after the series' own (histogram "le", summary "quantile").
struct Extra {
  const char* name = nullptr;
  double value = 0;
};

// name + suffix + {labels} + " "
void AppendHead(std::string& out, const MetricFamily& f, const ClientMetric& m,
                std::string_view suffix = {}, Extra extra = {}) {
  out += f.name;
  out += suffix;
  if (!m.label.empty() || extra.name) {
    out += '{';
    const char* sep = "";
    for (const auto& l : m.label) {
      out += sep;
      out += l.name;
      out += "=\"";
      AppendLabelValue(out, l.value);
      out += '"';
      sep = ",";
    }
    if (extra.name) {
      out += sep;
      out += extra.name;
      out += "=\"";
      AppendDouble(out, extra.value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void AppendTail(std::string& out, const ClientMetric& m) {
  if (m.timestamp_ms != 0) {
    out += ' ';
    AppendInt(out, m.timestamp_ms);
  }
  out += '\n';
}

void AppendSeries(std::string& out, const MetricFamily& f, const ClientMetric& m) {
  switch (f.type) {
    case MetricType::Counter:
    case MetricType::Gauge:
    case MetricType::Untyped:
      AppendHead(out, f, m);
      AppendDouble(out, f.type == MetricType::Counter ? m.counter.value
                        : f.type == MetricType::Gauge ? m.gauge.value
                                                      : m.untyped.value);
      AppendTail(out, m);
      break;
    case MetricType::Summary:
      AppendHead(out, f, m, "_count");
      AppendInt(out, m.summary.sample_count);
      AppendTail(out, m);
      AppendHead(out, f, m, "_sum");
      AppendDouble(out, m.summary.sample_sum);
      AppendTail(out, m);
      for (const auto& q : m.summary.quantile) {
        AppendHead(out, f, m, {}, {"quantile", q.quantile});
        AppendDouble(out, q.value);
        AppendTail(out, m);
      }
      break;
    case MetricType::Histogram: {
      const auto& h = m.histogram;
      AppendHead(out, f, m, "_count");
      AppendInt(out, h.sample_count);
      AppendTail(out, m);
      AppendHead(out, f, m, "_sum");
      AppendDouble(out, h.sample_sum);
      AppendTail(out, m);
      double last = -std::numeric_limits<double>::infinity();
      for (const auto& b : h.bucket) {
        AppendHead(out, f, m, "_bucket", {"le", b.upper_bound});
        last = b.upper_bound;
        AppendInt(out, b.cumulative_count);
        AppendTail(out, m);
      }
      if (last != std::numeric_limits<double>::infinity()) {
        AppendHead(out, f, m, "_bucket", {"le", std::numeric_limits<double>::infinity()});
        AppendInt(out, h.sample_count);
        AppendTail(out, m);
      }
      break;
    }
  }
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Summary: return "summary";
    case MetricType::Histogram: return "histogram";
    case MetricType::Untyped: break;
  }
  return "untyped";
}

}  // namespace

void AppendExposition(const std::vector<MetricFamily>& families, std::string& out) {
  for (const auto& f : families) {
    if (!f.help.empty()) {
      out += "# HELP ";
      out += f.name;
      out += ' ';
      AppendHelp(out, f.help);
      out += '\n';
    }
    out += "# TYPE ";
    out += f.name;
    out += ' ';
    out += TypeName(f.type);
    out += '\n';
    for (const auto& m : f.metric) AppendSeries(out, f, m);
  }
}

}  // namespace xskit::exporter
