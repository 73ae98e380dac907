/* Browsers' requests to an auth plugin's own URLs: GET
 * /+wolfguard+/<plugin name>/<path>, e.g. an identity provider's redirect
 * back to the server after a single sign-on (auth-oidc). The plugin
 * answers through the host's http_respond, now or later. */
#ifndef WG_PLUGIN_HTTP_H
#define WG_PLUGIN_HTTP_H

#include <stddef.h>

struct wg_conn;
struct wg_http_call;
struct wg_http_request;

#define WG_PLUGIN_HTTP_PREFIX "/+wolfguard+/"

/* Hands req (its url starts with WG_PLUGIN_HTTP_PREFIX) to the plugin it
 * names, or answers 404. */
void wg_plugin_http_handle(struct wg_conn *c, const struct wg_http_request *req);
/* c is closing: a call waiting on it answers into the void. */
void wg_plugin_http_conn_gone(struct wg_conn *c);

/* Host functions (struct wg_host). */
void wg_plugin_http_respond(struct wg_http_call *call, const char *status, const char *content_type,
			    const char *headers, const char *body, size_t body_len);
const char *wg_plugin_http_client_addr(const struct wg_http_call *call);

#endif
