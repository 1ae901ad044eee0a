#include "exporter/web_config.h"

#include <crypt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/errors.h"

namespace xskit::exporter {
namespace {

std::string Unquote(absl::string_view v) {
  v = absl::StripAsciiWhitespace(v);
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') ||
                        (v.front() == '\'' && v.back() == '\'')))
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

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

absl::StatusOr<WebConfig> ParseWebConfig(const std::string& text) {
  WebConfig c;
  std::string section;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line_no++;
    // A comment starts at " #" or at the line's start (bcrypt hashes hold no '#').
    if (size_t hash = line.find('#'); hash != absl::string_view::npos &&
                                      (hash == 0 || line[hash - 1] == ' '))
      line = line.substr(0, hash);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    bool nested = line[0] == ' ' || line[0] == '\t';
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos)
      return Error(ExitCode::kUsage, absl::StrCat("web config line ", line_no, ": no ':'"));
    std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::string value = Unquote(line.substr(colon + 1));
    if (!nested) {
      section = key;
      if (section != "tls_server_config" && section != "basic_auth_users")
        return Error(ExitCode::kUsage,
                     absl::StrCat("web config line ", line_no, ": unsupported key ", key,
                                  " (tls_server_config, basic_auth_users)"));
      continue;
    }
    if (section == "tls_server_config") {
      if (key == "cert_file") c.cert_file = value;
      else if (key == "key_file") c.key_file = value;
      else
        return Error(ExitCode::kUsage, absl::StrCat("web config line ", line_no,
                                                    ": unsupported tls_server_config key ",
                                                    key, " (cert_file, key_file)"));
    } else if (section == "basic_auth_users") {
      if (value.empty() || value[0] != '$')
        return Error(ExitCode::kUsage, absl::StrCat("web config line ", line_no, ": user ",
                                                    key, " needs a crypt(3) hash (bcrypt)"));
      c.users[key] = value;
    } else {
      return Error(ExitCode::kUsage,
                   absl::StrCat("web config line ", line_no, ": key outside a section"));
    }
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
