/* The asynchronous Redis connection (redis.h). */
#include "cluster/redis.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/redis_tls.h"
#include "observe/metrics.h"
#include "util/log.h"

#define RETRY_S 1

struct wg_redis {
	struct event_base *base;
	redisAsyncContext *ctx; /* NULL while down; owned by hiredis once connected */
	struct event *retry;    /* the next connection attempt, and its connect deadline */
	bool up, was_up_logged, down_logged, freeing;
	char name[160], down_reason[160];
	char *host, *unix_path, *user, *password;
	int port;
	unsigned timeout_ms;
	struct wg_redis_tls *tls;
	void (*on_up)(void *arg);
	void *arg;
};

struct wg_redis_req {
	struct wg_redis *r;
	wg_redis_cb cb; /* NULL once cancelled or answered */
	void *arg;
	struct event *timer;
};

static void redis_connect(struct wg_redis *r);

static void set_down(struct wg_redis *r, const char *why)
{
	bool was_up = r->up;

	r->up = false;
	if (was_up && !r->freeing)
		wg_metrics_counters()->cluster_redis_outages++;
	snprintf(r->down_reason, sizeof(r->down_reason), "%s", why);
	if (r->freeing)
		return;
	/* One line per outage, not one per attempt. */
	if (was_up || !r->down_logged)
		wg_log(NULL, WG_LOG_WARN, "cluster: redis at %s unavailable: %s (retrying every %d s)", r->name, why,
		       RETRY_S);
	r->down_logged = true;
	struct timeval tv = {.tv_sec = RETRY_S};
	evtimer_add(r->retry, &tv);
}

/* Drops the connection now (never called from inside a hiredis callback:
 * those go through drop_later). Pending commands fail with "connection lost". */
static void drop(struct wg_redis *r, const char *why)
{
	redisAsyncContext *ctx = r->ctx;

	r->ctx = NULL; /* the disconnect callback then knows it is not news */
	set_down(r, why);
	if (ctx)
		redisAsyncFree(ctx);
}

static void timer_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_redis *r = arg;

	(void)fd;
	(void)what;
	if (r->ctx && !r->up) {
		/* The attempt's deadline passed without a ready connection. */
		drop(r, "connection timed out");
		return;
	}
	if (!r->ctx)
		redis_connect(r);
}

static void req_done(struct wg_redis_req *q)
{
	if (q->timer)
		event_free(q->timer);
	free(q);
}

static void reply_cb(redisAsyncContext *ac, void *reply_v, void *priv)
{
	struct wg_redis_req *q = priv;
	redisReply *reply = reply_v;
	wg_redis_cb cb = q->cb;

	(void)ac;
	q->cb = NULL;
	if ((!reply || reply->type == REDIS_REPLY_ERROR) && !q->r->freeing)
		wg_metrics_counters()->cluster_store_errors++;
	if (cb && !q->r->freeing) {
		if (!reply)
			cb(NULL, "connection lost", q->arg);
		else if (reply->type == REDIS_REPLY_ERROR)
			cb(NULL, reply->str ? reply->str : "error", q->arg);
		else
			cb(reply, NULL, q->arg);
	} else if (reply && reply->type == REDIS_REPLY_ERROR && !q->r->freeing) {
		wg_log(NULL, WG_LOG_DEBUG, "cluster: redis error: %s", reply->str ? reply->str : "?");
	}
	req_done(q);
}

static void req_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_redis_req *q = arg;
	struct wg_redis *r = q->r;
	wg_redis_cb cb = q->cb;

	(void)fd;
	(void)what;
	q->cb = NULL;
	if (cb)
		cb(NULL, "timeout", q->arg);
	/* Frees q (its reply callback runs with no reply). */
	drop(r, "no reply in time");
}

static int send_argv(struct wg_redis *r, int argc, const char **argv, const size_t *lens, wg_redis_cb cb, void *arg,
		     struct wg_redis_req **handle)
{
	struct wg_redis_req *q = calloc(1, sizeof(*q));
	struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};

	if (!q)
		return -ENOMEM;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->timer = evtimer_new(r->base, req_timeout_cb, q);
	if (!q->timer) {
		free(q);
		return -ENOMEM;
	}
	if (redisAsyncCommandArgv(r->ctx, reply_cb, q, argc, argv, lens) != REDIS_OK) {
		req_done(q);
		return -ENOTCONN;
	}
	evtimer_add(q->timer, &tv);
	if (handle)
		*handle = q;
	return 0;
}

static void became_up(struct wg_redis *r)
{
	r->up = true;
	r->down_reason[0] = '\0';
	if (r->down_logged || !r->was_up_logged)
		wg_log(NULL, WG_LOG_NOTICE, "cluster: redis at %s %s", r->name, r->was_up_logged ? "is back" : "connected");
	r->was_up_logged = true;
	r->down_logged = false;
	evtimer_del(r->retry);
	if (r->on_up)
		r->on_up(r->arg);
}

static void auth_cb(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_redis *r = arg;
	char why[200];

	if (reply || strcmp(error, "timeout") == 0 || strcmp(error, "connection lost") == 0)
		return;
	snprintf(why, sizeof(why), "AUTH failed: %s", error);
	redisAsyncContext *ctx = r->ctx;
	r->ctx = NULL;
	set_down(r, why);
	if (ctx)
		redisAsyncDisconnect(ctx); /* from inside hiredis: it frees the context later */
}

/* The connection counts as up only once Redis answered (a stopped Redis
 * still accepts TCP connections: its kernel does). */
static void ping_cb(const struct redisReply *reply, const char *error, void *arg)
{
	struct wg_redis *r = arg;
	char why[200];

	if (reply) {
		became_up(r);
		return;
	}
	if (strcmp(error, "timeout") == 0 || strcmp(error, "connection lost") == 0)
		return; /* dropped already, or being dropped */
	/* From inside hiredis: the drop waits for the retry timer. */
	snprintf(why, sizeof(why), "%s", error);
	redisAsyncContext *ctx = r->ctx;
	r->ctx = NULL;
	set_down(r, why);
	if (ctx)
		redisAsyncDisconnect(ctx);
}

static void connect_cb(const redisAsyncContext *ac, int status)
{
	struct wg_redis *r = ac->data;

	if (r->ctx != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		char why[160];
		snprintf(why, sizeof(why), "%s", ac->errstr[0] ? ac->errstr : "connect failed");
		r->ctx = NULL;
		set_down(r, why);
		return;
	}
	/* AUTH when configured, then PING: up once Redis answers. */
	const char *argv[3] = {"AUTH", r->user ? r->user : r->password, r->password};
	size_t lens[3] = {4, r->password ? strlen(argv[1]) : 0, r->password ? strlen(r->password) : 0};
	const char *ping[1] = {"PING"};
	size_t ping_len[1] = {4};
	if ((r->password && send_argv(r, r->user ? 3 : 2, argv, lens, auth_cb, r, NULL) < 0) ||
	    send_argv(r, 1, ping, ping_len, ping_cb, r, NULL) < 0) {
		r->ctx = NULL;
		set_down(r, "cannot send to redis");
		redisAsyncDisconnect((redisAsyncContext *)ac);
	}
}

static void disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct wg_redis *r = ac->data;

	(void)status;
	if (r->ctx != ac)
		return; /* dropped by us: already handled */
	r->ctx = NULL;
	set_down(r, ac->errstr[0] ? ac->errstr : "connection closed by redis");
}

static void redis_connect(struct wg_redis *r)
{
	redisAsyncContext *ac = r->unix_path ? redisAsyncConnectUnix(r->unix_path) : redisAsyncConnect(r->host, r->port);
	struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};

	if (!ac) {
		set_down(r, "out of memory");
		return;
	}
	if (ac->err) {
		char why[160];
		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		set_down(r, why);
		return;
	}
	if (r->tls && wg_redis_tls_attach(r->tls, ac) < 0) {
		char why[160];
		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		set_down(r, why);
		return;
	}
	ac->data = r;
	r->ctx = ac;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		drop(r, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	evtimer_add(r->retry, &tv); /* the attempt's deadline */
}

struct wg_redis *wg_redis_new(struct event_base *base, const struct wg_redis_opts *o)
{
	struct wg_redis *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->base = base;
	r->port = o->port;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : 1000;
	r->on_up = o->on_up;
	r->arg = o->arg;
	r->tls = o->tls;
	r->host = o->host ? strdup(o->host) : NULL;
	r->unix_path = o->unix_path ? strdup(o->unix_path) : NULL;
	r->user = o->user ? strdup(o->user) : NULL;
	r->password = o->password ? strdup(o->password) : NULL;
	r->retry = evtimer_new(base, timer_retry_cb, r);
	if (!r->retry || (o->host && !r->host) || (o->unix_path && !r->unix_path) || (o->user && !r->user) ||
	    (o->password && !r->password)) {
		r->freeing = true;
		wg_redis_free(r);
		return NULL;
	}
	if (r->unix_path)
		snprintf(r->name, sizeof(r->name), "unix:%s", r->unix_path);
	else
		snprintf(r->name, sizeof(r->name), strchr(r->host, ':') ? "[%s]:%d%s" : "%s:%d%s", r->host, r->port,
			 r->tls ? " (TLS)" : "");
	snprintf(r->down_reason, sizeof(r->down_reason), "not connected yet");
	redis_connect(r);
	return r;
}

void wg_redis_free(struct wg_redis *r)
{
	if (!r)
		return;
	r->freeing = true;
	if (r->ctx) {
		redisAsyncContext *ctx = r->ctx;
		r->ctx = NULL;
		redisAsyncFree(ctx);
	}
	if (r->retry)
		event_free(r->retry);
	free(r->host);
	free(r->unix_path);
	free(r->user);
	if (r->password)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r);
}

bool wg_redis_is_up(const struct wg_redis *r)
{
	return r && r->up && r->ctx;
}

const char *wg_redis_down_reason(const struct wg_redis *r)
{
	return r->down_reason;
}

const char *wg_redis_name(const struct wg_redis *r)
{
	return r->name;
}

int wg_redis_command(struct wg_redis *r, int argc, const char **argv, const size_t *lens, wg_redis_cb cb, void *arg,
		     struct wg_redis_req **handle)
{
	if (!wg_redis_is_up(r))
		return -ENOTCONN;
	return send_argv(r, argc, argv, lens, cb, arg, handle);
}

void wg_redis_cancel(struct wg_redis_req *req)
{
	if (req)
		req->cb = NULL;
}
