/* The host's event loop as a plugin sees it (timer_add/timer_del,
 * fd_watch/fd_unwatch of struct wg_host), backed by a libevent base of the
 * test's own, for unit tests that drive plugin parts (the DTLS server)
 * without the whole server. Header-only so each test stays one executable.
 * Timers are one-shot, as the DTLS server uses them; the host frees a
 * one-shot timer after its callback, and so does this one. */
#ifndef WG_TEST_HOST_LOOP_FIXTURE_H
#define WG_TEST_HOST_LOOP_FIXTURE_H

#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdlib.h>
#include <wolfguard/plugin.h>

struct wg_timer {
	struct event *ev;
	void (*cb)(void *arg);
	void *arg;
};

struct wg_watch {
	struct event *ev;
	void (*cb)(int fd, void *arg);
	void *arg;
};

/* The host functions take no context, so the loop they use is this one. */
static struct event_base *host_loop_base;

static void host_loop_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct wg_timer *t = arg;

	(void)fd;
	(void)what;
	t->cb(t->arg);
	event_free(t->ev);
	free(t);
}

static struct wg_timer *host_loop_timer_add(uint32_t ms, int repeat, void (*cb)(void *arg), void *arg)
{
	struct wg_timer *t = calloc(1, sizeof(*t));
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	cr_assert_not_null(t);
	cr_assert_eq(repeat, 0, "the DTLS server uses one-shot timers");
	t->cb = cb;
	t->arg = arg;
	t->ev = evtimer_new(host_loop_base, host_loop_on_timer, t);
	cr_assert_not_null(t->ev);
	evtimer_add(t->ev, &tv);
	return t;
}

static void host_loop_timer_del(struct wg_timer *t)
{
	event_free(t->ev);
	free(t);
}

static void host_loop_on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct wg_watch *w = arg;

	(void)what;
	w->cb((int)fd, w->arg);
}

static struct wg_watch *host_loop_fd_watch(int fd, void (*cb)(int fd, void *arg), void *arg)
{
	struct wg_watch *w = calloc(1, sizeof(*w));

	cr_assert_not_null(w);
	w->cb = cb;
	w->arg = arg;
	w->ev = event_new(host_loop_base, fd, EV_READ | EV_PERSIST, host_loop_on_watch, w);
	cr_assert_not_null(w->ev);
	event_add(w->ev, NULL);
	return w;
}

static void host_loop_fd_unwatch(struct wg_watch *w)
{
	event_free(w->ev);
	free(w);
}

/* A fresh event base, and a host table whose loop functions use it. */
static inline struct event_base *host_loop_init(struct wg_host *host)
{
	host_loop_base = event_base_new();
	cr_assert_not_null(host_loop_base);
	*host = (struct wg_host){
		.abi_version = WG_ABI_VERSION,
		.struct_size = sizeof(struct wg_host),
		.timer_add = host_loop_timer_add,
		.timer_del = host_loop_timer_del,
		.fd_watch = host_loop_fd_watch,
		.fd_unwatch = host_loop_fd_unwatch,
	};
	return host_loop_base;
}

static inline void host_loop_free(void)
{
	event_base_free(host_loop_base);
	host_loop_base = NULL;
}

#endif
