// Tier `netns`: issue 12 item 5, the rename rule (docs/DESIGN.md, "Renamed
// interfaces"): pins follow the device (its ifindex and program), not its
// name. Renaming veth0 to veth9 and creating a new veth0 must not unpin the
// live link of veth9; status shows the current name; attach, status and
// detach by the new name find the old pins. A device moved to another
// namespace keeps its program and its pins stay under the old namespace's
// name (detach there takes the program off); a deleted one leaves pins
// that status calls detached and detach removes.
#include <filesystem>

#include "gtest/gtest.h"
#include "lib/errors.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::CmdResult;
using testing::MustRun;
using testing::NetnsPair;
using testing::RunCmd;

class RenameTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::EnsureBpffs(); }
  CmdResult Loader(const std::vector<std::string>& args, const std::string& ns = "") {
    return testing::RunLoader(root_.path(), ns.empty() ? pair_.ns_a() : ns, args);
  }
  bool HasXdp(const std::string& dev, const std::string& ns) {
    return RunCmd({"ip", "-o", "link", "show", "dev", dev}, ns).output.find(" xdp") != std::string::npos;
  }
  std::string Dir(const std::string& dev) { return root_.path() + "/if/" + pair_.ns_a() + ":" + dev; }
  void Rename(const std::string& from, const std::string& to) {
    MustRun({"ip", "link", "set", "dev", from, "down"}, pair_.ns_a());
    MustRun({"ip", "link", "set", "dev", from, "name", to}, pair_.ns_a());
    MustRun({"ip", "link", "set", "dev", to, "up"}, pair_.ns_a());
  }

  testing::TestPinRoot root_;
  NetnsPair pair_;
};

TEST_F(RenameTest, PinsFollowARenamedDevice) {
  const std::string old_name = pair_.dev_a(), new_name = pair_.dev_a() + "r";
  ASSERT_EQ(Loader({"attach", old_name, "--no-probes"}).status, 0);
  Rename(old_name, new_name);
  ASSERT_TRUE(HasXdp(new_name, pair_.ns_a()));

  // status lists it by its current name, and finds it by that name.
  CmdResult all = Loader({"status", "--json"});
  ASSERT_EQ(all.status, 0) << all.output;
  auto j = nlohmann::json::parse(all.output);
  ASSERT_EQ(j["interfaces"].size(), 1u) << all.output;
  EXPECT_EQ(j["interfaces"][0]["ifname"], new_name) << all.output;
  EXPECT_EQ(j["interfaces"][0]["pinned_as"], old_name) << all.output;
  EXPECT_TRUE(j["interfaces"][0]["attached"].get<bool>());
  CmdResult by_new = Loader({"status", new_name, "--json"});
  EXPECT_EQ(by_new.status, 0) << by_new.output;

  // A new device takes the old name and is attached: the renamed one keeps
  // its program and pins (now under its current name).
  MustRun({"ip", "link", "add", old_name, "type", "veth", "peer", "name", old_name + "p"}, pair_.ns_a());
  MustRun({"ip", "link", "set", "dev", old_name, "up"}, pair_.ns_a());
  CmdResult fresh = Loader({"attach", old_name, "--no-probes", "--mode", "generic"});
  EXPECT_EQ(fresh.status, 0) << fresh.output;
  EXPECT_TRUE(HasXdp(new_name, pair_.ns_a())) << "attaching the new " << old_name
                                              << " unpinned the renamed device's live link";
  EXPECT_TRUE(std::filesystem::exists(Dir(new_name) + "/link")) << "pins did not follow the rename";
  EXPECT_TRUE(HasXdp(old_name, pair_.ns_a()));

  // Attach by the new name finds the old pins (an unchanged re-attach).
  CmdResult again = Loader({"attach", new_name, "--no-probes"});
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("already attached"), std::string::npos) << again.output;

  EXPECT_EQ(Loader({"detach", new_name}).status, 0);
  EXPECT_FALSE(HasXdp(new_name, pair_.ns_a()));
  EXPECT_TRUE(HasXdp(old_name, pair_.ns_a())) << "detach of one took the other";
  EXPECT_EQ(Loader({"detach", old_name}).status, 0);
  EXPECT_FALSE(HasXdp(old_name, pair_.ns_a()));
  EXPECT_FALSE(testing::PinsLeft(root_.path()));
}

TEST_F(RenameTest, RenamedBeforeDetachIsDetachedByTheNewName) {
  const std::string old_name = pair_.dev_a(), new_name = pair_.dev_a() + "r";
  ASSERT_EQ(Loader({"attach", old_name, "--no-probes"}).status, 0);
  Rename(old_name, new_name);
  CmdResult d = Loader({"detach", new_name});
  EXPECT_EQ(d.status, 0) << d.output;
  EXPECT_FALSE(HasXdp(new_name, pair_.ns_a()));
  EXPECT_FALSE(testing::PinsLeft(root_.path()));
}

TEST_F(RenameTest, MovedToAnotherNamespaceOrDeleted) {
  const std::string dev = pair_.dev_a();
  ASSERT_EQ(Loader({"attach", dev, "--no-probes"}).status, 0);
  // Moved: the kernel moves the XDP link with the device; the pins stay
  // under the old namespace's name (ifindexes are per namespace, so they
  // are not followed), where status still shows the link attached and
  // detach by the old name takes the program off the moved device.
  MustRun({"ip", "link", "set", "dev", dev, "netns", pair_.ns_b()}, pair_.ns_a());
  CmdResult st = Loader({"status", "--json"});
  ASSERT_EQ(st.status, 0) << st.output;
  auto j = nlohmann::json::parse(st.output);
  ASSERT_EQ(j["interfaces"].size(), 1u);
  EXPECT_EQ(j["interfaces"][0]["ifname"], dev);
  EXPECT_EQ(j["interfaces"][0]["attached"].get<bool>(), HasXdp(dev, pair_.ns_b())) << st.output;
  if (HasXdp(dev, pair_.ns_b())) {
    CmdResult there = Loader({"attach", dev, "--no-probes"}, pair_.ns_b());
    EXPECT_EQ(there.status, static_cast<int>(ExitCode::kForeignProgram)) << there.output;
  }
  EXPECT_EQ(Loader({"detach", dev}).status, 0);
  EXPECT_FALSE(HasXdp(dev, pair_.ns_b())) << "detach in the old namespace left the program";
  EXPECT_FALSE(std::filesystem::exists(Dir(dev)));
  CmdResult there = Loader({"attach", dev, "--no-probes"}, pair_.ns_b());
  EXPECT_EQ(there.status, 0) << there.output;
  EXPECT_EQ(Loader({"detach", dev}, pair_.ns_b()).status, 0);
  EXPECT_FALSE(HasXdp(dev, pair_.ns_b()));

  // Deleted: status says detached, detach by name cleans up.
  const std::string peer = pair_.dev_b();
  ASSERT_EQ(Loader({"attach", peer, "--no-probes"}, pair_.ns_b()).status, 0);
  MustRun({"ip", "link", "del", peer}, pair_.ns_b());
  CmdResult gone = Loader({"status", "--json"}, pair_.ns_b());
  ASSERT_EQ(gone.status, 0) << gone.output;
  auto g = nlohmann::json::parse(gone.output);
  ASSERT_FALSE(g["interfaces"].empty()) << gone.output;
  EXPECT_FALSE(g["interfaces"][0]["attached"].get<bool>()) << gone.output;
  EXPECT_EQ(Loader({"detach", peer}, pair_.ns_b()).status, 0);
  EXPECT_FALSE(testing::PinsLeft(root_.path()));
}

}  // namespace
}  // namespace xskit
