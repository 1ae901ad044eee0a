// Tier `cli`: issue 12 item 4. Every pinned object is checked before use
// (map type, key and value size, max_entries, layout version): a foreign
// ARRAY map at any of xskit's pin paths makes `status`, `top` and `detach`
// refuse with "not an xskit pin of this version" and exit 13, reading
// nothing into fixed structs (these tests also run under AddressSanitizer).
#include <bpf/bpf.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "bpf/xsk_steer.h"
#include "gtest/gtest.h"
#include "lib/errors.h"
#include "lib/xsk_steer_prog.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::CmdResult;
using testing::NetnsPair;
using testing::RunCmd;

constexpr int kForeign = static_cast<int>(ExitCode::kForeignPin);
constexpr const char* kSays = "not an xskit pin of this version";

class PinValidationTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::EnsureBpffs(); }
  CmdResult Loader(const std::vector<std::string>& args) {
    return testing::RunLoader(root_.path(), pair_.ns_a(), args);
  }
  std::string Dir() { return root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a(); }

  // Replaces the pin at `path` by an ARRAY map of `value_size` bytes and
  // `entries` entries, key 0 holding `value` (if given).
  void PlaceForeign(const std::string& path, uint32_t value_size, uint32_t entries,
                    const void* value = nullptr) {
    std::filesystem::remove(path);
    int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "foreign", 4, value_size, entries, nullptr);
    ASSERT_GE(fd, 0) << "bpf_map_create: " << errno;
    uint32_t key = 0;
    if (value) {
      ASSERT_EQ(bpf_map_update_elem(fd, &key, value, BPF_ANY), 0);
    }
    ASSERT_EQ(bpf_obj_pin(fd, path.c_str()), 0) << path;
    ::close(fd);
  }

  bool LinkHasXdp() {
    return RunCmd({"ip", "-o", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a()).output.find(" xdp") !=
           std::string::npos;
  }

  testing::TestPinRoot root_;
  NetnsPair pair_;
};

TEST_F(PinValidationTest, ForeignMapAtEachPinIsRefusedByStatusTopAndDetach) {
  xsk_steer_info absurd{};
  absurd.version = SteerInfoVersion();
  absurd.nr_queues = 1u << 30;  // sizes nothing: refused before any read
  struct Case {
    std::string pin;  // relative to the interface's pin directory
    uint32_t value_size, entries;
    const void* value;
    bool iface;  // an interface pin (detach refuses too)
  };
  const Case cases[] = {
      {"steer_info", 8, 1, nullptr, true},
      {"steer_info", sizeof(xsk_steer_info), 1, &absurd, true},
      {"steer_info", sizeof(xsk_steer_info), 4, nullptr, true},
      {"xsks_map", 8, 1, nullptr, true},
      {"counters", 8, 64, nullptr, true},
      {"link", 8, 1, nullptr, true},
      {"../../probes/probes_info", 8, 1, nullptr, false},
      {"../../probes/tx_stats", 8, 1, nullptr, false},
  };
  for (const Case& c : cases) {
    const std::string what = c.pin + " (value " + std::to_string(c.value_size) + ")";
    CmdResult a = Loader({"attach", pair_.dev_a()});
    ASSERT_EQ(a.status, 0) << a.output;
    if (!std::filesystem::exists(root_.path() + "/probes/probes_info") && !c.iface) {
      Loader({"detach", pair_.dev_a()});
      XSKIT_SKIP("the probes did not attach here: " + a.output);
    }
    std::string path = std::filesystem::weakly_canonical(Dir() + "/" + c.pin).string();
    PlaceForeign(path, c.value_size, c.entries, c.value);

    CmdResult st = Loader({"status", pair_.dev_a(), "--json"});
    EXPECT_EQ(st.status, kForeign) << what << ": " << st.output;
    EXPECT_NE(st.output.find(kSays), std::string::npos) << what << ": " << st.output;
    CmdResult all = Loader({"status"});
    EXPECT_EQ(all.status, kForeign) << what << ": " << all.output;
    CmdResult top = Loader({"top", "--iterations", "1", "--interval", "0.1"});
    EXPECT_EQ(top.status, kForeign) << what << ": " << top.output;
    EXPECT_NE(top.output.find(kSays), std::string::npos) << what << ": " << top.output;
    if (c.iface) {
      CmdResult d = Loader({"detach", pair_.dev_a()});
      EXPECT_EQ(d.status, kForeign) << what << ": " << d.output;
      EXPECT_NE(d.output.find(kSays), std::string::npos) << what << ": " << d.output;
      EXPECT_TRUE(std::filesystem::exists(path)) << what << ": detach removed a foreign pin";
    }
    // Clean up by hand, as the message says (rm the pin), then detach.
    std::filesystem::remove(path);
    std::filesystem::remove_all(Dir());
    std::filesystem::remove_all(root_.path());
    // The last reference to the link was its pin: the kernel releases the
    // link (and detaches the program) from a work item, a moment later.
    for (int i = 0; i < 50 && LinkHasXdp(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(LinkHasXdp()) << what << ": unpinning the link left the program (5 s later)";
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace xskit
