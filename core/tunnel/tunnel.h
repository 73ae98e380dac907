/* CONNECT /CSCOSSLC/tunnel and the CSTP phase that follows it. */
#ifndef WG_TUNNEL_H
#define WG_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

struct wg_conn;
struct wg_http_request;
struct wg_session;

/* Answers a CONNECT: checks the cookie, leases addresses, sends the
 * X-CSTP-* / X-DTLS-* configuration and switches c to CSTP. extra holds the
 * bytes that followed the request. */
void wg_tunnel_connect(struct wg_conn *c, const struct wg_http_request *req, const uint8_t *extra,
		       size_t extra_len);
/* The answer to a CONNECT that waited (the cluster store adopting its
 * session, cluster.h): with s, the tunnel goes up as for any reconnect;
 * without, the CONNECT is refused with status and why, and the connection
 * closes. */
void wg_tunnel_connect_resume(struct wg_conn *c, struct wg_session *s, const char *status, const char *why);
/* Consumes the complete CSTP frames at the start of buf. Returns the bytes
 * consumed (a partial frame is left for the caller to keep), or -1 when the
 * connection must close (reason logged). */
long wg_tunnel_cstp_input(struct wg_conn *c, const uint8_t *buf, size_t len);
struct wg_tunnel_config;
/* The X-CSTP-* lines for tc's DNS servers, split DNS, default domain and
 * routes, rendered once per session (malloc'd; NULL when out of memory). */
char *wg_tunnel_render_pushed(const struct wg_tunnel_config *tc);
/* Sends DISCONNECT with the reason, as a "server request" that openconnect
 * shows with the text (the session ended). */
void wg_tunnel_goodbye(struct wg_conn *c, const char *reason);
/* Sends one CSTP frame on the session's connection. */
int wg_tunnel_cstp_send(struct wg_conn *c, uint8_t type, const uint8_t *payload, size_t len);

#endif
