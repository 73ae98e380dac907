/* The facts of a verified client certificate that auth plugins may use
 * (host->auth_cert): read once from the TLS connection when a login starts,
 * so later steps on other connections can be checked against it. */
#ifndef WG_CLIENT_CERT_H
#define WG_CLIENT_CERT_H

#include <stdbool.h>

struct WOLFSSL;

struct wg_client_cert {
	char cn[128];
	char email[128];
	char dns[128];
	char ou[128];
	char subject[256];
	char issuer[256];
	char serial[80]; /* hex */
};

/* Fills *out from the connection's peer certificate. Returns true when the
 * client presented one (the handshake already verified it against the
 * server's ca-file and crl-file), false when it sent none. */
bool wg_client_cert_read(struct WOLFSSL *ssl, struct wg_client_cert *out);

/* One fact by name ("cn", "email", "dns", "ou", "subject", "issuer",
 * "serial"), or NULL when unknown or empty. */
const char *wg_client_cert_get(const struct wg_client_cert *c, const char *what);

/* True when a and b are the same certificate (issuer and serial). */
bool wg_client_cert_same(const struct wg_client_cert *a, const struct wg_client_cert *b);

#endif
