/* The control socket: a Unix stream socket answering one JSON request per
 * connection with one JSON object (see control_proto.h, wolfguardctl). */
#ifndef WG_CONTROL_H
#define WG_CONTROL_H

#include <jansson.h>
#include <time.h>

struct wg_server;
struct wg_control;
struct wg_session;

/* Listens on path with the given mode ("0600"). NULL and a logged reason
 * on failure. */
struct wg_control *wg_control_start(struct wg_server *srv, const char *path, const char *mode);
void wg_control_stop(struct wg_control *ctl);
/* The listening socket alone (nonblocking): creates the directory, replaces
 * a stale socket, applies the octal mode. fd, or -1 after logging why. */
int wg_control_listen(const char *path, const char *mode);
/* One session as `list` and `show` report it (a new reference). */
json_t *wg_control_session_json(const struct wg_session *s, time_t now);

#endif
