/* Browsers' requests to auth plugins (see plugin_http.h). A call lives
 * from the request to the plugin's one answer; when the browser leaves
 * first, the call stays until that answer and the answer is dropped. */
#include "login/plugin_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "modules/gen.h"
#include "modules/loader.h"
#include "net/conn.h"
#include "net/http_parser.h"
#include "server.h"
#include "util/log.h"

#define PATH_MAX_LEN 256
#define QUERY_MAX_LEN 4096

struct wg_http_call {
	struct wg_conn *conn; /* NULL once the browser left */
	char peer[64];
};

static void not_found(struct wg_conn *c)
{
	wg_conn_http_reply(c, "404 Not Found", "text/plain", NULL, "not found\n", 10);
}

/* The auth plugin named `name` that serves URLs, of the current login
 * chain of the vhost the connection arrived under (the default's when a
 * reload removed that vhost, unless vhost-fallback refuses), or NULL. */
static struct wg_loaded_plugin *find_plugin(struct wg_conn *c, const char *name, size_t len)
{
	struct wg_vhost *vh = wg_gen_vhost_exact(c->srv->gen, c->server_name);

	if (!vh && !(vh = wg_gen_vhost(c->srv->gen, NULL)))
		return NULL;
	struct wg_loaded_plugin *const *chain = vh->auth_chain;
	unsigned n = vh->n_auth;

	for (unsigned i = 0; i < n; i++) {
		const struct wg_plugin *d = chain[i]->desc;
		const struct wg_auth_ops *ops = d->ops;
		if (strlen(d->name) == len && memcmp(d->name, name, len) == 0 && WG_OPS_HAS(ops, http_request))
			return chain[i];
	}
	return NULL;
}

void wg_plugin_http_handle(struct wg_conn *c, const struct wg_http_request *req)
{
	const char *name = req->url + strlen(WG_PLUGIN_HTTP_PREFIX);
	const char *slash = strchr(name, '/');
	const char *q;
	char path[PATH_MAX_LEN + 1], query[QUERY_MAX_LEN + 1];
	struct wg_loaded_plugin *lp;
	struct wg_http_call *call;
	size_t plen;

	if (strcmp(req->method, "GET") != 0 || !slash) {
		not_found(c);
		return;
	}
	lp = find_plugin(c, name, (size_t)(slash - name));
	q = strchr(slash, '?');
	plen = q ? (size_t)(q - slash) : strlen(slash);
	if (!lp || plen > PATH_MAX_LEN || (q && strlen(q + 1) > QUERY_MAX_LEN)) {
		not_found(c);
		return;
	}
	memcpy(path, slash, plen);
	path[plen] = '\0';
	snprintf(query, sizeof(query), "%s", q ? q + 1 : "");
	call = calloc(1, sizeof(*call));
	if (!call) {
		c->close_after_flush = true;
		wg_conn_http_reply(c, "503 Service Unavailable", NULL, NULL, NULL, 0);
		return;
	}
	call->conn = c;
	snprintf(call->peer, sizeof(call->peer), "%s", c->peer);
	c->http_call = call;
	c->busy = true;
	((const struct wg_auth_ops *)lp->desc->ops)->http_request(lp->state, call, path, query);
}

void wg_plugin_http_conn_gone(struct wg_conn *c)
{
	if (c->http_call) {
		c->http_call->conn = NULL;
		c->http_call = NULL;
	}
}

void wg_plugin_http_respond(struct wg_http_call *call, const char *status, const char *content_type,
			    const char *headers, const char *body, size_t body_len)
{
	struct wg_conn *c;

	if (!call)
		return;
	c = call->conn;
	free(call);
	if (!c)
		return; /* the browser left */
	c->http_call = NULL;
	c->busy = false;
	/* The lines are the plugin's: a bare line break would end the header
	 * block where the plugin did not mean it to. */
	if (!status || strpbrk(status, "\r\n") || (content_type && strpbrk(content_type, "\r\n"))) {
		wg_log(NULL, WG_LOG_ERROR, "%s: a plugin's answer has a line break in its status or type", c->peer);
		c->close_after_flush = true;
		wg_conn_http_reply(c, "500 Internal Server Error", NULL, NULL, NULL, 0);
	} else {
		/* The answer is never cached nor framed (wg_conn_http_reply's
		 * own headers). */
		wg_conn_http_reply(c, status, content_type, headers, body, body_len);
	}
	wg_conn_request_done(c);
}

const char *wg_plugin_http_client_addr(const struct wg_http_call *call)
{
	return call->peer;
}
