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
	const char *server_name; /* SNI and the DNS name the certificate must carry */
	/* The options' common stem in messages: "cluster-redis-tls" (the
	 * server's, the default) or "--cluster-tls" (wolfguardctl's); the CA
	 * option is "<stem>-ca", and so on. */
	const char *option_stem;
};

/* Loads the files now (the server: before it drops its privileges). NULL
 * with the reason in err. */
struct wg_redis_tls *wg_redis_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen);
void wg_redis_tls_free(struct wg_redis_tls *t);

/* A client session on fd: the name as SNI and as the name to check. NULL
 * when wolfSSL cannot make it. */
struct WOLFSSL *wg_redis_tls_session(const struct wg_redis_tls *t, int fd);

/* "TLS <what>: <wolfSSL's reason> (<code>)<hint>", the hint naming the option
 * to look at for an untrusted CA or another name. */
void wg_redis_tls_reason(const struct wg_redis_tls *t, const char *what, int err, char *buf, size_t len);

#endif
