// TLS through prometheus-cpp's Exposer on Debian's civetweb.
//
// Debian 12's libcivetweb1 (1.15+dfsg-4) is built for OpenSSL 1.1's API
// and loads OpenSSL at run time: dlopen("libcrypto.so"), dlopen("libssl.so")
// (libssl-dev's unversioned symlinks), then dlsym() of each function it
// uses into a table. OpenSSL 3 no longer exports SSL_get_peer_certificate
// (a macro for SSL_get1_peer_certificate now), so that slot stays NULL.
// civetweb starts anyway, completes the handshake, and then calls the slot
// for every TLS connection (client certificate info, asked for or not): the
// whole exporter dies of SIGSEGV at its first HTTPS request.
//
// The way round, without rebuilding civetweb: two small libraries built
// with the exporter (exporter/civetweb_tls_shim.c) whose SONAMEs are
// "libcrypto.so" and "libssl.so", loaded before civetweb starts. glibc's
// dlopen() hands back an object already loaded under a matching SONAME, so
// civetweb gets these; dlsym() on them searches their dependencies
// (libcrypto.so.3, libssl.so.3) for everything else, and the libssl one
// defines SSL_get_peer_certificate as SSL_get1_peer_certificate. As a side
// effect TLS needs only the runtime package libssl3, not libssl-dev.
#pragma once

#include "absl/status/status.h"

namespace xskit::exporter {

// Loads the two libraries from the executable's directory or from
// <dir>/../lib/xsk-exporter/, and checks that civetweb's dlopen() names now
// resolve to them with every function civetweb needs. Call it before the
// Exposer exists and before the privilege drop (it reads /proc/self/exe).
// Fails with kUnsupported, saying what is missing.
absl::Status PrepareCivetwebTls();

}  // namespace xskit::exporter
