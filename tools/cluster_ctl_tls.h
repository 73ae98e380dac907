/* TLS to Redis for wolfguardctl --cluster (cluster_ctl_tls.c). */
#ifndef WG_CLUSTER_CTL_TLS_H
#define WG_CLUSTER_CTL_TLS_H

#include <stddef.h>

struct redisContext;
struct wg_redis_tls;
struct wg_redis_tls_opts;

/* wolfSSL started and the context made from the files
 * (core/cluster/redis_tls_ctx.c); NULL with the reason in err. */
struct wg_redis_tls *wg_ctl_tls_new(const struct wg_redis_tls_opts *o, char *err, size_t errlen);
/* After the context that used it is freed. */
void wg_ctl_tls_free(struct wg_redis_tls *t);

/* Runs the TLS handshake on c, a connected blocking context with its
 * timeout set (each wait for Redis is bounded by it), and puts the session
 * under c's reads and writes. 0, or -1 with the reason in err. */
int wg_ctl_tls_start(struct redisContext *c, const struct wg_redis_tls *t, char *err, size_t errlen);

#endif
