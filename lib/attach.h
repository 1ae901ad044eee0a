// Attach and detach of the steering program, with the safety rules of
// docs/DESIGN.md: validate everything before touching the kernel, never
// replace a foreign program silently, commit by renaming a staging pin
// directory, and leave the system as it was on any failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include <linux/types.h>  // before the shared header: it uses __u32 and friends
#include "bpf/xsk_steer.h"
#include "lib/enum_table.h"
#include "lib/iface_facts.h"
#include "lib/pins.h"

namespace xskit {

enum class ModeRequest { kAuto, kNative, kGeneric };
// `--mode` of attach and check: parsed and printed from these rows.
inline constexpr EnumName<ModeRequest> kModeRequestNames[] = {
    {ModeRequest::kAuto, "auto"}, {ModeRequest::kNative, "native"}, {ModeRequest::kGeneric, "generic"}};

struct AttachRequest {
  std::string ifname;
  std::vector<uint32_t> queues;  // empty: all
  ModeRequest mode = ModeRequest::kAuto;
  bool zerocopy = false;
  bool force = false;
  // Also make the XSKMAP reachable at /tmp/afxdp_dp/<iface>/xsks_map
  // (lib/afxdp_dp.h), DPDK's default dp_path for use_pinned_map=1.
  bool dp_pin = false;
  xsk_steer_filter filter{};
  std::optional<std::string> pin_root;
};

struct AttachResult {
  // kMigrated: another xskit version's live attach taken over in place
  // (docs/DESIGN.md, "Upgrades").
  enum class Action { kAttached, kUnchanged, kUpdated, kMigrated } action = Action::kAttached;
  std::string dir;           // the pin directory
  uint32_t xdp_mode = 0;     // XSK_STEER_MODE_*
  std::string mode_reason;   // why that mode
  xsk_steer_info info{};
  std::vector<std::string> replaced;  // foreign programs removed by --force
  std::string dp_pin;                 // the --dp-pin path, when made
  bool new_program = false;           // kUpdated: same options, this xskit's program differs
  uint32_t migrated_from = 0;         // kMigrated: the other version's info version
  std::string counters_restarted;     // kMigrated: why the counters restart ("" carried over)
};

// The mode `request` resolves to on a device with `facts`, and why.
absl::StatusOr<std::pair<uint32_t, std::string>> ResolveMode(ModeRequest request,
                                                             const IfaceFacts& facts);

// Every check attach makes before it touches the kernel.
absl::StatusOr<xsk_steer_info> ValidateAttach(const AttachRequest& req, const IfaceFacts& facts,
                                              std::string* mode_reason);

absl::StatusOr<AttachResult> Attach(const AttachRequest& req);

// Removes the link, the pins and the pin directory of `ifname` (in the
// caller's netns), and the --dp-pin symlink when it points at them.
// ExitCode::kNotAttached when there is nothing to remove. Pins that are not
// xskit's of this version (another version's, or foreign) are refused
// (kForeignPin) unless `force`: then their link, if it is one, is detached
// and the directory removed all the same.
absl::Status Detach(const std::string& ifname, const std::optional<std::string>& pin_root,
                    bool force = false);

}  // namespace xskit
