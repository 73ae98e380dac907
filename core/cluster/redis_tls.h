/* TLS to Redis through wolfSSL (the server's one TLS library), carried
 * under a hiredis async context by hiredis's redisContextFuncs (hiredis >=
 * 1.0, built by scripts/deps.sh without its OpenSSL layer).
 *
 * Never blocks the loop: the handshake runs inside the first non-blocking
 * writes and reads of the connection (AUTH and PING), and wolfSSL's
 * WANT_READ / WANT_WRITE are turned into hiredis's read and write events. A
 * failure (an untrusted certificate, a wrong name, a peer that speaks no TLS)
 * ends the connection with a reason in the context's errstr, which redis.c
 * logs as the outage's reason. */
#ifndef WG_CLUSTER_REDIS_TLS_H
#define WG_CLUSTER_REDIS_TLS_H

#include <stddef.h>

struct redisAsyncContext;
struct wg_redis_tls;

struct wg_redis_tls_opts {
	const char *ca_file;     /* required: the CAs that may sign Redis's certificate */
	const char *cert_file;   /* optional client certificate (Redis's tls-auth-clients) */
	const char *key_file;    /* its key; required with cert_file */
	const char *server_name; /* SNI and the DNS name the certificate must carry */
};

/* Loads the files now (before the server drops its privileges). NULL with
 * the reason in err. */
struct wg_redis_tls *wg_redis_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen);
void wg_redis_tls_free(struct wg_redis_tls *t);

/* Puts a TLS client session under ac, right after redisAsyncConnect (its
 * socket exists; the TCP connection may still be under way). 0, or -1 with
 * ac->c.errstr set. */
int wg_redis_tls_attach(struct wg_redis_tls *t, struct redisAsyncContext *ac);

#endif
