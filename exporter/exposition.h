// The Prometheus text exposition format (version 0.0.4) of the families a
// scrape built, written by xskit instead of prometheus::TextSerializer.
//
// Why not the library's serializer (prometheus-cpp 1.0.1, Debian 12): it
// writes every character of every label value through its own
// std::ostream insertion (a sentry and a streambuf call per character) and
// every number through the stream's "%.16g". With 64 queues, 128 drop
// reasons and 256 AF_XDP sockets (bench/exporter_bench.cc: about 4,700
// series, 490 KB) that took 3.0 ms at best and 9 ms typically on the loaded
// 2-core development VM, against 0.22-0.25 ms for plain appends to one
// string: more than half of every scrape's CPU (perf: std::__ostream_insert,
// streambuf::xsputn, ostream::sentry and printf_fp on top), and no option of
// the library changes how it writes. The families themselves are still
// prometheus::MetricFamily (FamilyBuilder, exporter/families.h).
//
// The text is byte for byte what prometheus::TextSerializer writes for the
// same families (selftests/exporter_test.cc compares them), except that a
// HELP text's backslashes and newlines are escaped as the format requires
// (the library writes them raw; xskit's help texts have neither).
#pragma once

#include <string>
#include <vector>

#include "prometheus/metric_family.h"

namespace xskit::exporter {

// Appends the exposition of `families` to `out`.
void AppendExposition(const std::vector<prometheus::MetricFamily>& families, std::string& out);

}  // namespace xskit::exporter
