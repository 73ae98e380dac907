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

#include "cluster/redis_tls_ctx.h" /* wg_redis_tls_new, _free: the context from the files */

struct redisAsyncContext;

/* Puts a TLS client session under ac, right after redisAsyncConnect (its
 * socket exists; the TCP connection may still be under way). 0, or -1 with
 * ac->c.errstr set. */
int wg_redis_tls_attach(struct wg_redis_tls *t, struct redisAsyncContext *ac);

#endif
