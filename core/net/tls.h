/* The server's TLS context (wolfSSL): certificate, key, versions, ciphers. */
#ifndef WG_TLS_H
#define WG_TLS_H

#include <stddef.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

struct wg_config;

/* Returns a context, or NULL with a reason in err. */
WOLFSSL_CTX *wg_tls_ctx_new(const struct wg_config *scfg, char *err, size_t errlen);
/* "pin-sha256:<base64>" of the certificate's public key, as openconnect's
 * --servercert takes it. Returns 0 or -1. */
int wg_tls_cert_pin(const char *cert_file, char *out, size_t outlen);

#endif
