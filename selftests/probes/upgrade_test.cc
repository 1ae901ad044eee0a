// Tier `probes`: an upgrade across a probes layout change (docs/DESIGN.md,
// "Upgrades"). A probe set pinned by another xskit version (its probes_info
// an info map of another XSK_PROBES_INFO_VERSION, here version 2's layout:
// 16 + 18 * 120 bytes) is replaced by the real `xsk-loader probes attach`:
// the new set in place, the old one's links detached, no staging or old
// directory left; a crash at either side of the exchange leaves one whole
// set, and the next attach finishes. A probes_info that is not xskit's info
// map of any version is refused with exit 13 and left as it was. The next
// version (xsk-loader-next) replaces this build's set the same way.
#include <bpf/bpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/errors.h"
#include "lib/fd.h"
#include "lib/pins.h"
#include "lib/xsk_probes_prog.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::RunCmd;
using testing::RunLoader;

// Version 2's probes_info value: version, nr_signals, attach time, then
// 18 x {mode, reason[116]}.
constexpr uint32_t kV2InfoSize = 16 + 18 * 120;

// A map created here and pinned at `path`; its id, 0 on failure (reported).
uint32_t PinMap(const std::string& path, bpf_map_type type, uint32_t key_size, uint32_t value_size,
                uint32_t entries, uint32_t version) {
  Fd fd(bpf_map_create(type, "probes_info", key_size, value_size, entries, nullptr));
  EXPECT_TRUE(fd.valid()) << "bpf_map_create: " << std::strerror(errno);
  if (!fd.valid()) return 0;
  std::vector<uint8_t> key(key_size, 0), value(value_size, 0);
  std::memcpy(value.data(), &version, sizeof(version));
  if (value_size >= 8) {
    const uint32_t nr_signals = 18;
    std::memcpy(value.data() + 4, &nr_signals, sizeof(nr_signals));
  }
  EXPECT_EQ(bpf_map_update_elem(fd.get(), key.data(), value.data(), BPF_ANY), 0)
      << std::strerror(errno);
  EXPECT_EQ(bpf_obj_pin(fd.get(), path.c_str()), 0) << path << ": " << std::strerror(errno);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  EXPECT_EQ(bpf_obj_get_info_by_fd(fd.get(), &info, &len), 0);
  return info.id;
}

struct PinnedMapInfo {
  uint32_t id = 0, type = 0, value_size = 0;
};
PinnedMapInfo MapAt(const std::string& path) {
  PinnedMapInfo out;
  Fd fd(bpf_obj_get(path.c_str()));
  if (!fd.valid()) return out;
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return out;
  return {info.id, info.type, info.value_size};
}

// The ids of the links pinned in `dir` ("link_*").
std::vector<uint32_t> LinkIds(const std::string& dir) {
  std::vector<uint32_t> ids;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (!absl::StartsWith(e->d_name, "link_")) continue;
      Fd fd(bpf_obj_get(absl::StrCat(dir, "/", e->d_name).c_str()));
      bpf_link_info info{};
      uint32_t len = sizeof(info);
      if (fd.valid() && bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0) ids.push_back(info.id);
    }
    ::closedir(d);
  }
  return ids;
}

// Entries of `dir` other than "." and "..".
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

// Whether a link id still exists; a link goes when its last reference does,
// which the kernel may finish on a workqueue just after the unpin.
bool LinkGone(uint32_t id) {
  for (int i = 0; i < 200; i++) {
    Fd fd(bpf_link_get_fd_by_id(id));
    if (!fd.valid() && errno == ENOENT) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

const std::string kReplacedLine =
    absl::StrCat("probes: replaced layout version 2 with ", ProbesInfoVersion(),
                 " (counters restarted)");

class ProbesUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::EnsureBpffs(); }
  void TearDown() override { (void)RemovePinDir(root_.path()); }

  std::string ProbesDir() const { return pins_.ProbesDir(); }
  std::string InfoPin() const { return PinPath(ProbesDir(), kPinProbesInfo); }

  CmdResult ProbesAttach(const std::string& failpoint = "",
                         const std::string& loader = "loader/xsk-loader") {
    std::vector<std::string> argv;
    if (!failpoint.empty()) argv = {"env", absl::StrCat("XSKIT_FAILPOINT=", failpoint)};
    for (const std::string& a : {Bin(loader), std::string("--pin-root"), root_.path(),
                                 std::string("probes"), std::string("attach")})
      argv.push_back(a);
    return RunCmd(argv);
  }

  // A probe set as version 2 left it: real links (this build's, pinned by
  // `probes attach`) and a probes_info of version 2's layout. Returns the
  // links' ids.
  std::vector<uint32_t> PinOldSet() {
    CmdResult r = ProbesAttach();
    EXPECT_EQ(r.status, 0) << r.output;
    std::vector<uint32_t> links = LinkIds(ProbesDir());
    EXPECT_FALSE(links.empty()) << "the old set's links";
    EXPECT_EQ(::unlink(InfoPin().c_str()), 0) << std::strerror(errno);
    EXPECT_NE(PinMap(InfoPin(), BPF_MAP_TYPE_ARRAY, 4, kV2InfoSize, 1, 2), 0u);
    return links;
  }

  // Nothing but `probes` under the root: no staging or replaced set left.
  void ExpectOnlyProbesDir() {
    EXPECT_EQ(Entries(root_.path()), std::vector<std::string>{"probes"})
        << "a staging or replaced directory is left under " << root_.path();
  }

  // The pinned set is this version's, whole, and status reads it.
  void ExpectThisVersion() {
    PinnedMapInfo info = MapAt(InfoPin());
    EXPECT_EQ(info.value_size, sizeof(xsk_probes_info)) << "the new layout's info";
    auto version = ReadPinnedInfoVersion(ProbesDir(), kPinProbesInfo);
    ASSERT_TRUE(version.ok()) << version.status().message();
    EXPECT_EQ(*version, ProbesInfoVersion());
    auto opened = PinnedProbes::Open(ProbesDir());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_GT(opened->links(), 0);
    CmdResult st = RunLoader(root_.path(), "", {"status", "--json"});
    ASSERT_EQ(st.status, 0) << st.output;
    nlohmann::json j = nlohmann::json::parse(st.output, nullptr, false);
    ASSERT_TRUE(j.is_object()) << st.output;
    EXPECT_EQ(j["probes"]["attached"], true) << st.output;
    EXPECT_EQ(j["probes"]["signals"].size(), size_t{XSK_PROBES_NR_SIGNALS}) << st.output;
    EXPECT_EQ(j["probes"]["layout_version"], ProbesInfoVersion()) << st.output;
  }

  testing::TestPinRoot root_{"probes-upgrade"};
  PinLayout pins_{root_.path()};
};

TEST_F(ProbesUpgradeTest, AnOlderLayoutsProbesAreReplaced) {
  const std::vector<uint32_t> old_links = PinOldSet();
  ASSERT_FALSE(HasFailure());

  CmdResult r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("probes attached"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(kReplacedLine), std::string::npos) << r.output;
  ExpectThisVersion();
  ExpectOnlyProbesDir();
  struct stat st {};
  EXPECT_EQ(::stat(PinPath(ProbesDir(), "explicit").c_str(), &st), 0)
      << "the old set was attached explicitly: so is the new one";
  for (uint32_t id : old_links) EXPECT_TRUE(LinkGone(id)) << "the old set's link " << id;

  // The next attach finds it current.
  r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("already attached"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("replaced"), std::string::npos) << r.output;
}

// The next version (xsk-loader-next: this tree with both info layout
// versions + 1, as the system tier's package N+1) replaces this build's set.
TEST_F(ProbesUpgradeTest, TheNextVersionReplacesThisVersionsProbes) {
  CmdResult r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<uint32_t> old_links = LinkIds(ProbesDir());
  ASSERT_FALSE(old_links.empty()) << "this build's links";

  r = ProbesAttach("", "selftests/xsk-loader-next");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(absl::StrCat("probes: replaced layout version ", ProbesInfoVersion(),
                                       " with ", ProbesInfoVersion() + 1, " (counters restarted)")),
            std::string::npos)
      << r.output;
  auto version = ReadPinnedInfoVersion(ProbesDir(), kPinProbesInfo);
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_EQ(*version, ProbesInfoVersion() + 1);
  EXPECT_EQ(MapAt(InfoPin()).value_size, sizeof(xsk_probes_info)) << "same struct, new version";
  EXPECT_FALSE(LinkIds(ProbesDir()).empty()) << "the new set's links";
  ExpectOnlyProbesDir();
  for (uint32_t id : old_links) EXPECT_TRUE(LinkGone(id)) << "this build's link " << id;
  // This build now finds another version's set, and replaces it back.
  EXPECT_FALSE(PinnedProbes::Open(ProbesDir()).ok()) << "this build reads only its own version";
  r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(absl::StrCat("probes: replaced layout version ", ProbesInfoVersion() + 1,
                                       " with ", ProbesInfoVersion())),
            std::string::npos)
      << r.output;
  ExpectThisVersion();
  ExpectOnlyProbesDir();
}

// A crash on either side of the exchange leaves one whole set in place; the
// next attach removes what the crash left and finishes.
TEST_F(ProbesUpgradeTest, ACrashAroundTheExchangeLeavesOneWholeSet) {
  // Before: the old set stays (the staged new one goes with the next attach).
  PinOldSet();
  ASSERT_FALSE(HasFailure());
  CmdResult r = ProbesAttach("probes-before-exchange");
  ASSERT_EQ(r.status, 99) << r.output;
  EXPECT_EQ(MapAt(InfoPin()).value_size, kV2InfoSize) << "the old set is still in place";
  r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(kReplacedLine), std::string::npos) << r.output;
  ExpectThisVersion();
  ExpectOnlyProbesDir();

  // After: the new set is in place, the old one in the dead process's
  // staging directory until the next attach.
  ASSERT_EQ(RunLoader(root_.path(), "", {"probes", "detach"}).status, 0);
  const std::vector<uint32_t> old_links = PinOldSet();
  ASSERT_FALSE(HasFailure());
  r = ProbesAttach("probes-after-exchange");
  ASSERT_EQ(r.status, 99) << r.output;
  ExpectThisVersion();
  EXPECT_EQ(Entries(root_.path()).size(), 2u) << "probes and the old set's directory";
  r = ProbesAttach();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("already attached"), std::string::npos) << r.output;
  ExpectOnlyProbesDir();
  for (uint32_t id : old_links) EXPECT_TRUE(LinkGone(id)) << "the old set's link " << id;
}

// Not xskit's probes info of any version: refused, exit 13, nothing changed.
TEST_F(ProbesUpgradeTest, AForeignProbesInfoIsRefusedAndLeft) {
  struct Case {
    const char* what;
    bpf_map_type type;
    uint32_t key_size, value_size, entries, version;
  } cases[] = {
      {"a hash map", BPF_MAP_TYPE_HASH, 4, kV2InfoSize, 1, 2},
      {"a hash map with 8-byte keys", BPF_MAP_TYPE_HASH, 8, kV2InfoSize, 1, 2},
      {"a per-CPU array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, kV2InfoSize, 1, 2},
      {"an array of two entries", BPF_MAP_TYPE_ARRAY, 4, kV2InfoSize, 2, 2},
      {"an array whose version word is 0", BPF_MAP_TYPE_ARRAY, 4, kV2InfoSize, 1, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_TRUE(MakeDirs(ProbesDir()).ok());
    const uint32_t id = PinMap(InfoPin(), c.type, c.key_size, c.value_size, c.entries, c.version);
    ASSERT_NE(id, 0u);
    CmdResult r = ProbesAttach();
    EXPECT_EQ(r.status, static_cast<int>(ExitCode::kForeignPin)) << r.output;
    EXPECT_NE(r.output.find("is not an xskit pin of this version"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("replaced"), std::string::npos) << r.output;
    EXPECT_EQ(MapAt(InfoPin()).id, id) << "the foreign pin is left as it was";
    EXPECT_EQ(Entries(ProbesDir()), std::vector<std::string>{kPinProbesInfo}) << "nothing added";
    ExpectOnlyProbesDir();
    ASSERT_TRUE(RemovePinDir(ProbesDir()).ok());
  }
}

}  // namespace
}  // namespace xskit
