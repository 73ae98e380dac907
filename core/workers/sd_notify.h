/* Readiness and status for systemd (Type=notify, sd_notify(3)). Every call
 * is a no-op unless the service manager set NOTIFY_SOCKET, and when the
 * server was built without libsystemd. Only the process systemd started
 * calls these (the single server, or the master of several workers). */
#ifndef WG_SD_NOTIFY_H
#define WG_SD_NOTIFY_H

#include <stdbool.h>

/* True when a service manager listens (NOTIFY_SOCKET is set). */
bool wg_sd_enabled(void);
/* READY=1 with a STATUS line. */
void wg_sd_ready(const char *status);
/* RELOADING=1: a reload began; wg_sd_ready() ends it. */
void wg_sd_reloading(void);
/* STOPPING=1: a graceful stop began. */
void wg_sd_stopping(void);
/* STATUS=<text>, shown by `systemctl status`. */
void wg_sd_status(const char *status);

struct wg_server;
/* The single server is serving: READY=1, then a STATUS line with the
 * session count every few seconds while it changes. */
void wg_sd_server_ready(struct wg_server *srv);
/* The STATUS line of that server now ("N sessions, M logins, ..."). */
void wg_sd_server_status(struct wg_server *srv);
/* Stops the STATUS timer (before the event base is freed). */
void wg_sd_server_fini(void);

#endif
