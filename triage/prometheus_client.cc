#include "triage/prometheus_client.h"

#include <curl/curl.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace xskit::triage {
namespace {

absl::Status CheckKeys(const YAML::Node& node, const std::string& where,
                       std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected a mapping"));
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok |= key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) absl::StrAppend(&list, list.empty() ? "" : ", ", a);
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown key '", key, "' (known: ", list, ")"));
    }
  }
  return absl::OkStatus();
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

double ParseValue(const std::string& s) {
  if (s == "NaN") return std::nan("");
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  return std::strtod(s.c_str(), nullptr);
}

// Worth another attempt: the server may come (back) up. TLS and URL
// errors are not.
bool Transient(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      return true;
    default:
      return false;
  }
}

bool TlsError(CURLcode c) {
  return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION ||
         c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_CACERT_BADFILE ||
         c == CURLE_SSL_ISSUER_ERROR;
}

struct Answer {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long http = 0;
  std::string body;
};

}  // namespace

absl::StatusOr<HttpConfig> ParseHttpConfig(const std::string& text) {
  HttpConfig c;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("http config: ", e.what()));
  }
  if (!root || root.IsNull()) return c;
  if (auto s = CheckKeys(root, "http config", {"basic_auth", "tls_config"}); !s.ok()) return s;
  try {
    if (auto b = root["basic_auth"]) {
      if (auto s = CheckKeys(b, "http config basic_auth", {"username", "password", "password_file"});
          !s.ok())
        return s;
      c.username = b["username"].as<std::string>("");
      c.password = b["password"].as<std::string>("");
      if (auto f = b["password_file"]) {
        std::ifstream in(f.as<std::string>());
        if (!in)
          return absl::InvalidArgumentError(absl::StrCat(
              "http config basic_auth.password_file: cannot read ", f.as<std::string>()));
        std::getline(in, c.password);
      }
      if (c.username.empty())
        return absl::InvalidArgumentError("http config basic_auth: username is missing");
    }
    if (auto t = root["tls_config"]) {
      if (auto s = CheckKeys(t, "http config tls_config",
                             {"ca_file", "cert_file", "key_file", "insecure_skip_verify"});
          !s.ok())
        return s;
      c.ca_file = t["ca_file"].as<std::string>("");
      c.cert_file = t["cert_file"].as<std::string>("");
      c.key_file = t["key_file"].as<std::string>("");
      c.insecure_skip_verify = t["insecure_skip_verify"].as<bool>(false);
      if (c.cert_file.empty() != c.key_file.empty())
        return absl::InvalidArgumentError(
            "http config tls_config: cert_file and key_file go together (a client certificate)");
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("http config: ", e.what()));
  }
  return c;
}

absl::StatusOr<HttpConfig> LoadHttpConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read http config ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = ParseHttpConfig(ss.str());
  if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", c.status().message()));
  return c;
}

absl::StatusOr<std::vector<Series>> ParseMatrix(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return absl::FailedPreconditionError("Prometheus answered with something that is not JSON");
  if (j.value("status", "") != "success")
    return absl::FailedPreconditionError(
        absl::StrCat("Prometheus refused the query: ", j.value("errorType", "error"), ": ",
                     j.value("error", "(no error text)")));
  const auto& data = j["data"];
  if (data.value("resultType", "") != "matrix")
    return absl::FailedPreconditionError(
        absl::StrCat("Prometheus returned a ", data.value("resultType", "?"), ", not a matrix"));
  std::vector<Series> out;
  for (const auto& r : data["result"]) {
    Series s;
    for (const auto& [k, v] : r["metric"].items()) s.labels[k] = v.get<std::string>();
    for (const auto& p : r["values"]) {
      s.timestamps.push_back(p[0].get<double>());
      s.values.push_back(ParseValue(p[1].get<std::string>()));
    }
    out.push_back(std::move(s));
  }
  return out;
}

PrometheusClient::PrometheusClient(ClientOptions options) : options_(std::move(options)) {
  static CurlGlobal global;
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

absl::StatusOr<std::vector<Series>> PrometheusClient::QueryRange(const std::string& query,
                                                                 double start, double end,
                                                                 double step) const {
  const std::string endpoint = options_.url + "/api/v1/query_range";
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  char* escaped = curl_easy_escape(curl.get(), query.data(), static_cast<int>(query.size()));
  const std::string form = absl::StrFormat("query=%s&start=%.3f&end=%.3f&step=%.3f", escaped,
                                           start, end, step);
  curl_free(escaped);

  Answer a;
  double pause = options_.backoff_s;
  for (int attempt = 0;; attempt++) {
    CURL* c = curl.get();
    curl_easy_reset(c);
    a = Answer{};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(options_.timeout_s, 10.0) * 1000));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "xsk-triage");
    const HttpConfig& h = options_.http;
    if (!h.username.empty()) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(c, CURLOPT_USERNAME, h.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, h.password.c_str());
    }
    if (!h.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, h.ca_file.c_str());
    if (!h.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, h.cert_file.c_str());
    if (!h.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, h.key_file.c_str());
    if (h.insecure_skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    a.curl = curl_easy_perform(c);
    a.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(a.curl);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.http);
    const bool transient = Transient(a.curl) || a.http >= 500 || a.http == 429;
    if (!transient || attempt >= options_.retries) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    pause *= 2;
  }
  const int attempts = options_.retries + 1;
  if (TlsError(a.curl))
    return absl::UnavailableError(absl::StrCat("TLS with Prometheus at ", options_.url, " failed: ",
                                               a.curl_error,
                                               " (check tls_config in --http.config.file)"));
  if (a.curl != CURLE_OK && !Transient(a.curl))
    return absl::UnavailableError(
        absl::StrCat("Prometheus at ", options_.url, ": ", a.curl_error));
  if (a.curl != CURLE_OK)
    return absl::UnavailableError(absl::StrCat("Prometheus at ", options_.url, " unreachable: ",
                                               a.curl_error, " (", attempts, " attempts)"));
  if (a.http == 401 || a.http == 403)
    return absl::UnauthenticatedError(absl::StrCat(
        "Prometheus at ", options_.url, " answered HTTP ", a.http,
        ": check basic_auth / tls_config in --http.config.file"));
  if (a.http >= 500 || a.http == 429) {
    // Prometheus answers query timeouts and execution errors with 503/422
    // and a JSON body; keep its text.
    auto parsed = ParseMatrix(a.body);
    std::string why = parsed.ok() ? "" : std::string(parsed.status().message());
    return absl::UnavailableError(absl::StrCat("Prometheus at ", options_.url, " answered HTTP ",
                                               a.http, " through ", attempts, " attempts",
                                               why.empty() ? "" : ": ", why));
  }
  auto parsed = ParseMatrix(a.body);
  if (!parsed.ok() && a.http != 200 && a.body.find('{') == std::string::npos)
    return absl::FailedPreconditionError(absl::StrCat("Prometheus at ", options_.url,
                                                      " answered HTTP ", a.http, " at ", endpoint,
                                                      ": is this a Prometheus server?"));
  if (!parsed.ok())
    return absl::FailedPreconditionError(
        absl::StrCat(parsed.status().message(), "; query: ", query));
  return parsed;
}

}  // namespace xskit::triage
