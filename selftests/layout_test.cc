// Tier `unit`: the folder rules of docs/DESIGN.md ("Folders"), checked on
// the source tree and the built tools.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/paths.h"

namespace xskit::testing {
namespace {

namespace fs = std::filesystem;

// Folder -> top-level folders it must not include from.
const std::map<std::string, std::set<std::string>>& Forbidden() {
  static const std::map<std::string, std::set<std::string>> rules = {
      {"lib", {"loader", "exporter", "xsk", "xsk_bench", "bench", "selftests", "dashboards", "triage"}},
      {"xsk", {"loader", "exporter", "xsk_bench", "bench", "selftests", "triage"}},
      {"exporter", {"loader", "xsk", "xsk_bench", "bench", "selftests", "triage"}},
      {"xsk_bench", {"loader", "exporter", "bench", "selftests", "triage"}},
      {"bench", {"loader", "selftests", "triage"}},
      {"loader", {"exporter", "xsk_bench", "bench", "selftests", "triage"}},
      {"triage", {"loader", "exporter", "xsk", "xsk_bench", "bench", "selftests", "dashboards"}},
  };
  return rules;
}

TEST(Layout, IncludesFollowTheFolderRules) {
  std::regex include(R"re(^\s*#\s*include\s+"([A-Za-z0-9_]+)/)re");
  int files = 0;
  for (const auto& [folder, forbidden] : Forbidden()) {
    fs::path root = fs::path(testing::SourceDir()) / folder;
    ASSERT_TRUE(fs::is_directory(root)) << root;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".h" && ext != ".cc" && ext != ".c")) continue;
      files++;
      std::ifstream in(e.path());
      std::string line;
      for (int n = 1; std::getline(in, line); n++) {
        std::smatch m;
        if (std::regex_search(line, m, include))
          EXPECT_FALSE(forbidden.count(m[1].str()))
              << e.path().lexically_relative(testing::SourceDir()).string() << ":" << n << " includes "
              << m[1] << "/ (" << folder << "/ may not; docs/DESIGN.md, Folders)";
      }
    }
  }
  EXPECT_GT(files, 50) << "source files checked";
}

// Shipped tools link no test library: no GoogleTest symbol in them.
TEST(Layout, ShippedToolsLinkNoTestCode) {
  if (RunCmd({"nm", "--version"}).status != 0) XSKIT_SKIP("nm not installed (binutils)");
  for (const char* bin :
       {"xsk_bench/xsk-bench", "loader/xsk-loader", "exporter/xsk-exporter", "xsk/xsk-rx",
        "triage/xsk-triage"}) {
    ASSERT_TRUE(fs::exists(Bin(bin))) << Bin(bin) << " (build it first)";
    CmdResult r = RunCmd({"nm", "-C", Bin(bin)});
    ASSERT_EQ(r.status, 0) << "nm -C " << bin << ": " << r.output.substr(0, 500);
    EXPECT_GT(r.output.size(), 1000u) << "nm -C " << bin << " lists symbols";
    EXPECT_EQ(r.output.find("testing::"), std::string::npos)
        << bin << " links GoogleTest (testing:: symbols)";
  }
}

}  // namespace
}  // namespace xskit::testing
