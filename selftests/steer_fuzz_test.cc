// Tier `bpf`: the steering program against the test's own reference
// classifier (selftests/steer_reference.h), frame by frame, for every filter
// set: generated and mutated frames through BPF_PROG_TEST_RUN (repeat 1),
// the action compared per frame and the counters per batch (a batch whose
// counters disagree is rerun frame by frame to name the frame). A mismatch
// prints the frame as hex with the seed that made it.
//
// The suite runs 20,000 frames with a fixed seed; `ninja -C build fuzz`
// runs 1,000,000 with a fresh seed (XSKIT_FUZZ_FRAMES, XSKIT_FUZZ_SEED=N
// or `random` to reproduce or vary a run).
#include <linux/bpf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/parse_args.h"
#include "lib/xsk_steer_prog.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/steer_reference.h"
#include "xsk/xsk_socket.h"

namespace xskit {
namespace {

using testing::HexDump;
using testing::RefClassify;
using testing::RefOutcome;

struct FilterSet {
  std::string name;
  xsk_steer_filter filter{};
  bool socket = true;
};

xsk_steer_filter Match(const std::string& text) {
  if (text.empty()) return {};
  auto f = ParseMatch(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status();
  return f.ok() ? *f : xsk_steer_filter{};
}

std::vector<FilterSet> FilterSets() {
  std::vector<FilterSet> sets;
  for (const char* m : {"", "udp:4791", "tcp:4791,udp:53", "udp", "icmp,icmpv6,tcp:80",
                        "sctp:4791,tcp", "udp:1,udp:2,udp:3,udp:4,udp:5,udp:6,udp:7,udp:4791"})
    sets.push_back({m[0] ? m : "(none)", Match(m), true});
  // UDP-Lite has no --match name; the program reads its port like UDP's.
  FilterSet lite{"udplite:4791 (raw rule)", {}, true};
  lite.filter.nr_rules = 1;
  lite.filter.rules[0] = {136, 0, 4791};
  sets.push_back(lite);
  sets.push_back({"udp:4791, no socket", Match("udp:4791"), false});
  return sets;
}

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  if (std::string(v) == "random")
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return std::strtoull(v, nullptr, 0);
}

std::string Describe(xsk_steer_outcome o) {
  return std::string(OutcomeName(o)) + (o == XSK_STEER_REDIRECTED ? " (XDP_REDIRECT)" : " (XDP_PASS)");
}

// One AF_XDP socket on queue 0 of a veth: the XSKMAP slot the programs
// redirect to must hold a real, bound socket.
class SteerFuzz : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::EnsureBpffs();
    pair_ = new testing::NetnsPair();
    testing::InNetns(pair_->ns_a(), [] {
      auto s = XskSocket::Create(pair_->dev_a(), 0, false, {});
      ASSERT_TRUE(s.ok()) << s.status();
      sock_ = s->release();
    });
  }
  static void TearDownTestSuite() {
    delete sock_;
    delete pair_;
  }
  static testing::NetnsPair* pair_;
  static XskSocket* sock_;
};

testing::NetnsPair* SteerFuzz::pair_ = nullptr;
XskSocket* SteerFuzz::sock_ = nullptr;

struct Prog {
  FilterSet set;
  XskSteerProg prog;
  std::vector<xsk_steer_counters> last;  // counters after the previous batch
  uint64_t by_outcome[XSK_STEER_NR_OUTCOMES] = {};
};

TEST_F(SteerFuzz, ProgramAgreesWithReferenceOnEveryFrameAndFilter) {
  const uint64_t frames = EnvU64("XSKIT_FUZZ_FRAMES", 20'000);
  const uint64_t seed = EnvU64("XSKIT_FUZZ_SEED", 20261127);
  constexpr size_t kBatch = 512;
  constexpr int kMaxPrinted = 20;

  std::vector<Prog> progs;
  for (const FilterSet& set : FilterSets()) {
    xsk_steer_info info{};
    info.version = SteerInfoVersion();
    info.nr_queues = 1;
    info.xdp_mode = XSK_STEER_MODE_NATIVE;
    SetQueueInMask(info, 0);
    info.filter = set.filter;
    auto prog = XskSteerProg::Load(info);
    ASSERT_TRUE(prog.ok()) << set.name << ": " << prog.status();
    if (set.socket) {
      ASSERT_TRUE(prog->RegisterSocket(0, sock_->fd()).ok());
    }
    auto c = prog->ReadCounters();
    ASSERT_TRUE(c.ok()) << c.status();
    progs.push_back({set, std::move(*prog), *c, {}});
  }

  testing::FrameGen gen(seed);
  std::map<std::string, uint64_t> why;  // the reference's reasons, for the summary
  std::map<std::string, uint64_t> mismatch_why;  // by the reference's reason
  uint64_t mismatches = 0, runs = 0;
  auto report = [&](uint64_t index, const Prog& p, const std::vector<uint8_t>& frame,
                    const std::string& got) {
    auto l4 = RefClassify(frame);
    mismatch_why[l4.matchable ? "matchable" : l4.why]++;
    if (++mismatches > kMaxPrinted) return;
    ADD_FAILURE() << "frame #" << index << " (seed " << seed << "), filter '" << p.set.name
                  << "': program " << got << ", reference "
                  << Describe(RefOutcome(p.set.filter, p.set.socket, frame)) << " ("
                  << (l4.matchable ? "proto " + std::to_string(l4.proto) + " dport " +
                                         std::to_string(l4.dport)
                                   : std::string(l4.why))
                  << "), " << frame.size() << " bytes:\n"
                  << HexDump(frame);
  };

  for (uint64_t done = 0; done < frames;) {
    std::vector<std::vector<uint8_t>> batch;
    for (; batch.size() < kBatch && done < frames; done++) batch.push_back(gen.Next());
    for (const auto& f : batch) {
      auto l4 = RefClassify(f);
      why[l4.matchable ? "matchable" : l4.why]++;
    }
    for (Prog& p : progs) {
      uint64_t want[XSK_STEER_NR_OUTCOMES] = {};
      for (size_t i = 0; i < batch.size(); i++) {
        xsk_steer_outcome o = RefOutcome(p.set.filter, p.set.socket, batch[i]);
        want[o]++;
        auto run = p.prog.TestRun(batch[i]);
        ASSERT_TRUE(run.ok()) << run.status();
        runs++;
        uint32_t want_action = o == XSK_STEER_REDIRECTED ? XDP_REDIRECT : XDP_PASS;
        if (run->action != want_action)
          report(done - batch.size() + i, p, batch[i],
                 run->action == XDP_REDIRECT ? "XDP_REDIRECT" : "XDP_PASS");
      }
      auto after = p.prog.ReadCounters();
      ASSERT_TRUE(after.ok()) << after.status();
      bool counters_agree = true;
      for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++) {
        counters_agree &= (*after)[0].packets[o] - p.last[0].packets[o] == want[o];
        p.by_outcome[o] += want[o];
      }
      p.last = *after;
      if (counters_agree) continue;
      // Find the frames: one run each, the counters read around it.
      for (size_t i = 0; i < batch.size(); i++) {
        auto run = p.prog.TestRun(batch[i]);
        auto now = p.prog.ReadCounters();
        ASSERT_TRUE(run.ok() && now.ok());
        xsk_steer_outcome want_o = RefOutcome(p.set.filter, p.set.socket, batch[i]);
        for (int o = 0; o < XSK_STEER_NR_OUTCOMES; o++) {
          uint64_t moved = (*now)[0].packets[o] - p.last[0].packets[o];
          if (moved != (o == want_o ? 1u : 0u) && moved == 1)
            report(done - batch.size() + i, p, batch[i],
                   "counted " + std::string(OutcomeName(static_cast<xsk_steer_outcome>(o))));
        }
        p.last = *now;
      }
    }
  }

  std::printf("steer fuzz: %llu frames x %zu filter sets = %llu runs, seed %llu, %llu mismatches\n",
              static_cast<unsigned long long>(frames), progs.size(),
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(mismatches));
  for (const Prog& p : progs)
    std::printf("  %-52s redirected %8llu  pass_no_match %8llu  pass_no_socket %8llu\n",
                p.set.name.c_str(), static_cast<unsigned long long>(p.by_outcome[0]),
                static_cast<unsigned long long>(p.by_outcome[XSK_STEER_PASS_NO_MATCH]),
                static_cast<unsigned long long>(p.by_outcome[XSK_STEER_PASS_NO_SOCKET]));
  std::printf("  reference verdicts over the frames:\n");
  for (const auto& [reason, n] : why)
    std::printf("    %-44s %8llu\n", reason.c_str(), static_cast<unsigned long long>(n));
  if (mismatches) std::printf("  mismatches by the reference's verdict:\n");
  for (const auto& [reason, n] : mismatch_why)
    std::printf("    %-44s %8llu\n", reason.c_str(), static_cast<unsigned long long>(n));
  EXPECT_EQ(mismatches, 0u) << "reproduce: XSKIT_FUZZ_SEED=" << seed << " XSKIT_FUZZ_FRAMES="
                            << frames << " build/selftests/xskit_test_bpf "
                            << "--gtest_filter=SteerFuzz.*";
}

}  // namespace
}  // namespace xskit
