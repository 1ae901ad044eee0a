#include "exporter/civetweb_tls.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/errors.h"
#include "lib/log.h"

namespace xskit::exporter {
namespace {

// File names from exporter/CMakeLists.txt.
constexpr const char* kCryptoShim = XSKIT_CRYPTO_SHIM;
constexpr const char* kSslShim = XSKIT_SSL_SHIM;

// What libcivetweb.so.1.15.0 looks up in each library (`strings` on it, in
// table order). Any of them missing is a NULL call waiting to happen.
constexpr const char* kCryptoFunctions[] = {
    "ERR_get_error", "ERR_error_string", "CONF_modules_unload", "X509_free",
    "X509_get_subject_name", "X509_get_issuer_name", "X509_NAME_oneline",
    "X509_get_serialNumber", "EVP_get_digestbyname", "EVP_Digest", "i2d_X509", "BN_bn2hex",
    "ASN1_INTEGER_to_BN", "BN_free", "CRYPTO_free", "ERR_clear_error"};
constexpr const char* kSslFunctions[] = {
    "SSL_free", "SSL_accept", "SSL_connect", "SSL_read", "SSL_write", "SSL_get_error",
    "SSL_set_fd", "SSL_new", "SSL_CTX_new", "TLS_server_method", "OPENSSL_init_ssl",
    "SSL_CTX_use_PrivateKey_file", "SSL_CTX_use_certificate_file",
    "SSL_CTX_set_default_passwd_cb", "SSL_CTX_free", "SSL_CTX_use_certificate_chain_file",
    "TLS_client_method", "SSL_pending", "SSL_CTX_set_verify", "SSL_shutdown",
    "SSL_CTX_load_verify_locations", "SSL_CTX_set_default_verify_paths",
    "SSL_CTX_set_verify_depth", "SSL_get_peer_certificate", "SSL_get_version",
    "SSL_get_current_cipher", "SSL_CIPHER_get_name", "SSL_CTX_check_private_key",
    "SSL_CTX_set_session_id_context", "SSL_CTX_ctrl", "SSL_CTX_set_cipher_list",
    "SSL_CTX_set_options", "SSL_CTX_set_info_callback", "SSL_get_ex_data", "SSL_set_ex_data",
    "SSL_CTX_callback_ctrl", "SSL_get_servername", "SSL_set_SSL_CTX", "SSL_ctrl",
    "SSL_CTX_set_alpn_protos", "SSL_CTX_set_alpn_select_cb",
    "SSL_CTX_set_next_protos_advertised_cb", "SSL_CTX_set_timeout"};

absl::StatusOr<std::string> ExecutableDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ErrnoError("readlink /proc/self/exe", errno);
  std::string path(buf, n);
  return path.substr(0, path.rfind('/'));
}

// Loads `file` from the first of `dirs` that has it; the handle is kept for
// the life of the process (civetweb never lets go of OpenSSL either).
absl::Status LoadShim(const std::vector<std::string>& dirs, const char* file) {
  std::vector<std::string> tried;
  for (const auto& dir : dirs) {
    std::string path = absl::StrCat(dir, "/", file);
    if (::access(path.c_str(), R_OK) != 0) {
      tried.push_back(path);
      continue;
    }
    if (!::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL))
      return Error(ExitCode::kUnsupported, absl::StrCat("TLS: load ", path, ": ", ::dlerror()));
    spdlog::debug("TLS: loaded {}", path);
    return absl::OkStatus();
  }
  return Error(ExitCode::kUnsupported,
               absl::StrCat("TLS: ", file, " not found (", absl::StrJoin(tried, ", "),
                            "); it is built with xsk-exporter and installed beside it, see "
                            "exporter/README.md \"TLS and basic auth\""));
}

// What civetweb's dlopen(name) + dlsym() will now see.
template <size_t N>
absl::Status CheckAsCivetwebSees(const char* name, const char* const (&functions)[N]) {
  void* h = ::dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
  if (!h)
    return Error(ExitCode::kUnsupported,
                 absl::StrCat("TLS: dlopen(\"", name, "\") does not resolve to the loaded stand-in"));
  std::vector<std::string> missing;
  for (const char* f : functions)
    if (!::dlsym(h, f)) missing.push_back(f);
  ::dlclose(h);  // drops the reference taken here; the load above keeps it
  if (!missing.empty())
    return Error(ExitCode::kUnsupported,
                 absl::StrCat("TLS: civetweb would call functions ", name,
                              " does not have: ", absl::StrJoin(missing, ", ")));
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareCivetwebTls() {
  XSKIT_ASSIGN_OR_RETURN(std::string dir, ExecutableDir());
  std::vector<std::string> dirs = {dir, dir + "/../lib/xsk-exporter"};
  XSKIT_RETURN_IF_ERROR(LoadShim(dirs, kCryptoShim));
  XSKIT_RETURN_IF_ERROR(LoadShim(dirs, kSslShim));
  XSKIT_RETURN_IF_ERROR(CheckAsCivetwebSees("libcrypto.so", kCryptoFunctions));
  return CheckAsCivetwebSees("libssl.so", kSslFunctions);
}

}  // namespace xskit::exporter
