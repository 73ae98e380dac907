/* The facts of a verified client certificate that auth plugins may use
 * (host->auth_cert): read once from the TLS connection when a login starts,
 * so later steps on other connections can be checked against it. */
#ifndef WG_CLIENT_CERT_H
#define WG_CLIENT_CERT_H

#include <stdbool.h>
#include <stdint.h>

struct WOLFSSL;
struct WOLFSSL_X509;

struct wg_client_cert {
	char cn[128];
	char email[128];
	char dns[128];
	char ou[128];
	char subject[256];
	char issuer[256];
	char serial[80]; /* hex */
	uint8_t sha256[32]; /* of the DER certificate: what identifies it */
	bool have_sha256;
};

/* Fills *out from the connection's peer certificate. Returns true when the
 * client presented one (the handshake already verified it against the
 * server's ca-file and crl-file), false when it sent none. */
bool wg_client_cert_read(struct WOLFSSL *ssl, struct wg_client_cert *out);

/* The same from a certificate (as read from the connection). */
bool wg_client_cert_from_x509(struct WOLFSSL_X509 *x, struct wg_client_cert *out);

/* One fact by name ("cn", "email", "dns", "ou", "subject", "issuer",
 * "serial"), or NULL when unknown or empty. */
const char *wg_client_cert_get(const struct wg_client_cert *c, const char *what);

/* True when a and b are the same certificate: the same DER bytes (SHA-256).
 * Issuer and serial would not do: two CAs may share a name, a CA may
 * repeat a serial, and a serial too long to keep would compare empty. */
bool wg_client_cert_same(const struct wg_client_cert *a, const struct wg_client_cert *b);

#endif
