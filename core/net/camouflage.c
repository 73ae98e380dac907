/* The decoy web server in front of the VPN (see camouflage.h). */
#include "net/camouflage.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "login/auth.h"
#include "net/conn.h"
#include "server.h"
#include "session/session.h"

bool wg_camouflage_url_has_secret(const char *url, const char *secret)
{
	const char *q = strchr(url, '?');
	size_t n, m;
	unsigned char d = 0;

	if (!q || !secret || !*secret)
		return false;
	q++;
	n = strlen(q);
	m = strlen(secret);
	/* The length is not hidden (it is the secret's configured length);
	 * the bytes are compared without an early exit. */
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(q[i] ^ secret[i]);
	return d == 0;
}

bool wg_camouflage_admits(struct wg_conn *c, const struct wg_http_request *req)
{
	struct wg_server *srv = c->srv;
	char cookie[128];

	if (c->camouflage_passed)
		return true;
	if (wg_camouflage_url_has_secret(req->url, srv->camouflage_secret)) {
		c->camouflage_passed = true;
		return true;
	}
	if (wg_auth_context_known(srv, req))
		return true;
	if (wg_http_cookie(req, "webvpn", cookie, sizeof(cookie)) > 0) {
		bool live = wg_session_by_cookie(srv, cookie) != NULL;
		explicit_bzero(cookie, sizeof(cookie));
		return live;
	}
	return false;
}

static const char not_found[] = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
				"<body><h1>Not Found</h1><p>There is nothing at this address.</p></body></html>\n";
static const char unauthorized[] = "<!DOCTYPE html>\n<html><head><title>401 Unauthorized</title></head>\n"
				   "<body><h1>Unauthorized</h1><p>This site needs a user name and password.</p></body></html>\n";
static const char not_allowed[] = "<!DOCTYPE html>\n<html><head><title>405 Method Not Allowed</title></head>\n"
				  "<body><h1>Method Not Allowed</h1></body></html>\n";
static const char bad_request[] = "<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head>\n"
				  "<body><h1>Bad Request</h1></body></html>\n";

void wg_camouflage_decoy(struct wg_conn *c, const struct wg_http_request *req)
{
	struct wg_server *srv = c->srv;
	const char *status = "404 Not Found", *body = not_found;
	size_t body_len = sizeof(not_found) - 1;
	char extra[320] = "", date[64];
	bool head = strcmp(req->method, "HEAD") == 0;
	bool get = head || strcmp(req->method, "GET") == 0;
	struct tm tm;
	time_t now = time(NULL);

	if (strcmp(req->method, "CONNECT") == 0) {
		status = "400 Bad Request";
		body = bad_request;
		body_len = sizeof(bad_request) - 1;
		c->close_after_flush = true;
	} else if (!get) {
		status = "405 Method Not Allowed";
		body = not_allowed;
		body_len = sizeof(not_allowed) - 1;
		snprintf(extra, sizeof(extra), "Allow: GET, HEAD\r\n");
	} else if (srv->camouflage_realm && *srv->camouflage_realm) {
		status = "401 Unauthorized";
		body = unauthorized;
		body_len = sizeof(unauthorized) - 1;
		snprintf(extra, sizeof(extra), "WWW-Authenticate: Basic realm=\"%s\"\r\n", srv->camouflage_realm);
	} else if (srv->camouflage_page && (strcmp(req->url, "/") == 0 || strcmp(req->url, "/index.html") == 0)) {
		status = "200 OK";
		body = srv->camouflage_page;
		body_len = srv->camouflage_page_len;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	wg_conn_http_reply_bare(c, status, date, extra, body, body_len, !head);
}
