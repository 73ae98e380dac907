/* The HTTPS side of a session: TCP and TLS to the server with its key
 * checked (--servercert pin, or --cafile and the host name), the XML login
 * (tools/proto-client/auth_flow.c) and the CONNECT request. Blocking I/O
 * with deadlines: nothing else happens while a client logs in. */
#include "client.h"

#include "cstp.h"
#include "http.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_TIMEOUT_S 30
#define RBUF_MAX 65536
#define REQ_CAP 8192

int wgc_resolve(struct wgc *c)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", c->o.port);
	if ((rc = getaddrinfo(c->o.host, port, &hints, &res)) != 0) {
		wgc_log("cannot resolve %s: %s", c->o.host, gai_strerror(rc));
		return -1;
	}
	memcpy(&c->server_addr, res->ai_addr, res->ai_addrlen);
	c->server_addr_len = res->ai_addrlen;
	getnameinfo(res->ai_addr, res->ai_addrlen, c->gateway, sizeof(c->gateway), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	return 0;
}

int wgc_tls_ctx(struct wgc *c)
{
	c->tls_ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (!c->tls_ctx) {
		wgc_log("wolfSSL_CTX_new failed");
		return -1;
	}
	wolfSSL_CTX_SetMinVersion(c->tls_ctx, WOLFSSL_TLSV1_2);
	if (c->o.cafile) {
		if (wolfSSL_CTX_load_verify_locations(c->tls_ctx, c->o.cafile, NULL) != WOLFSSL_SUCCESS) {
			wgc_log("cannot load CA file %s", c->o.cafile);
			return -1;
		}
		wolfSSL_CTX_set_verify(c->tls_ctx, WOLFSSL_VERIFY_PEER, NULL);
	} else {
		/* The pin is checked after the handshake (pin.c). */
		wolfSSL_CTX_set_verify(c->tls_ctx, WOLFSSL_VERIFY_NONE, NULL);
	}
	if (c->o.certfile) {
		const char *key = c->o.keyfile ? c->o.keyfile : c->o.certfile;
		if (wolfSSL_CTX_use_certificate_chain_file(c->tls_ctx, c->o.certfile) != WOLFSSL_SUCCESS) {
			wgc_log("cannot load certificate %s", c->o.certfile);
			return -1;
		}
		if (wolfSSL_CTX_use_PrivateKey_file(c->tls_ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
			wgc_log("cannot load private key %s", key);
			return -1;
		}
	}
	return 0;
}

static int tcp_connect(struct wgc *c)
{
	int fd = socket(c->server_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p;
	struct timeval tv = {IO_TIMEOUT_S, 0};
	int one = 1, err = 0;
	socklen_t el = sizeof(err);

	if (fd < 0) {
		wgc_log("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&c->server_addr, c->server_addr_len) < 0 && errno != EINPROGRESS) {
		wgc_log("connect to %s port %u: %s", c->gateway, c->o.port, strerror(errno));
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, IO_TIMEOUT_S * 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		wgc_log("connect to %s port %u: %s", c->gateway, c->o.port, err ? strerror(err) : "timed out");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static const char *ssl_error(WOLFSSL *ssl, int ret, char *buf, size_t len)
{
	int e = wolfSSL_get_error(ssl, ret);
	char s[WOLFSSL_MAX_ERROR_SZ];

	wolfSSL_ERR_error_string_n((unsigned long)e, s, sizeof(s));
	snprintf(buf, len, "%s (%d)", s, e);
	return buf;
}

int wgc_tls_open(struct wgc *c, struct wgc_tls *t, int *fatal)
{
	char e[160], pin[80];
	int r;

	*fatal = 0;
	t->ssl = NULL;
	if ((t->fd = tcp_connect(c)) < 0)
		return -1;
	if (!(t->ssl = wolfSSL_new(c->tls_ctx)) || wolfSSL_set_fd(t->ssl, t->fd) != WOLFSSL_SUCCESS) {
		wgc_log("wolfSSL_new failed");
		goto fail;
	}
	/* The DTLS key is exported from this session later (dtls.c); wolfSSL
	 * drops the secrets it needs after the handshake unless asked. */
	wolfSSL_KeepArrays(t->ssl);
	wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, c->o.host, (unsigned short)strlen(c->o.host));
	if (c->o.cafile)
		wolfSSL_check_domain_name(t->ssl, c->o.host);
	if ((r = wolfSSL_connect(t->ssl)) != WOLFSSL_SUCCESS) {
		wgc_log("TLS handshake with %s failed: %s", c->gateway, ssl_error(t->ssl, r, e, sizeof(e)));
		/* A certificate the CA does not vouch for is not cured by retrying. */
		*fatal = c->o.cafile && wolfSSL_get_verify_result(t->ssl) != 0;
		goto fail;
	}
	if (wgc_peer_pin(t->ssl, pin, sizeof(pin)) < 0) {
		wgc_log("cannot read the server's certificate");
		goto fail;
	}
	if (c->o.servercert && strcmp(c->o.servercert, pin) != 0) {
		wgc_log("server certificate does not match --servercert: the server's key is %s, expected %s; "
			"refusing to connect", pin, c->o.servercert);
		*fatal = 1;
		goto fail;
	}
	if (!c->o.servercert && !c->o.cafile) {
		wgc_log("server certificate not verified: give --servercert %s (or --cafile); refusing to connect", pin);
		*fatal = 1;
		goto fail;
	}
	wgc_debug(c, "TLS up with %s (%s, %s), key %s", c->gateway, wolfSSL_get_version(t->ssl),
		  wolfSSL_get_cipher(t->ssl), pin);
	return 0;
fail:
	wgc_tls_close(t);
	return -1;
}

void wgc_tls_close(struct wgc_tls *t)
{
	if (t->ssl)
		wolfSSL_free(t->ssl);
	if (t->fd >= 0)
		close(t->fd);
	t->ssl = NULL;
	t->fd = -1;
}

static int write_all(WOLFSSL *ssl, const char *p, size_t n)
{
	char e[160];
	while (n) {
		int r = wolfSSL_write(ssl, p, (int)n);
		if (r <= 0) {
			wgc_log("TLS write: %s", ssl_error(ssl, r, e, sizeof(e)));
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Sends req and reads one answer into buf (headers, and the body unless
 * it is the CONNECT answer). Its length, or -1. */
static long exchange(WOLFSSL *ssl, const char *req, size_t reqlen, int with_body, char *buf, size_t cap,
		     struct wgp_http_resp *resp)
{
	size_t len = 0;
	char e[160];

	if (write_all(ssl, req, reqlen) < 0)
		return -1;
	for (;;) {
		int r, n;
		if (len + 1 >= cap) {
			wgc_log("HTTP answer larger than %zu bytes", cap);
			return -1;
		}
		r = wolfSSL_read(ssl, buf + len, (int)(cap - 1 - len));
		if (r <= 0) {
			wgc_log("TLS read: %s", wolfSSL_get_error(ssl, r) == WOLFSSL_ERROR_ZERO_RETURN
							? "the server closed the connection"
							: ssl_error(ssl, r, e, sizeof(e)));
			return -1;
		}
		len += (size_t)r;
		buf[len] = '\0';
		n = wgp_http_parse(buf, len, with_body, resp, e, sizeof(e));
		if (n < 0) {
			wgc_log("bad HTTP answer: %s", e);
			return -1;
		}
		if (n > 0)
			return (long)len;
	}
}

int wgc_login_ask(struct wgc *c, struct wgc_tls *t, const char *(*ask)(void *, const char *), void *arg)
{
	struct wgp_login l = {
		.host = c->o.server,
		.user = c->o.user,
		.password = c->have_password ? c->password : NULL,
		.group = c->o.group,
		.ask_password = ask,
		.ask_arg = arg,
	};
	struct wgp_login_state ls = {0};
	struct wgp_http_resp resp;
	char *buf = malloc(RBUF_MAX), req[REQ_CAP], context[512] = "", e[200];
	int len = wgp_auth_init_request(&l, req, sizeof(req)), rc = -1;

	if (!buf || len < 0) {
		wgc_log("out of memory");
		goto out;
	}
	for (;;) {
		long n = exchange(t->ssl, req, (size_t)len, 1, buf, RBUF_MAX, &resp);
		if (n < 0)
			goto out;
		if (resp.status != 200) {
			wgc_log("login refused: the server answered \"%.60s\"", strtok(buf, "\r\n"));
			goto out;
		}
		if (wgp_http_set_cookie(buf, resp.header_len, "webvpncontext", e, sizeof(e)) >= 0)
			snprintf(context, sizeof(context), "%s", e);
		switch (wgp_auth_next(&l, &ls, buf + resp.header_len, resp.body_len, context, req, sizeof(req), &len, e,
				      sizeof(e))) {
		case WGP_AUTH_FAIL:
			wgc_log("login failed: %s", e);
			goto out;
		case WGP_AUTH_REPLY:
			continue;
		case WGP_AUTH_COMPLETE:
			if (wgp_http_set_cookie(buf, resp.header_len, "webvpn", c->cookie, sizeof(c->cookie)) <= 0) {
				wgc_log("login complete but the server set no webvpn cookie");
				goto out;
			}
			rc = 0;
			goto out;
		}
	}
out:
	free(buf);
	return rc;
}

int wgc_connect_tunnel(struct wgc *c, struct wgc_tls *t, uint8_t *extra, size_t extra_cap, size_t *extra_len,
		       int *refused)
{
	struct wgp_connect_opts co = {
		.host = c->o.server,
		.cookie = c->cookie,
		.client_name = "wolfguard-client",
		.mtu = c->o.mtu,
		.want_ipv6 = 1,
		.dtls_master_secret = c->o.no_dtls ? NULL : c->dtls_secret,
	};
	struct wgp_http_resp resp;
	char req[REQ_CAP], *buf = malloc(RBUF_MAX), e[200], lanes[64];
	int len, rc = -1;

	/* docs/lanes.md section 1: the one header that asks for lanes. */
	if (c->o.lanes) {
		snprintf(lanes, sizeof(lanes), "X-Wolfguard-Lanes: %u\r\n", c->o.lanes);
		co.extra_headers = lanes;
	}
	len = wgp_cstp_connect(&co, req, sizeof(req));
	long n;

	*refused = 0;
	*extra_len = 0;
	if (!buf || len < 0) {
		wgc_log("CONNECT request too large");
		goto out;
	}
	if ((n = exchange(t->ssl, req, (size_t)len, 0, buf, RBUF_MAX, &resp)) < 0)
		goto out;
	if (resp.status != 200) {
		*refused = resp.status == 401 || resp.status == 403 || resp.status == 404;
		wgc_log("CONNECT refused: \"%.60s\"", strtok(buf, "\r\n"));
		goto out;
	}
	if (wgp_tunnel_config_parse(buf, resp.header_len, &c->tc, e, sizeof(e)) < 0) {
		wgc_log("bad CONNECTED answer: %s", e);
		goto out;
	}
	/* CSTP frames the server sent right behind its answer. */
	if ((size_t)n > resp.header_len) {
		size_t rest = (size_t)n - resp.header_len;
		if (rest > extra_cap)
			rest = extra_cap;
		memcpy(extra, buf + resp.header_len, rest);
		*extra_len = rest;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}
