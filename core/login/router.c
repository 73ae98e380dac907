/* Routing the HTTP requests of a connection that has not become a tunnel:
 * the connection (net/conn.c) parses them and hands each here. */
#include "login/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "login/auth.h"
#include "login/camouflage.h"
#include "login/login_limits.h"
#include "login/plugin_http.h"
#include "modules/gen.h"
#include "util/log.h"
#include "net/conn.h"
#include "net/http_parser.h"
#include "server.h"
#include "tunnel/tunnel.h"

static void route(struct wg_conn *c, const struct wg_http_request *req, const uint8_t *rest, size_t rest_len)
{
	if (!req->keep_alive)
		c->close_after_flush = true;
	/* Camouflage: who does not know the secret meets a plain web server. */
	if (c->srv->camouflage_secret && !wg_camouflage_admits(c, req)) {
		wg_camouflage_decoy(c, req);
		return;
	}
	if (strcmp(req->method, "CONNECT") == 0) {
		if (strcmp(req->url, "/CSCOSSLC/tunnel") == 0) {
			wg_tunnel_connect(c, req, rest, rest_len);
			return;
		}
		c->close_after_flush = true;
		wg_conn_http_reply(c, "404 Not Found", NULL, NULL, NULL, 0);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
		c->close_after_flush = true;
		wg_conn_http_reply(c, "405 Method Not Allowed", NULL, "Allow: GET, POST, CONNECT\r\n", NULL, 0);
		return;
	}
	if (strncmp(req->url, WG_PLUGIN_HTTP_PREFIX, strlen(WG_PLUGIN_HTTP_PREFIX)) == 0) {
		/* A browser coming back to an auth plugin (single sign-on). */
		wg_plugin_http_handle(c, req);
		return;
	}
	if (strcmp(req->url, "/") == 0 || strncmp(req->url, "/auth", 5) == 0 || strncmp(req->url, "/?", 2) == 0 ||
	    (req->url[0] == '/' && req->url[1] != '+' && strcmp(req->method, "POST") == 0)) {
		/* Cisco clients POST to their group URL ("/groupname"): a login too. */
		wg_auth_handle(c, req);
		return;
	}
	wg_conn_http_reply(c, "404 Not Found", "text/plain", NULL, "not found\n", 10);
}

/* In the HTTP phase the owner is the login step the connection waits on;
 * a CONNECT may wait on the cluster store instead (cluster_wait). */
static void closed(struct wg_conn *c, bool shutdown)
{
	(void)shutdown;
	if (c->owner)
		wg_auth_conn_gone(c);
	if (c->cluster_wait)
		wg_cluster_conn_gone(c);
	if (c->http_call)
		wg_plugin_http_conn_gone(c);
}

/* Behind a relay the listener could not check the client's address: the
 * ban list is read once the PROXY header named it. */
static const char *admit(struct wg_conn *c)
{
	return wg_login_banned(c->srv, c->peer) ? "address banned" : NULL;
}

/* Several server names: the current generation's vhost for the name
 * picks the certificate; the login that follows uses that vhost's auth
 * chain and pools (auth.c looks it up by c->server_name). */
static WOLFSSL_CTX *tls_for_name(struct wg_conn *c, const char *sni)
{
	struct wg_vhost *vh = wg_gen_vhost(c->srv->gen, sni);

	if (!vh)
		return NULL;
	if (vh->name && !(c->server_name = strdup(vh->name)))
		return NULL;
	wg_log(NULL, WG_LOG_DEBUG, "%s: server name %s%s%s: %s%s", c->peer, sni ? "\"" : "(none)", sni ? sni : "",
	       sni ? "\"" : "", vh->name ? "vhost " : "the default server", vh->name ? vh->name : "");
	return vh->tls ? vh->tls : c->srv->tls;
}

const struct wg_conn_handlers wg_router_handlers = {
	.request = route,
	.closed = closed,
	.admit = admit,
	.tls_for_name = tls_for_name,
};
