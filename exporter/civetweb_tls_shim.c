/* The two stand-ins that make Debian's civetweb TLS work under OpenSSL 3
 * (exporter/civetweb_tls.h says why). Built twice:
 *
 *   xsk-exporter-libcrypto.so  SONAME libcrypto.so  NEEDED libcrypto.so.3  (nothing defined)
 *   xsk-exporter-libssl.so     SONAME libssl.so     NEEDED libssl.so.3     (this function)
 *
 * civetweb's dlsym() on either handle finds everything else in the NEEDED
 * library. No OpenSSL header: openssl/ssl.h turns the name below into a
 * macro. */
#if defined(XSKIT_SHIM_LIBSSL)
typedef struct ssl_st SSL;
typedef struct x509_st X509;

X509 *SSL_get1_peer_certificate(const SSL *s);

/* OpenSSL 1.1's contract, kept by 3's rename: a new reference the caller
 * frees with X509_free (civetweb does), NULL without a peer certificate. */
X509 *SSL_get_peer_certificate(const SSL *s);
X509 *SSL_get_peer_certificate(const SSL *s) { return SSL_get1_peer_certificate(s); }
#endif
