// Shared test fixtures: a private pin root per test process, skips that
// record their reason in the gtest JSON, the paths of built binaries.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "lib/sandbox/pin_root.h"

namespace xskit::testing {

// Skips the test and records why (gtest 1.12 writes no skip message into
// its JSON; selftests/vmtest/summarize reads this property).
#define XSKIT_SKIP(reason)                          \
  do {                                              \
    std::string xskit_reason_ = (reason);           \
    ::testing::Test::RecordProperty("skip_reason", xskit_reason_); \
    GTEST_SKIP() << xskit_reason_;                  \
  } while (0)

// A pin root of this process's own (/sys/fs/bpf/xskit-test-<pid>[-<tag>]),
// removed when the object goes (lib/sandbox/pin_root.h).
using TestPinRoot = sandbox::ScratchPinRoot;
using sandbox::EnsureBpffs;

// Pins (or directories) left under a pin root: detach keeps <root> itself,
// empty (docs/DESIGN.md, "Pin ownership"), so "clean" is an empty or absent
// root.
bool PinsLeft(const std::string& root);

// Absolute path of a binary in the build tree, e.g. Bin("loader/xsk-loader").
std::string Bin(const std::string& relative);

}  // namespace xskit::testing
