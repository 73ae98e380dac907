/* sd_notify(3) messages through libsystemd. The library opens a datagram
 * socket per message; the sandbox allows socket/sendmsg, and the notify
 * socket is writable by the unprivileged user, so this works after the
 * privilege drop too. */
#include "workers/sd_notify.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/gen.h"
#include "server.h"

#ifdef WG_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static void notify(const char *msg)
{
	/* 0: keep NOTIFY_SOCKET in the environment, for later messages. */
	sd_notify(0, msg);
}
#else
static void notify(const char *msg)
{
	(void)msg;
}
#endif

bool wg_sd_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	return s && *s;
}

void wg_sd_ready(const char *status)
{
	char msg[512];

	if (!wg_sd_enabled())
		return;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status ? status : "");
	notify(msg);
}

void wg_sd_reloading(void)
{
	if (wg_sd_enabled())
		notify("RELOADING=1\nSTATUS=reloading the configuration");
}

void wg_sd_stopping(void)
{
	if (wg_sd_enabled())
		notify("STOPPING=1\nSTATUS=stopping: ending sessions");
}

void wg_sd_status(const char *status)
{
	char msg[512];

	if (!wg_sd_enabled())
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", status);
	notify(msg);
}

/* ---- the single server's STATUS line ------------------------------------ */

#define STATUS_INTERVAL_S 2

static struct event *status_ev;   /* owned; NULL when not under a service manager */
static char last_status[256];     /* the last STATUS sent, so that an unchanged one is not resent */

static void format_status(const struct wg_server *srv, char *out, size_t outlen)
{
	snprintf(out, outlen, "%u session%s, %u connection%s not logged in, configuration generation %u",
		 srv->n_sessions, srv->n_sessions == 1 ? "" : "s", srv->n_conns_unauth,
		 srv->n_conns_unauth == 1 ? "" : "s", srv->gen ? srv->gen->number : 0);
}

void wg_sd_server_status(struct wg_server *srv)
{
	char now[256];

	format_status(srv, now, sizeof(now));
	if (strcmp(now, last_status) == 0)
		return;
	snprintf(last_status, sizeof(last_status), "%s", now);
	wg_sd_status(now);
}

static void on_status_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wg_sd_server_status(arg);
}

void wg_sd_server_ready(struct wg_server *srv)
{
	struct timeval every = {.tv_sec = STATUS_INTERVAL_S};

	if (!wg_sd_enabled())
		return;
	format_status(srv, last_status, sizeof(last_status));
	wg_sd_ready(last_status);
	if (!status_ev) {
		status_ev = event_new(srv->base, -1, EV_PERSIST, on_status_tick, srv);
		if (status_ev)
			event_add(status_ev, &every);
	}
}

void wg_sd_server_fini(void)
{
	if (status_ev)
		event_free(status_ev);
	status_ev = NULL;
	last_status[0] = '\0';
}
