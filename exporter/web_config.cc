#include "exporter/web_config.h"

#include <crypt.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/errors.h"
#include "yaml-cpp/yaml.h"

namespace xskit::exporter {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError(absl::StrCat("read ", path), errno, ExitCode::kUsage);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string OpensslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM block found";
  const char* r = ERR_reason_error_string(e);
  return r ? r : absl::StrCat("OpenSSL error ", e);
}

// The pair as civetweb will load it: the first certificate of cert_file,
// the key of key_file, belonging together. An encrypted key is refused
// here: OpenSSL would ask for its passphrase on the terminal.
absl::Status CheckKeyPair(const WebConfig& config, const std::string& cert,
                          const std::string& key) {
  auto bio = [](const std::string& s) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(BIO_new_mem_buf(s.data(), s.size()),
                                                     &BIO_free);
  };
  auto cert_bio = bio(cert);
  std::unique_ptr<X509, decltype(&X509_free)> x509(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!x509)
    return Error(ExitCode::kUsage, absl::StrCat("tls_server_config: cert_file ", config.cert_file,
                                                ": no PEM certificate (", OpensslReason(), ")"));
  auto key_bio = bio(key);
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return -1; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
  if (!pkey)
    return Error(ExitCode::kUsage,
                 absl::StrCat("tls_server_config: key_file ", config.key_file,
                              ": no unencrypted PEM private key (", OpensslReason(), ")"));
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return Error(ExitCode::kUsage,
                 absl::StrCat("tls_server_config: key_file ", config.key_file,
                              " is not the key of the first certificate in cert_file ",
                              config.cert_file));
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// Where a node is, for messages: "line 3".
std::string At(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.is_null() ? std::string("web config") : absl::StrCat("web config line ", m.line + 1);
}

absl::Status Refuse(const YAML::Node& n, absl::string_view what) {
  return Error(ExitCode::kUsage, absl::StrCat(At(n), ": ", what));
}

// A mapping (or null: an empty section); each key once.
absl::Status ForEachKey(
    const YAML::Node& map, absl::string_view section,
    const std::function<absl::Status(const std::string&, const YAML::Node&, const YAML::Node&)>& fn) {
  if (!map || map.IsNull()) return absl::OkStatus();
  if (!map.IsMap()) return Refuse(map, absl::StrCat(section, " must be a mapping"));
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) return Refuse(it->first, absl::StrCat(section, ": a key must be a string"));
    std::string key = it->first.Scalar();
    if (!seen.insert(key).second)
      return Refuse(it->first, absl::StrCat(section, ": key ", key, " given twice"));
    XSKIT_RETURN_IF_ERROR(fn(key, it->first, it->second));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ScalarString(const YAML::Node& key, const YAML::Node& v,
                                         absl::string_view what) {
  if (!v.IsScalar()) return Refuse(key, absl::StrCat(what, " must be a string"));
  return v.Scalar();
}

absl::StatusOr<bool> ScalarBool(const YAML::Node& key, const YAML::Node& v, absl::string_view what) {
  bool b = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b))
    return Refuse(key, absl::StrCat(what, " must be true or false"));
  return b;
}

// exporter-toolkit's keys that xsk-exporter cannot enforce: accepted there,
// refused here, so that a config never runs weaker than it reads.
const std::set<std::string> kToolkitTlsKeys = {
    "cert", "key", "client_auth_type", "client_ca_file", "client_ca", "client_allowed_sans",
    "cipher_suites", "curve_preferences", "min_version", "max_version",
    "prefer_server_cipher_suites"};

absl::Status ParseTls(const YAML::Node& node, WebConfig& c) {
  return ForEachKey(node, "tls_server_config",
                    [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
    const std::string what = absl::StrCat("tls_server_config: ", key);
    if (key == "cert_file" || key == "key_file") {
      XSKIT_ASSIGN_OR_RETURN(std::string s, ScalarString(k, v, what));
      (key == "cert_file" ? c.cert_file : c.key_file) = s;
      return absl::OkStatus();
    }
    // The toolkit's defaults are what xsk-exporter does: accepted as such.
    if (key == "client_auth_type" && v.IsScalar() && v.Scalar() == "NoClientCert")
      return absl::OkStatus();
    if (key == "min_version" && v.IsScalar() && v.Scalar() == "TLS12") return absl::OkStatus();
    if (key == "max_version" && v.IsScalar() && v.Scalar() == "TLS13") return absl::OkStatus();
    if (key == "prefer_server_cipher_suites") {
      XSKIT_ASSIGN_OR_RETURN(bool b, ScalarBool(k, v, what));
      if (b) return absl::OkStatus();
    }
    if (kToolkitTlsKeys.count(key))
      return Refuse(k, absl::StrCat(what, ": xsk-exporter cannot enforce this setting "
                                          "(TLS 1.2+, no client certificates, cert_file and "
                                          "key_file only); remove it"));
    return Refuse(k, absl::StrCat("unknown key tls_server_config: ", key,
                                  " (cert_file, key_file)"));
  });
}

absl::Status ParseHttp(const YAML::Node& node) {
  return ForEachKey(node, "http_server_config",
                    [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
    if (key == "http2") {
      // HTTP/1.1 is served either way; http2 only allows the upgrade.
      XSKIT_ASSIGN_OR_RETURN(bool b, ScalarBool(k, v, "http_server_config: http2"));
      (void)b;
      return absl::OkStatus();
    }
    if (key == "headers")
      return Refuse(k, "http_server_config: headers: xsk-exporter cannot add response "
                       "headers; remove it");
    return Refuse(k, absl::StrCat("unknown key http_server_config: ", key, " (http2)"));
  });
}

absl::Status ParseUsers(const YAML::Node& node, WebConfig& c) {
  return ForEachKey(node, "basic_auth_users",
                    [&](const std::string& user, const YAML::Node& k, const YAML::Node& v) -> absl::Status {
    if (user.empty()) return Refuse(k, "basic_auth_users: empty user name");
    if (!v.IsScalar())
      return Refuse(k, absl::StrCat("basic_auth_users: ", user, " needs a bcrypt hash"));
    const std::string& hash = v.Scalar();
    // exporter-toolkit takes bcrypt only ($2a$, $2b$, $2y$).
    if (!(absl::StartsWith(hash, "$2a$") || absl::StartsWith(hash, "$2b$") ||
          absl::StartsWith(hash, "$2y$")) || hash.size() != 60)
      return Refuse(k, absl::StrCat("basic_auth_users: ", user,
                                    " needs a bcrypt hash ($2y$..., 60 characters; "
                                    "htpasswd -nBC 10 USER | cut -d: -f2)"));
    c.users[user] = hash;
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<WebConfig> ParseWebConfig(const std::string& text) {
  WebConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Error(ExitCode::kUsage,
                 absl::StrCat("web config line ", e.mark.line + 1, ": not YAML: ", e.msg));
  }
  if (root.IsNull()) return c;  // empty file: plain HTTP, no auth (as the toolkit)
  if (!root.IsMap()) return Refuse(root, "the web config must be a mapping");
  try {
    XSKIT_RETURN_IF_ERROR(ForEachKey(root, "web config",
                                     [&](const std::string& key, const YAML::Node& k,
                                         const YAML::Node& v) -> absl::Status {
      if (key == "tls_server_config") return ParseTls(v, c);
      if (key == "http_server_config") return ParseHttp(v);
      if (key == "basic_auth_users") return ParseUsers(v, c);
      return Refuse(k, absl::StrCat("unknown key ", key,
                                    " (tls_server_config, http_server_config, basic_auth_users)"));
    }));
  } catch (const YAML::Exception& e) {
    return Error(ExitCode::kUsage, absl::StrCat("web config line ", e.mark.line + 1, ": ", e.msg));
  }
  if (c.cert_file.empty() != c.key_file.empty())
    return Error(ExitCode::kUsage, "web config: tls_server_config needs cert_file and key_file");
  return c;
}

absl::StatusOr<WebConfig> LoadWebConfig(const std::string& path) {
  XSKIT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto c = ParseWebConfig(text);
  if (!c.ok()) return Annotate(c.status(), path);
  return c;
}

bool CheckPassword(const std::string& hash, const std::string& password) {
  crypt_data data{};
  const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
  if (!out || out[0] == '*') return false;
  size_t n = std::strlen(out);
  if (n != hash.size()) return false;
  unsigned diff = 0;  // constant time over the hash length
  for (size_t i = 0; i < n; i++) diff |= static_cast<unsigned>(out[i] ^ hash[i]);
  return diff == 0;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  unsigned char salt[32];
  if (RAND_bytes(salt, sizeof(salt)) != 1) std::abort();  // no entropy: do not serve
  salt_.assign(reinterpret_cast<const char*>(salt), sizeof(salt));
}

std::string BasicAuth::Digest(const std::string& user, const std::string& password) const {
  unsigned char md[SHA256_DIGEST_LENGTH];
  std::string in = absl::StrCat(salt_, user.size(), ":", user, password);
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

bool BasicAuth::Check(const std::string& user, const std::string& password) {
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  const std::string digest = Digest(user, password);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    for (const auto& good : good_)  // a handful of entries; constant time each
      if (CRYPTO_memcmp(good.data(), digest.data(), digest.size()) == 0) return true;
  }
  std::unique_lock<std::mutex> gate(hash_mu_, std::try_to_lock);
  if (!gate.owns_lock()) return false;  // another check runs: refuse, keep the thread
  hash_checks_++;
  if (!CheckPassword(it->second, password)) return false;
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (good_.size() < 64) good_.insert(digest);
  return true;
}

absl::StatusOr<Fd> CombinedPem(const WebConfig& config) {
  XSKIT_ASSIGN_OR_RETURN(std::string key, ReadFile(config.key_file));
  XSKIT_ASSIGN_OR_RETURN(std::string cert, ReadFile(config.cert_file));
  XSKIT_RETURN_IF_ERROR(CheckKeyPair(config, cert, key));
  Fd fd(memfd_create("xsk-exporter-tls", MFD_CLOEXEC));
  if (!fd.valid()) return ErrnoError("memfd_create", errno);
  std::string pem = absl::StrCat(key, key.empty() || key.back() == '\n' ? "" : "\n", cert);
  if (::write(fd.get(), pem.data(), pem.size()) != static_cast<ssize_t>(pem.size()))
    return ErrnoError("write TLS PEM to memfd", errno);
  return fd;
}

}  // namespace xskit::exporter
