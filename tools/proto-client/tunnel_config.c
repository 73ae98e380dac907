/* CONNECTED answer headers into struct wgp_tunnel_config (see tunnel_config.h). */
#include "tunnel_config.h"

#include "http.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/percent.h>

/* Lists longer than this many headers are cut: a hostile server must not
 * keep the reader busy. */
#define MAX_REPEATS 256

static unsigned header_uint(const char *h, size_t hl, const char *name)
{
	char v[32], *e;
	unsigned long n;

	if (wgp_http_header(h, hl, name, 0, v, sizeof(v)) <= 0)
		return 0;
	n = strtoul(v, &e, 10);
	return e == v || *e || n > 0xffffffUL ? 0 : (unsigned)n; /* "none" reads as 0 */
}

int wgp_masklen(const char *netmask)
{
	struct in_addr a;
	uint32_t m;
	int len = 0;

	if (inet_pton(AF_INET, netmask, &a) != 1)
		return -1;
	m = ntohl(a.s_addr);
	while (m & 0x80000000u) {
		len++;
		m <<= 1;
	}
	return m ? -1 : len;
}

int wgp_route_parse(const char *s, struct wgp_route *r)
{
	const char *slash = strchr(s, '/');
	char addr[64];
	unsigned char buf[16];
	size_t al;

	memset(r, 0, sizeof(*r));
	if (!slash || (al = (size_t)(slash - s)) == 0 || al >= sizeof(addr) || al >= sizeof(r->addr))
		return -1;
	memcpy(addr, s, al);
	addr[al] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1) {
		int ml;
		char *e;
		unsigned long n;
		if (strchr(slash + 1, '.')) {
			ml = wgp_masklen(slash + 1);
		} else {
			n = strtoul(slash + 1, &e, 10);
			ml = (e == slash + 1 || *e || n > 32) ? -1 : (int)n;
		}
		if (ml < 0)
			return -1;
		r->masklen = (unsigned)ml;
	} else if (inet_pton(AF_INET6, addr, buf) == 1) {
		char *e;
		unsigned long n = strtoul(slash + 1, &e, 10);
		if (e == slash + 1 || *e || n > 128)
			return -1;
		r->masklen = (unsigned)n;
		r->ipv6 = 1;
	} else {
		return -1;
	}
	memcpy(r->addr, addr, al + 1);
	return 0;
}

/* Copies s into out when it fits, else leaves out empty: a value cut short
 * would say something the server did not. */
static void copy_whole(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n < cap)
		memcpy(out, s, n + 1);
	else
		out[0] = '\0';
}

static int read_routes(const char *h, size_t hl, const char *name, struct wgp_route *out, unsigned *n, char *err,
		       size_t errlen)
{
	char v[128];

	for (unsigned i = 0; i < MAX_REPEATS && wgp_http_header(h, hl, name, i, v, sizeof(v)) >= 0; i++) {
		struct wgp_route r;
		if (wgp_route_parse(v, &r) < 0) {
			snprintf(err, errlen, "%s: bad route \"%.60s\"", name, v);
			return -1;
		}
		if (*n < WGP_TC_MAX_ROUTES)
			out[(*n)++] = r;
	}
	return 0;
}

static int unhex(const char *v, unsigned char *out, size_t n)
{
	if (strlen(v) != 2 * n)
		return -1;
	return wg_hex_decode(v, out, n);
}

/* X-Wolfguard-Lanes*: granted lanes need their session id and one port each. */
static int read_lanes(const char *h, size_t hl, struct wgp_tunnel_config *tc, char *err, size_t errlen)
{
	char v[256], *p, *e;
	unsigned n = header_uint(h, hl, "X-Wolfguard-Lanes");

	if (n == 0)
		return 0;
	if (n > WGP_TC_MAX_LANES) {
		snprintf(err, errlen, "X-Wolfguard-Lanes: %u lanes", n);
		return -1;
	}
	if (wgp_http_header(h, hl, "X-Wolfguard-Lanes-Session", 0, v, sizeof(v)) < 0 ||
	    unhex(v, tc->lanes_session, sizeof(tc->lanes_session)) < 0) {
		snprintf(err, errlen, "lanes granted without a valid X-Wolfguard-Lanes-Session");
		return -1;
	}
	if (wgp_http_header(h, hl, "X-Wolfguard-Lanes-Ports", 0, v, sizeof(v)) < 0) {
		snprintf(err, errlen, "lanes granted without X-Wolfguard-Lanes-Ports");
		return -1;
	}
	p = v;
	for (unsigned k = 0; k < n; k++) {
		unsigned long port = strtoul(p, &e, 10);
		if (e == p || port == 0 || port > 65535 || (k + 1 < n ? *e != ',' : *e != '\0')) {
			snprintf(err, errlen, "X-Wolfguard-Lanes-Ports: not %u ports", n);
			return -1;
		}
		tc->lanes_ports[k] = (unsigned)port;
		p = e + 1;
	}
	tc->lanes = n;
	tc->lanes_mtu = header_uint(h, hl, "X-Wolfguard-Lanes-MTU");
	tc->lanes_probe_ms = header_uint(h, hl, "X-Wolfguard-Lanes-Probe-Ms");
	tc->lanes_deadline_ms = header_uint(h, hl, "X-Wolfguard-Lanes-Deadline-Ms");
	if (!tc->lanes_probe_ms || tc->lanes_probe_ms > 60000)
		tc->lanes_probe_ms = 200;
	if (!tc->lanes_deadline_ms || tc->lanes_deadline_ms > 60000)
		tc->lanes_deadline_ms = 2 * tc->lanes_probe_ms;
	if (!tc->lanes_mtu || tc->lanes_mtu > 65535)
		tc->lanes_mtu = tc->mtu ? tc->mtu : 1280;
	return 0;
}

int wgp_tunnel_config_parse(const char *h, size_t hl, struct wgp_tunnel_config *tc, char *err, size_t errlen)
{
	char v[512];
	unsigned char tmp[16];

	memset(tc, 0, sizeof(*tc));
	if (wgp_http_header(h, hl, "X-CSTP-Address", 0, v, sizeof(v)) >= 0) {
		if (strlen(v) >= sizeof(tc->address) || inet_pton(AF_INET, v, tmp) != 1) {
			snprintf(err, errlen, "bad X-CSTP-Address \"%.60s\"", v);
			return -1;
		}
		strcpy(tc->address, v);
		if (wgp_http_header(h, hl, "X-CSTP-Netmask", 0, v, sizeof(v)) >= 0) {
			if (strlen(v) >= sizeof(tc->netmask) || wgp_masklen(v) < 0) {
				snprintf(err, errlen, "bad X-CSTP-Netmask \"%.60s\"", v);
				return -1;
			}
			strcpy(tc->netmask, v);
		}
	}
	if (wgp_http_header(h, hl, "X-CSTP-Address-IP6", 0, v, sizeof(v)) >= 0) {
		struct wgp_route r;
		if (strlen(v) >= sizeof(tc->address6) || wgp_route_parse(v, &r) < 0 || !r.ipv6) {
			snprintf(err, errlen, "bad X-CSTP-Address-IP6 \"%.60s\"", v);
			return -1;
		}
		strcpy(tc->address6, v);
	}
	if (!tc->address[0] && !tc->address6[0]) {
		snprintf(err, errlen, "the server gave no address (X-CSTP-Address)");
		return -1;
	}
	for (unsigned i = 0; i < MAX_REPEATS && wgp_http_header(h, hl, "X-CSTP-DNS", i, v, sizeof(v)) >= 0; i++)
		if (tc->n_dns < WGP_TC_MAX_DNS && strlen(v) < sizeof(tc->dns[0]) &&
		    (inet_pton(AF_INET, v, tmp) == 1 || inet_pton(AF_INET6, v, tmp) == 1))
			strcpy(tc->dns[tc->n_dns++], v);
	for (unsigned i = 0; i < MAX_REPEATS && wgp_http_header(h, hl, "X-CSTP-NBNS", i, v, sizeof(v)) >= 0; i++)
		if (tc->n_nbns < WGP_TC_MAX_DNS && strlen(v) < sizeof(tc->nbns[0]) && inet_pton(AF_INET, v, tmp) == 1)
			strcpy(tc->nbns[tc->n_nbns++], v);
	for (unsigned i = 0; i < MAX_REPEATS && wgp_http_header(h, hl, "X-CSTP-Split-DNS", i, v, sizeof(v)) >= 0;
	     i++)
		if (tc->n_split_dns < WGP_TC_MAX_SPLIT_DNS && v[0] && strlen(v) < sizeof(tc->split_dns[0]) &&
		    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(v))
			strcpy(tc->split_dns[tc->n_split_dns++], v);
	if (wgp_http_header(h, hl, "X-CSTP-Default-Domain", 0, v, sizeof(v)) >= 0 &&
	    strlen(v) < sizeof(tc->default_domain))
		strcpy(tc->default_domain, v);
	if (wgp_http_header(h, hl, "X-CSTP-Banner", 0, v, sizeof(v)) >= 0)
		copy_whole(tc->banner, sizeof(tc->banner), v);
	if (read_routes(h, hl, "X-CSTP-Split-Include", tc->include, &tc->n_include, err, errlen) < 0 ||
	    read_routes(h, hl, "X-CSTP-Split-Exclude", tc->exclude, &tc->n_exclude, err, errlen) < 0 ||
	    read_routes(h, hl, "X-CSTP-Split-Include-IP6", tc->include, &tc->n_include, err, errlen) < 0 ||
	    read_routes(h, hl, "X-CSTP-Split-Exclude-IP6", tc->exclude, &tc->n_exclude, err, errlen) < 0)
		return -1;
	tc->mtu = header_uint(h, hl, "X-CSTP-MTU");
	tc->keepalive_s = header_uint(h, hl, "X-CSTP-Keepalive");
	tc->dpd_s = header_uint(h, hl, "X-CSTP-DPD");
	tc->idle_timeout_s = header_uint(h, hl, "X-CSTP-Idle-Timeout");
	tc->session_timeout_s = header_uint(h, hl, "X-CSTP-Session-Timeout");
	tc->dtls_port = header_uint(h, hl, "X-DTLS-Port");
	if (tc->dtls_port > 65535)
		tc->dtls_port = 0;
	tc->dtls_dpd_s = header_uint(h, hl, "X-DTLS-DPD");
	tc->dtls_keepalive_s = header_uint(h, hl, "X-DTLS-Keepalive");
	tc->dtls_mtu = header_uint(h, hl, "X-DTLS-MTU");
	if (wgp_http_header(h, hl, "X-DTLS-CipherSuite", 0, v, sizeof(v)) >= 0)
		copy_whole(tc->dtls_cipher, sizeof(tc->dtls_cipher), v);
	if (wgp_http_header(h, hl, "X-DTLS-App-ID", 0, v, sizeof(v)) >= 0) {
		size_t n = strlen(v);
		if (n % 2 || n / 2 > sizeof(tc->app_id) || n == 0) {
			snprintf(err, errlen, "bad X-DTLS-App-ID (%zu hex digits)", n);
			return -1;
		}
		if (wg_hex_decode(v, tc->app_id, n / 2) < 0) {
			snprintf(err, errlen, "bad X-DTLS-App-ID: not hex");
			return -1;
		}
		tc->app_id_len = (unsigned)(n / 2);
	}
	return read_lanes(h, hl, tc, err, errlen);
}
