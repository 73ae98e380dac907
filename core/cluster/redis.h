/* One asynchronous Redis connection on the worker's libevent loop (hiredis
 * async with its libevent adapter): never blocks the loop. It connects,
 * authenticates (AUTH [user] password), and when the connection fails or a
 * reply is late it drops it and connects again every second, logging one
 * line when Redis goes away and one when it is back.
 *
 * Every command carries a libevent timer (hiredis 0.14, which this was
 * first written for, had no async command timeouts; the timer stays); a reply later than
 * timeout_ms fails that command and drops the connection, so a half-open
 * TCP connection cannot hold requests. */
#ifndef WG_CLUSTER_REDIS_H
#define WG_CLUSTER_REDIS_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct redisReply;
struct wg_redis;
struct wg_redis_req;
struct wg_redis_tls;

struct wg_redis_opts {
	const char *host;      /* an IP address literal (no name lookup: it would block), or NULL */
	int port;
	const char *unix_path; /* instead of host:port */
	const char *user;      /* ACL user, or NULL */
	const char *password;  /* NULL: no AUTH */
	unsigned timeout_ms;
	struct wg_redis_tls *tls; /* TLS to Redis (redis_tls.h), or NULL; not owned */
	/* Called each time the connection is (again) ready: the owner writes
	 * what Redis may have lost. */
	void (*on_up)(void *arg);
	void *arg;
};

/* reply is NULL when the command failed (error says why: "timeout",
 * "connection lost", or Redis's own error text); a Redis error reply is
 * passed as error too, with reply NULL. */
typedef void (*wg_redis_cb)(const struct redisReply *reply, const char *error, void *arg);

/* Starts connecting at once. The options' strings are copied. NULL without memory. */
struct wg_redis *wg_redis_new(struct event_base *base, const struct wg_redis_opts *o);
/* Drops the connection; pending commands' callbacks are not called. */
void wg_redis_free(struct wg_redis *r);
bool wg_redis_is_up(const struct wg_redis *r);
/* The last reason the connection went down ("" when it is up). */
const char *wg_redis_down_reason(const struct wg_redis *r);
/* "10.0.0.5:6379" or "unix:/path", for log lines. */
const char *wg_redis_name(const struct wg_redis *r);

/* Sends a command. cb may be NULL (the reply is only checked for errors,
 * which are logged at debug). Returns 0, or -ENOTCONN while Redis is down
 * (cb is then not called), -ENOMEM. *handle (may be NULL) lets the caller
 * cancel the callback with wg_redis_cancel before it runs. */
int wg_redis_command(struct wg_redis *r, int argc, const char **argv, const size_t *lens, wg_redis_cb cb, void *arg,
		     struct wg_redis_req **handle);
void wg_redis_cancel(struct wg_redis_req *req);

#endif
