/* What the server's TLS to Redis (redis_tls.c, non-blocking, under hiredis's
 * async context) and wolfguardctl --cluster's (tools/cluster_ctl_tls.c,
 * blocking, under a sync context) share: the wolfSSL context made from the
 * CA, the optional client certificate and key and the name Redis's
 * certificate must carry; a client session on a socket; the one-line reason
 * for a failed handshake. Both link this file (core/meson.build,
 * tools/meson.build). */
#ifndef WG_CLUSTER_REDIS_TLS_CTX_H
#define WG_CLUSTER_REDIS_TLS_CTX_H

#include <stddef.h>

struct wg_redis_tls;
/* wolfSSL's session type (WOLFSSL), without its headers here. */
struct WOLFSSL;

struct wg_redis_tls_opts {
	const char *ca_file;     /* required: the CAs that may sign Redis's certificate */
	const char *cert_file;   /* optional client certificate (Redis's tls-auth-clients) */
	const char *key_file;    /* its key; required with cert_file */
	/* The name the certificate must carry: a DNS name (also sent as SNI)
	 * or an IPv4 or IPv6 address (an IP SAN; no SNI), redis_tls_name.h. */
	const char *server_name;
	/* The options' common stem in messages: "cluster-redis-tls" (the
	 * server's, the default) or "--cluster-tls" (wolfguardctl's); the CA
	 * option is "<stem>-ca", and so on. */
	const char *option_stem;
};

/* Loads the files now (the server: before it drops its privileges). NULL
 * with the reason in err. */
struct wg_redis_tls *wg_redis_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen);
void wg_redis_tls_free(struct wg_redis_tls *t);

/* A client session on fd: the name as SNI and as the name to check (an
 * address: as the address to check). NULL when wolfSSL cannot make it. */
struct WOLFSSL *wg_redis_tls_session(const struct wg_redis_tls *t, int fd);

/* After the handshake, before the first byte of data: 0 when the session
 * may carry it, -1 with the one-line reason in buf when the name is an
 * address the certificate matched only as text (a dNSName or common name
 * spelled like it), not as an IP SAN. */
int wg_redis_tls_check_peer(const struct wg_redis_tls *t, struct WOLFSSL *ssl, char *buf, size_t len);

/* "TLS <what>: <wolfSSL's reason> (<code>)<hint>", the hint naming the option
 * to look at for an untrusted CA or another name. */
void wg_redis_tls_reason(const struct wg_redis_tls *t, const char *what, int err, char *buf, size_t len);

#endif
