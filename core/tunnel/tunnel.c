/* CONNECT /CSCOSSLC/tunnel: the client presents its session cookie and gets
 * its configuration as X-CSTP-* and X-DTLS-* headers; the TLS stream then
 * carries CSTP frames. */
#include "tunnel/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cluster/cluster.h"
#include "modules/gen.h"
#include "net/conn.h"
#include "tunnel/cstp_frame.h"
#include "tunnel/datapath.h"
#include "tunnel/lane.h"
#include "tunnel/pushed_family.h"
#include "util/hex.h"
#include "net/http_parser.h"
#include "util/log.h"
#include "session/roaming.h"
#include "server.h"
#include "session/session.h"
#include "net/tls.h"
#include "config/config.h"

#define CSTP_MAX_PAYLOAD 16384

struct hdrbuf {
	char text[16384];
	size_t len;
	bool overflow;
};

static void add(struct hdrbuf *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct hdrbuf *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->text + h->len, sizeof(h->text) - h->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(h->text) - h->len)
		h->overflow = true;
	else
		h->len += (size_t)n;
}

/* "10.1.0.0/16" -> "10.1.0.0/255.255.0.0": the form every AnyConnect client
 * understands for IPv4 split routes; IPv6 keeps its prefix length and goes
 * out under the name with -IP6 (renamed per client: pushed_family.c). */
static void add_route(struct hdrbuf *h, const char *name, const char *net)
{
	char addr[64];
	const char *slash = strchr(net, '/');
	struct in_addr a;

	if (strchr(net, ':')) {
		add(h, "%s-IP6: %s\r\n", name, net);
		return;
	}
	if (!slash || strchr(slash + 1, '.')) {
		add(h, "%s: %s\r\n", name, net);
		return;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - net), net);
	int prefix = atoi(slash + 1);
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 0 || prefix > 32) {
		wg_log(NULL, WG_LOG_WARN, "ignoring malformed route \"%s\"", net);
		return;
	}
	uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
	char mtext[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &mask, mtext, sizeof(mtext));
	add(h, "%s: %s/%s\r\n", name, addr, mtext);
}

static unsigned header_uint(const struct wg_http_request *req, const char *name, unsigned dflt)
{
	const char *v = wg_http_header(req, name);
	char *end;
	unsigned long n;

	if (!v)
		return dflt;
	n = strtoul(v, &end, 10);
	return end != v && n > 0 && n < 65536 ? (unsigned)n : dflt;
}

/* rekey-time and rekey-method, as ocserv announces them. "ssl" asks the
 * client to renew the keys of the running connection: on TLS 1.3 that is
 * a KeyUpdate (GnuTLS's rehandshake there), which wolfSSL answers by
 * itself. TLS 1.2 renegotiation is not offered (the handshake secrets are
 * freed once the tunnel is up), so a TLS 1.2 client is told "new-tunnel":
 * a fresh TLS connection and CONNECT with its cookie, as ocserv does for a
 * client without safe renegotiation. Either way openconnect then sets up
 * DTLS again, so the DTLS keys are renewed too. */
static void add_rekey(struct hdrbuf *h, const struct wg_server *srv, WOLFSSL *ssl)
{
	int64_t secs = wg_config_int(srv->scfg, "rekey-time");
	bool ssl_method = strcmp(wg_config_string(srv->scfg, "rekey-method"), "ssl") == 0;

	if (secs <= 0) {
		add(h, "X-CSTP-Rekey-Method: none\r\n");
		return;
	}
	if (ssl_method && wolfSSL_version(ssl) != TLS1_3_VERSION)
		ssl_method = false;
	add(h, "X-CSTP-Rekey-Time: %u\r\n", (unsigned)secs);
	add(h, "X-CSTP-Rekey-Method: %s\r\n", ssl_method ? "ssl" : "new-tunnel");
}

static void build_headers(struct hdrbuf *h, struct wg_session *s, const struct wg_http_request *req,
			  const char *lane_headers, unsigned mtu, WOLFSSL *ssl)
{
	struct wg_server *srv = s->srv;
	const struct wg_session_tc *tc = &s->tc;
	const char *types = wg_http_header(req, "X-CSTP-Address-Type");
	bool want6 = !types || strcasestr(types, "IPv6");
	bool want4 = !types || strcasestr(types, "IPv4");

	add(h, "X-CSTP-Version: 1\r\n");
	add(h, "X-CSTP-Server-Name: wolfguard\r\n");
	if (want4 && tc->addr4[0]) {
		add(h, "X-CSTP-Address: %s\r\n", tc->addr4);
		add(h, "X-CSTP-Netmask: %s\r\n", tc->netmask4[0] ? tc->netmask4 : "255.255.255.255");
	}
	if (want6 && tc->addr6[0]) {
		if (strchr(tc->addr6, '/'))
			add(h, "X-CSTP-Address-IP6: %s\r\n", tc->addr6);
		else
			add(h, "X-CSTP-Address-IP6: %s/%u\r\n", tc->addr6, tc->prefix6 ? tc->prefix6 : 128);
	}
	if (s->pushed) {
		const char *full6 = wg_http_header(req, "X-CSTP-Full-IPv6-Capability");
		struct wg_client_families fam = {want4, want6, full6 && strcasecmp(full6, "true") == 0};
		long n = wg_pushed_for_client(s->pushed, &fam, h->text + h->len, sizeof(h->text) - h->len);
		if (n < 0)
			h->overflow = true;
		else
			h->len += (size_t)n;
	}
	add(h, "X-CSTP-Keep: true\r\n");
	add(h, "X-CSTP-DPD: %u\r\n", tc->dpd_s);
	add(h, "X-CSTP-Keepalive: %u\r\n", tc->keepalive_s);
	if (tc->idle_timeout_s)
		add(h, "X-CSTP-Idle-Timeout: %u\r\n", tc->idle_timeout_s);
	else
		add(h, "X-CSTP-Idle-Timeout: none\r\n");
	if (tc->session_timeout_s)
		add(h, "X-CSTP-Session-Timeout: %u\r\n", tc->session_timeout_s);
	else
		add(h, "X-CSTP-Session-Timeout: none\r\n");
	add(h, "X-CSTP-Disconnected-Timeout: %u\r\n", srv->cookie_lifetime);
	add_rekey(h, srv, ssl);
	add(h, "X-CSTP-MTU: %u\r\n", mtu);
	add(h, "X-CSTP-Base-MTU: %u\r\n", header_uint(req, "X-CSTP-Base-MTU", 1500));
	/* A vhost's own (or the server's, copied into it); the default
	 * server's is the current configuration's, as before vhosts. */
	const char *banner = s->vhost->name ? s->vhost->banner : srv->banner;
	if (banner && *banner)
		add(h, "X-CSTP-Banner: %s\r\n", banner);
	if (lane_headers[0])
		add(h, "%s", lane_headers); /* the transports' answers */
}

char *wg_tunnel_render_pushed(const struct wg_tunnel_config *tc)
{
	struct hdrbuf *h = malloc(sizeof(*h));
	char *out = NULL;

	if (!h)
		return NULL;
	h->len = 0;
	h->overflow = false;
	h->text[0] = '\0';
	for (unsigned i = 0; i < tc->n_dns && i < WG_MAX_DNS; i++)
		add(h, "X-CSTP-DNS: %s\r\n", tc->dns[i]);
	for (unsigned i = 0; i < tc->n_split_dns && i < WG_MAX_DNS; i++)
		add(h, "X-CSTP-Split-DNS: %s\r\n", tc->split_dns[i]);
	if (tc->default_domain[0])
		add(h, "X-CSTP-Default-Domain: %s\r\n", tc->default_domain);
	for (unsigned i = 0; i < tc->n_include && i < WG_MAX_ROUTES; i++)
		add_route(h, "X-CSTP-Split-Include", tc->include[i].net);
	for (unsigned i = 0; i < tc->n_exclude && i < WG_MAX_ROUTES; i++)
		add_route(h, "X-CSTP-Split-Exclude", tc->exclude[i].net);
	add(h, "X-CSTP-Tunnel-All-DNS: %s\r\n", tc->n_split_dns ? "false" : "true");
	if (!h->overflow)
		out = strdup(h->text);
	free(h);
	return out;
}

static void connect_session(struct wg_conn *c, const struct wg_http_request *req, struct wg_session *s,
			    const uint8_t *extra, size_t extra_len);

static void refuse(struct wg_conn *c, const char *status, const char *why)
{
	wg_log(NULL, WG_LOG_NOTICE, "%s: tunnel refused: %s", c->peer, why);
	c->close_after_flush = true;
	wg_conn_http_reply(c, status, "text/plain", NULL, why, strlen(why));
}

/* The CSTP connection went away: the session is kept for a reconnect
 * (shutdown: the server stops, and ends every session itself). */
static void cstp_closed(struct wg_conn *c, bool shutdown)
{
	struct wg_session *s = c->owner;

	c->owner = NULL;
	if (!s || s->cstp != c)
		return;
	s->cstp = NULL;
	if (!shutdown)
		wg_session_detached(s);
}

/* A connection that carries a session's CSTP stream (net/conn.h). */
static const struct wg_conn_handlers cstp_handlers = {
	.stream_input = wg_tunnel_cstp_input,
	.burst_begin = wg_datapath_rx_begin,
	.burst_end = wg_datapath_rx_end,
	.closed = cstp_closed,
};

static bool same_server_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

void wg_tunnel_connect(struct wg_conn *c, const struct wg_http_request *req, const uint8_t *extra, size_t extra_len)
{
	struct wg_server *srv = c->srv;
	char cookie[128];
	struct wg_session *s;

	if (wg_http_cookie(req, "webvpn", cookie, sizeof(cookie)) < 0) {
		refuse(c, "401 Unauthorized", "no session cookie");
		return;
	}
	s = wg_session_by_cookie(srv, cookie);
	/* Unknown here, or lingering here after a tunnel (acct_started: it
	 * was up, so the session has a record): another node of a cluster may
	 * hold it now, or have ended it (cluster.h); the answer then comes
	 * through wg_tunnel_connect_resume. A login's first CONNECT goes on. */
	if ((!s || (s->acct_started && !s->cstp)) && wg_cluster_adopt(c, cookie, wg_tunnel_connect_resume) == 0) {
		explicit_bzero(cookie, sizeof(cookie));
		return;
	}
	explicit_bzero(cookie, sizeof(cookie));
	if (!s) {
		refuse(c, "401 Unauthorized", "session cookie unknown or expired");
		return;
	}
	if (!same_server_name(wg_session_vhost_name(s), c->server_name)) {
		/* A session of one vhost is not reached under another's name. */
		refuse(c, "401 Unauthorized", "session cookie of another server name (vhost)");
		return;
	}
	connect_session(c, req, s, extra, extra_len);
}

void wg_tunnel_connect_resume(struct wg_conn *c, struct wg_session *s, const char *status, const char *why)
{
	size_t extra_len;
	const uint8_t *extra;

	c->busy = false;
	if (!s) {
		refuse(c, status, why);
		return;
	}
	extra = wg_conn_http_rest(c, &extra_len);
	connect_session(c, wg_http_parser_request(c->http), s, extra, extra_len);
}

/* The session is known: the rest of a CONNECT. */
static void connect_session(struct wg_conn *c, const struct wg_http_request *req, struct wg_session *s,
			    const uint8_t *extra, size_t extra_len)
{
	struct hdrbuf *h;
	char lane_headers[4096], lane_names[256];
	unsigned mtu, lanes;

	if (!wg_roaming_allowed(c->srv, s->client_addr, c->peer)) {
		wg_log(s, WG_LOG_WARN, "%s: cookie of a session from %s refused (allow-roaming is false)", c->peer,
		       s->client_addr);
		refuse(c, "401 Unauthorized", "session cookie presented from another address");
		return;
	}
	if (s->cstp) {
		/* A reconnect while the old connection is still half-open. */
		struct wg_conn *old = s->cstp;
		s->cstp = NULL;
		old->owner = NULL;
		wg_conn_close(old, "replaced by a reconnect");
	}
	/* Lanes of the old connection go: their keys came from its TLS. */
	wg_lanes_close(s);
	/* The login leased the addresses and ran the policies; every CONNECT
	 * of the session (reconnects too) gets that configuration. */
	if (!s->pushed) {
		refuse(c, "503 Service Unavailable", "the session has no tunnel configuration");
		return;
	}
	snprintf(s->client_addr, sizeof(s->client_addr), "%s", c->peer);
	mtu = s->tc.mtu;
	unsigned client_mtu = header_uint(req, "X-CSTP-MTU", mtu);
	if (client_mtu < mtu && client_mtu >= 576)
		mtu = client_mtu;
	/* Transports export their keys from the TLS secrets now. */
	lanes = wg_lanes_offer(s, c->ssl, req, mtu, lane_headers, sizeof(lane_headers), lane_names,
			       sizeof(lane_names));
	wolfSSL_FreeArrays(c->ssl); /* the secrets are not needed any more */

	h = malloc(sizeof(*h));
	if (!h) {
		refuse(c, "503 Service Unavailable", "out of memory");
		return;
	}
	h->len = 0;
	h->overflow = false;
	add(h, "HTTP/1.1 200 CONNECTED\r\n");
	build_headers(h, s, req, lane_headers, mtu, c->ssl);
	add(h, "\r\n");
	if (h->overflow) {
		free(h);
		refuse(c, "500 Internal Server Error", "tunnel configuration too large");
		return;
	}
	if (wg_conn_send(c, h->text, h->len) < 0) {
		free(h);
		return;
	}
	free(h);
	s->cstp = c;
	s->last_rx = time(NULL);
	wg_log(s, WG_LOG_INFO, "tunnel up over TLS%s%s%s, address %s%s%s, MTU %u", lanes ? " (offered: " : "",
	       lanes ? lane_names : "", lanes ? ")" : "", s->tc.addr4[0] ? s->tc.addr4 : "-", s->tc.addr6[0] ? " " : "", s->tc.addr6, mtu);
	if (s->rate_in_kbps || s->rate_out_kbps)
		wg_log(s, WG_LOG_INFO, "rate limited to %u kbit/s from the client, %u kbit/s to it (0: none)",
		       s->rate_in_kbps, s->rate_out_kbps);
	/* Before the first frame: a DISCONNECT among the bytes already read
	 * may end the session inside wg_conn_enter_stream. */
	wg_session_tunnel_up(s);
	wg_conn_enter_stream(c, &cstp_handlers, s, extra, extra_len);
}

int wg_tunnel_cstp_send(struct wg_conn *c, uint8_t type, const uint8_t *payload, size_t len)
{
	uint8_t frame[WG_CSTP_HEADER_LEN + CSTP_MAX_PAYLOAD];

	if (len > sizeof(frame) - WG_CSTP_HEADER_LEN)
		return -1;
	wg_cstp_header(frame, type, (uint16_t)len);
	if (len)
		memcpy(frame + WG_CSTP_HEADER_LEN, payload, len);
	return wg_conn_send(c, frame, WG_CSTP_HEADER_LEN + len);
}

void wg_tunnel_goodbye(struct wg_conn *c, const char *reason)
{
	uint8_t msg[128];
	int n = snprintf((char *)msg + 1, sizeof(msg) - 1, "%s", reason);

	msg[0] = 0xb0; /* "server request", shown by openconnect with the text */
	wg_tunnel_cstp_send(c, WG_CSTP_DISCONNECT, msg, 1 + (size_t)(n < (int)sizeof(msg) - 1 ? n : (int)sizeof(msg) - 2));
}

long wg_tunnel_cstp_input(struct wg_conn *c, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len && c->state == WG_CONN_CSTP) {
		struct wg_cstp_frame f;
		int n = wg_cstp_parse(buf + off, len - off, CSTP_MAX_PAYLOAD, &f);
		struct wg_session *s = c->owner;

		if (n == 0)
			break;
		if (n < 0) {
			wg_conn_close(c, "invalid CSTP frame (bad header or length)");
			return -1;
		}
		off += (size_t)n;
		if (!s)
			continue;
		switch (f.type) {
		case WG_CSTP_DATA:
			s->last_rx = time(NULL);
			wg_datapath_from_client(s, f.payload, f.len);
			break;
		case WG_CSTP_DPD_REQ:
			wg_tunnel_cstp_send(c, WG_CSTP_DPD_RESP, f.payload, f.len);
			break;
		case WG_CSTP_DPD_RESP:
		case WG_CSTP_KEEPALIVE:
			break;
		case WG_CSTP_DISCONNECT:
			wg_session_end(s, "client disconnected");
			return c->state == WG_CONN_CLOSING ? -1 : (long)off;
		case WG_CSTP_TERMINATE:
			wg_session_end(s, "client terminated the session");
			return c->state == WG_CONN_CLOSING ? -1 : (long)off;
		default:
			wg_log(s, WG_LOG_DEBUG, "ignoring CSTP %s frame", wg_cstp_type_name(f.type));
			break;
		}
	}
	return c->state == WG_CONN_CLOSING ? -1 : (long)off;
}
