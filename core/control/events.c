/* Event stream subscribers (see events.h). */
#include "control/events.h"

#include <errno.h>
#include <stdio.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "server.h"
#include "session/session.h"

#define MAX_BACKLOG (1u << 20)

struct wg_event_sub {
	struct wg_server *srv;
	int fd;
	struct event *rev, *wev;
	struct evbuffer *out;
	struct wg_event_sub *prev, *next;
};

static void sub_free(struct wg_event_sub *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->event_subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	event_free(s->rev);
	event_free(s->wev);
	evbuffer_free(s->out);
	close(s->fd);
	free(s);
}

static void on_sub_write(evutil_socket_t fd, short what, void *arg)
{
	struct wg_event_sub *s = arg;

	(void)what;
	if (evbuffer_get_length(s->out) && evbuffer_write(s->out, fd) < 0 && errno != EAGAIN && errno != EINTR) {
		sub_free(s);
		return;
	}
	if (evbuffer_get_length(s->out))
		event_add(s->wev, NULL);
}

/* The subscriber sends nothing more: a read means it closed (or sent junk). */
static void on_sub_read(evutil_socket_t fd, short what, void *arg)
{
	char b[256];
	ssize_t n = read(fd, b, sizeof(b));

	(void)what;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		sub_free(arg);
}

static void add_line(struct wg_event_sub *s, const char *line, size_t len)
{
	if (evbuffer_get_length(s->out) + len > MAX_BACKLOG) {
		wg_log(NULL, WG_LOG_WARN, "events: a subscriber stopped reading (1 MiB waiting); dropped");
		sub_free(s);
		return;
	}
	evbuffer_add(s->out, line, len);
	on_sub_write(s->fd, EV_WRITE, s);
}

void wg_events_subscribe(struct wg_server *srv, int fd)
{
	struct wg_event_sub *s = calloc(1, sizeof(*s));

	if (!s || !(s->out = evbuffer_new()) ||
	    !(s->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_sub_read, s)) ||
	    !(s->wev = event_new(srv->base, fd, EV_WRITE, on_sub_write, s))) {
		if (s) {
			if (s->rev)
				event_free(s->rev);
			if (s->out)
				evbuffer_free(s->out);
			free(s);
		}
		close(fd);
		return;
	}
	s->srv = srv;
	s->fd = fd;
	s->next = srv->event_subs;
	if (s->next)
		s->next->prev = s;
	srv->event_subs = s;
	event_add(s->rev, NULL);
	/* The first line, to this subscriber only, says the stream is live:
	 * what happens from now on will be seen. */
	char line[96];
	int n = snprintf(line, sizeof(line), "{\"event\":\"subscribed\",\"time\":%lld,\"worker\":%u}\n",
			 (long long)time(NULL), srv->worker.index);
	add_line(s, line, (size_t)n);
}

void wg_events_emit(struct wg_server *srv, const char *type, json_t *fields)
{
	if (!srv->event_subs) {
		json_decref(fields);
		return;
	}
	json_t *o = fields && json_is_object(fields) ? fields : json_object();
	if (o != fields)
		json_decref(fields);
	json_object_set_new(o, "event", json_string(type));
	json_object_set_new(o, "time", json_integer((json_int_t)time(NULL)));
	json_object_set_new(o, "worker", json_integer(srv->worker.index));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len] = '\0';
	char *line = malloc(len + 1);
	if (line) {
		memcpy(line, text, len);
		line[len] = '\n';
		for (struct wg_event_sub *s = srv->event_subs, *next; s; s = next) {
			next = s->next;
			add_line(s, line, len + 1);
		}
	}
	free(line);
	free(text);
}

/* A string a client chose may be ill-formed UTF-8, which jansson refuses:
 * then the field is null rather than the event lost. */
static void set_text(json_t *o, const char *key, const char *v)
{
	json_t *j = v && *v ? json_string(v) : NULL;
	json_object_set_new(o, key, j ? j : json_null());
}

json_t *wg_events_session_fields(const struct wg_session *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	set_text(o, "session_id", s->id_str);
	set_text(o, "user", s->user);
	set_text(o, "group", s->group);
	set_text(o, "client_address", s->client_addr);
	set_text(o, "vpn_address", s->tc.addr4);
	return o;
}

void wg_events_stop(struct wg_server *srv)
{
	while (srv->event_subs)
		sub_free(srv->event_subs);
}
