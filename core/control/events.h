/* The event stream of `wolfguardctl events`: a control connection that
 * asked {"cmd": "events"} stays open and gets one JSON object per line for
 * each login, failed login, tunnel connect, session end (with its
 * counters) and ban, as they happen, until it closes. A subscriber that
 * stops reading is dropped once 1 MiB waits for it, so it never holds the
 * loop or the server's memory. */
#ifndef WG_EVENTS_H
#define WG_EVENTS_H

#include <jansson.h>

struct wg_server;
struct wg_session;

/* Takes over fd (a connected, nonblocking control client). */
void wg_events_subscribe(struct wg_server *srv, int fd);
/* Sends {"event": type, "time": unix seconds, "worker": index, ...fields}
 * to every subscriber; fields is consumed (may be NULL). Cheap when there
 * is no subscriber. */
void wg_events_emit(struct wg_server *srv, const char *type, json_t *fields);
/* The common fields of a session: id, user, group, client and VPN address. */
json_t *wg_events_session_fields(const struct wg_session *s);
/* Closes every subscriber (server stop). */
void wg_events_stop(struct wg_server *srv);

#endif
