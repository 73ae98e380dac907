/* The worker of the calling thread: host functions that plugins call with
 * no other context (timers, socket watches, lanes) find their server here.
 * Set by the server while its loop runs (server.c). */
#ifndef WG_CURRENT_H
#define WG_CURRENT_H

struct wg_server;

struct wg_server *wg_server_current(void);
void wg_server_set_current(struct wg_server *srv);

#endif
