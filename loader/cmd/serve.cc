#include <cstdio>

#include "loader/cmd/commands.h"
#include "lib/errors.h"
#include "loader/serve.h"

namespace xskit {
namespace {

struct ServeFlags {
  std::vector<std::string> ifaces;
  std::string config;
  std::vector<uint32_t> allow_uids, allow_gids;
  std::vector<std::string> sockets;
  bool no_iface_sockets = false;
  std::string user;
  int timeout_ms = 0;
};

absl::Status RunServe(const ServeFlags& flags, const GlobalOptions& global) {
  ServeOptions opts;
  opts.ifaces = flags.ifaces;
  opts.pin_root = global.pin_root;
  opts.extra_sockets = flags.sockets;
  opts.per_iface_sockets = !flags.no_iface_sockets;
  if (!flags.user.empty()) opts.user = flags.user;
  if (!flags.config.empty()) {
    XSKIT_ASSIGN_OR_RETURN(opts.config, LoadServeConfig(flags.config));
  }
  opts.config.allow_uids.insert(flags.allow_uids.begin(), flags.allow_uids.end());
  opts.config.allow_gids.insert(flags.allow_gids.begin(), flags.allow_gids.end());
  if (flags.config.empty() && flags.allow_uids.empty() && flags.allow_gids.empty())
    opts.config.allow_uids.insert(0);  // nobody but root unless told
  if (flags.timeout_ms > 0) opts.config.timeout_ms = flags.timeout_ms;

  XSKIT_ASSIGN_OR_RETURN(std::unique_ptr<DpServer> server, DpServer::Open(opts));
  XSKIT_RETURN_IF_ERROR(server->DropPrivileges());
  for (const auto& path : server->socket_paths()) std::printf("serving on %s\n", path.c_str());
  std::fflush(stdout);
  return server->Run();
}

}  // namespace

void RegisterServe(CLI::App& app, GlobalOptions& global, absl::Status* result) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "hand IFACE's XSKMAP to DPDK af_xdp (use_cni=1) and CNDP over the AF_XDP device "
      "plugin's handshake, at /tmp/afxdp_dp/IFACE/afxdp.sock");
  cmd->add_option("iface", flags->ifaces, "attached interfaces to serve")->required();
  cmd->add_option("--config", flags->config,
                  "YAML: allow: {uids: [...], gids: [...]}, timeout_ms, max_connections");
  cmd->add_option("--allow-uid", flags->allow_uids, "peer uid allowed (repeatable; default 0)");
  cmd->add_option("--allow-gid", flags->allow_gids, "peer gid allowed (repeatable)");
  cmd->add_option("--socket", flags->sockets,
                  "another socket serving every IFACE, e.g. /tmp/afxdp.sock for DPDK before "
                  "23.11.2 (repeatable)");
  cmd->add_flag("--no-iface-sockets", flags->no_iface_sockets,
                "serve only on the --socket paths");
  cmd->add_option("--user", flags->user, "switch to this user once the maps are open");
  cmd->add_option("--timeout-ms", flags->timeout_ms,
                  "close a connection idle this long (default 5000)")
      ->check(CLI::PositiveNumber);
  cmd->callback([flags, &global, result] { *result = RunServe(*flags, global); });
}

}  // namespace xskit
