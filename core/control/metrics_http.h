/* The optional Prometheus listener: plain HTTP (meant for loopback or a
 * monitoring network), GET /metrics only, one bounded request per
 * connection, parsed with the same llhttp wrapper as the VPN side. */
#ifndef WG_METRICS_HTTP_H
#define WG_METRICS_HTTP_H

struct wg_server;
struct wg_metrics;
struct wg_metrics_http;

/* Listens on host:port; NULL and a logged reason on failure. */
struct wg_metrics_http *wg_metrics_http_start(struct wg_server *srv, const char *host, int port);
void wg_metrics_http_stop(struct wg_metrics_http *mh);
/* The counters plus the server's live state (sessions, bans, traffic). */
void wg_metrics_snapshot(struct wg_server *srv, struct wg_metrics *out);

#endif
