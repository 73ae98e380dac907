/* tools/proto-client: what wolfguard-client and wolfguard-bench read from
 * a server (HTTP answers, login forms, the CONNECTED configuration, CSTP
 * frames) and the requests they build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_flow.h"
#include "cstp.h"
#include "http.h"
#include "tunnel_config.h"

static const char connected[] =
	"HTTP/1.1 200 CONNECTED\r\n"
	"X-CSTP-Version: 1\r\n"
	"X-CSTP-Address: 10.8.0.23\r\n"
	"X-CSTP-Netmask: 255.255.255.0\r\n"
	"X-CSTP-Address-IP6: 2001:db8:8::17/64\r\n"
	"X-CSTP-DNS: 203.0.113.53\r\n"
	"X-CSTP-DNS: 2001:db8::53\r\n"
	"X-CSTP-Split-DNS: example.test\r\n"
	"X-CSTP-Split-DNS: bad domain!\r\n"
	"X-CSTP-Default-Domain: corp.test\r\n"
	"X-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\n"
	"X-CSTP-Split-Include: 192.0.2.0/24\r\n"
	"X-CSTP-Split-Exclude: 203.0.113.128/255.255.255.128\r\n"
	"X-CSTP-Split-Include-IP6: 2001:db8:1::/48\r\n"
	"X-CSTP-Keepalive: 32\r\n"
	"X-CSTP-DPD: 90\r\n"
	"X-CSTP-Idle-Timeout: none\r\n"
	"X-CSTP-MTU: 1434\r\n"
	"X-DTLS-Port: 443\r\n"
	"X-DTLS-DPD: 60\r\n"
	"X-DTLS-App-ID: 26140cc9044e3dbd65d283fd8ac48b03bfbe397207264bd97310a491bc08cb39\r\n"
	"X-DTLS-CipherSuite: PSK-NEGOTIATE\r\n"
	"\r\n";

Test(tunnel_config, reads_what_ocserv_and_wolfguard_push)
{
	struct wgp_tunnel_config tc;
	char err[160];

	cr_assert_eq(wgp_tunnel_config_parse(connected, strlen(connected), &tc, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(tc.address, "10.8.0.23");
	cr_assert_str_eq(tc.netmask, "255.255.255.0");
	cr_assert_str_eq(tc.address6, "2001:db8:8::17/64");
	cr_assert_eq(tc.n_dns, 2);
	cr_assert_str_eq(tc.dns[1], "2001:db8::53");
	cr_assert_eq(tc.n_split_dns, 1, "a name with a space is dropped");
	cr_assert_str_eq(tc.default_domain, "corp.test");
	cr_assert_eq(tc.n_include, 3);
	cr_assert_str_eq(tc.include[0].addr, "203.0.113.0");
	cr_assert_eq(tc.include[0].masklen, 24);
	cr_assert_eq(tc.include[1].masklen, 24);
	cr_assert(tc.include[2].ipv6);
	cr_assert_eq(tc.include[2].masklen, 48);
	cr_assert_eq(tc.n_exclude, 1);
	cr_assert_eq(tc.exclude[0].masklen, 25);
	cr_assert_eq(tc.keepalive_s, 32);
	cr_assert_eq(tc.dpd_s, 90);
	cr_assert_eq(tc.idle_timeout_s, 0);
	cr_assert_eq(tc.mtu, 1434);
	cr_assert_eq(tc.dtls_port, 443);
	cr_assert_eq(tc.dtls_dpd_s, 60);
	cr_assert_eq(tc.app_id_len, 32);
	cr_assert_eq(tc.app_id[0], 0x26);
	cr_assert_eq(tc.app_id[31], 0x39);
	cr_assert_str_eq(tc.dtls_cipher, "PSK-NEGOTIATE");
}

static int parse_with(const char *extra_header, char *err, size_t errlen)
{
	char buf[1024];
	struct wgp_tunnel_config tc;
	snprintf(buf, sizeof(buf), "HTTP/1.1 200 CONNECTED\r\nX-CSTP-Address: 10.8.0.2\r\n%s\r\n\r\n", extra_header);
	return wgp_tunnel_config_parse(buf, strlen(buf), &tc, err, errlen);
}

Test(tunnel_config, refuses_malformed_values)
{
	char err[160];

	cr_assert_eq(parse_with("X-CSTP-Netmask: 255.0.255.0", err, sizeof(err)), -1);
	cr_assert(strstr(err, "Netmask"));
	cr_assert_eq(parse_with("X-CSTP-Split-Include: 10.0.0.0/33", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-CSTP-Split-Include: 10.0.0.0", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-CSTP-Split-Exclude: nonsense/8", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-DTLS-App-ID: abc", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-DTLS-App-ID: zz", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-CSTP-Address-IP6: 10.0.0.1/64", err, sizeof(err)), -1);
	cr_assert_eq(parse_with("X-CSTP-MTU: 99999999999", err, sizeof(err)), 0, "a silly number reads as not given");

	struct wgp_tunnel_config tc;
	const char *none = "HTTP/1.1 200 CONNECTED\r\nX-CSTP-DPD: 30\r\n\r\n";
	cr_assert_eq(wgp_tunnel_config_parse(none, strlen(none), &tc, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no address"));
	const char *bad = "HTTP/1.1 200 CONNECTED\r\nX-CSTP-Address: 10.8.0.300\r\n\r\n";
	cr_assert_eq(wgp_tunnel_config_parse(bad, strlen(bad), &tc, err, sizeof(err)), -1);
}

Test(tunnel_config, masklen)
{
	cr_assert_eq(wgp_masklen("255.255.255.0"), 24);
	cr_assert_eq(wgp_masklen("0.0.0.0"), 0);
	cr_assert_eq(wgp_masklen("255.255.255.255"), 32);
	cr_assert_eq(wgp_masklen("255.255.0.255"), -1);
	cr_assert_eq(wgp_masklen("x"), -1);
}

static const char form[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<config-auth client=\"vpn\" type=\"auth-request\"><auth id=\"main\"><message>Please enter your username.</message>"
	"<form method=\"post\" action=\"/auth\"><input type=\"text\" name=\"username\" label=\"Username:\" />"
	"<input type=\"password\" name=\"password\" label=\"Password:\" /></form></auth></config-auth>";

static const char *prompt(void *arg, const char *label)
{
	snprintf(arg, 64, "%s", label);
	return "s3cret&<";
}

Test(auth_flow, answers_a_form_and_asks_for_the_password)
{
	char asked[64] = "", req[4096], err[160];
	struct wgp_login l = {.host = "vpn.test", .user = "alice", .ask_password = prompt, .ask_arg = asked};
	struct wgp_login_state ls = {0};
	int len = 0;

	cr_assert_eq(wgp_auth_next(&l, &ls, form, strlen(form), "ctx1", req, sizeof(req), &len, err, sizeof(err)),
		     WGP_AUTH_REPLY, "%s", err);
	cr_assert_str_eq(asked, "Password:");
	cr_assert(strstr(req, "POST /auth HTTP/1.1\r\n"));
	cr_assert(strstr(req, "Cookie: webvpncontext=ctx1\r\n"));
	cr_assert(strstr(req, "<username>alice</username>"));
	cr_assert(strstr(req, "<password>s3cret&amp;&lt;</password>"), "escaped: %s", req);
	/* The same form again: the password was refused; nobody is asked again. */
	asked[0] = '\0';
	cr_assert_eq(wgp_auth_next(&l, &ls, form, strlen(form), "ctx1", req, sizeof(req), &len, err, sizeof(err)),
		     WGP_AUTH_FAIL);
	cr_assert(strstr(err, "login rejected"));
	cr_assert_str_eq(asked, "");
}

Test(auth_flow, complete_and_malformed)
{
	char req[4096], err[160];
	struct wgp_login l = {.host = "vpn.test", .user = "alice", .password = "x"};
	struct wgp_login_state ls = {0};
	int len = 0;
	const char *done = "<config-auth client=\"vpn\" type=\"complete\"><auth id=\"success\"/></config-auth>";

	cr_assert_eq(wgp_auth_next(&l, &ls, done, strlen(done), "", req, sizeof(req), &len, err, sizeof(err)),
		     WGP_AUTH_COMPLETE);
	cr_assert_eq(wgp_auth_next(&l, &ls, "<html>", 6, "", req, sizeof(req), &len, err, sizeof(err)), WGP_AUTH_FAIL);
	/* No password and nobody to ask: a clear refusal. */
	l.password = NULL;
	memset(&ls, 0, sizeof(ls));
	cr_assert_eq(wgp_auth_next(&l, &ls, form, strlen(form), "", req, sizeof(req), &len, err, sizeof(err)),
		     WGP_AUTH_FAIL);
	cr_assert(strstr(err, "no password"), "%s", err);
}

Test(http, parse_and_cookies)
{
	const char *a = "HTTP/1.1 200 OK\r\nSet-Cookie: webvpncontext=abc; Secure\r\nSet-Cookie: webvpn=C00K13; Secure\r\n"
			"Content-Length: 4\r\n\r\nbody";
	struct wgp_http_resp r;
	char err[120], v[64];

	cr_assert_eq(wgp_http_parse(a, strlen(a) - 1, 1, &r, err, sizeof(err)), 0, "body incomplete");
	cr_assert_eq(wgp_http_parse(a, strlen(a), 1, &r, err, sizeof(err)), 1);
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 4);
	cr_assert_eq(wgp_http_set_cookie(a, r.header_len, "webvpn", v, sizeof(v)), 6);
	cr_assert_str_eq(v, "C00K13");
	cr_assert_eq(wgp_http_set_cookie(a, r.header_len, "webvpncontext", v, sizeof(v)), 3);
	cr_assert_eq(wgp_http_parse("SSH-2.0\r\n\r\n", 11, 0, &r, err, sizeof(err)), -1);
	const char *big = "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n";
	cr_assert_eq(wgp_http_parse(big, strlen(big), 1, &r, err, sizeof(err)), -1);
}

struct frames {
	int n;
	uint8_t type[8];
	size_t len[8];
	int kept[8];
};

static void on_frame(void *arg, uint8_t type, const uint8_t *payload, size_t len)
{
	struct frames *f = arg;
	if (f->n < 8) {
		f->type[f->n] = type;
		f->len[f->n] = len;
		f->kept[f->n] = payload != NULL && (len == 0 || payload[0] == 0x45 || payload[0] == 'p');
		f->n++;
	}
}

Test(cstp, frames_byte_by_byte_and_data_kept_only_when_asked)
{
	uint8_t s[256], ip[40] = {0x45};
	size_t n = wgp_cstp_frame(s, sizeof(s), WGP_CSTP_DATA, ip, sizeof(ip));
	n += wgp_cstp_frame(s + n, sizeof(s) - n, WGP_CSTP_DPD_REQ, (const uint8_t *)"ping", 4);
	n += wgp_cstp_frame(s + n, sizeof(s) - n, WGP_CSTP_KEEPALIVE, NULL, 0);
	char err[120];

	for (int keep = 0; keep < 2; keep++) {
		struct wgp_cstp_rx rx = {.keep_data = keep};
		struct frames f = {0};
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(wgp_cstp_feed(&rx, s + i, 1, on_frame, &f, err, sizeof(err)), 0);
		cr_assert_eq(f.n, 3);
		cr_assert_eq(f.type[0], WGP_CSTP_DATA);
		cr_assert_eq(f.len[0], 40);
		cr_assert_eq(f.kept[0], keep);
		cr_assert_eq(f.type[1], WGP_CSTP_DPD_REQ);
		cr_assert(f.kept[1], "a DPD payload is always kept");
		cr_assert_eq(f.type[2], WGP_CSTP_KEEPALIVE);
		wgp_cstp_rx_free(&rx);
	}
	struct wgp_cstp_rx rx = {0};
	struct frames f = {0};
	cr_assert_eq(wgp_cstp_feed(&rx, (const uint8_t *)"HTTP/1.1 ", 9, on_frame, &f, err, sizeof(err)), -1);
	wgp_cstp_rx_free(&rx);
}

Test(cstp, connect_request)
{
	char req[2048];
	struct wgp_connect_opts o = {.host = "vpn.test", .cookie = "C", .client_name = "me", .want_ipv6 = 1,
				     .dtls_master_secret = "AB", .extra_headers = "X-Wolfguard-Lanes: 2\r\n"};
	cr_assert_gt(wgp_cstp_connect(&o, req, sizeof(req)), 0);
	cr_assert(strncmp(req, "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n", 35) == 0);
	cr_assert(strstr(req, "Cookie: webvpn=C\r\n"));
	cr_assert(strstr(req, "X-CSTP-Address-Type: IPv6,IPv4\r\n"));
	cr_assert(strstr(req, "X-DTLS-Master-Secret: AB\r\n"));
	cr_assert(strstr(req, "X-DTLS-CipherSuite: PSK-NEGOTIATE"));
	cr_assert(strstr(req, "X-Wolfguard-Lanes: 2\r\n\r\n"));
	cr_assert_eq(wgp_cstp_connect(&o, req, 40), -1);
	o.dtls_master_secret = NULL;
	cr_assert_gt(wgp_cstp_connect(&o, req, sizeof(req)), 0);
	cr_assert_null(strstr(req, "X-DTLS"));
}

Test(tunnel_config, lanes_granted)
{
	char err[160];
	struct wgp_tunnel_config tc;
	const char *h = "HTTP/1.1 200 CONNECTED\r\nX-CSTP-Address: 10.8.0.2\r\nX-Wolfguard-Lanes: 2\r\n"
			"X-Wolfguard-Lanes-Session: 8f3a0c1e5b7d9a2f4c6e8b0d1f3a5c7e\r\nX-Wolfguard-Lanes-Ports: 4443,4444\r\n"
			"X-Wolfguard-Lanes-MTU: 1406\r\nX-Wolfguard-Lanes-Probe-Ms: 100\r\n\r\n";

	cr_assert_eq(wgp_tunnel_config_parse(h, strlen(h), &tc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tc.lanes, 2);
	cr_assert_eq(tc.lanes_session[0], 0x8f);
	cr_assert_eq(tc.lanes_session[15], 0x7e);
	cr_assert_eq(tc.lanes_ports[1], 4444);
	cr_assert_eq(tc.lanes_mtu, 1406);
	cr_assert_eq(tc.lanes_probe_ms, 100);
	cr_assert_eq(tc.lanes_deadline_ms, 200, "default: two probe periods");
	cr_assert_eq(parse_with("X-Wolfguard-Lanes: 2\r\nX-Wolfguard-Lanes-Session: 00\r\nX-Wolfguard-Lanes-Ports: 1,2", err,
			       sizeof(err)), -1);
	cr_assert_eq(parse_with("X-Wolfguard-Lanes: 2\r\nX-Wolfguard-Lanes-Session: 8f3a0c1e5b7d9a2f4c6e8b0d1f3a5c7e\r\n"
				"X-Wolfguard-Lanes-Ports: 4443", err, sizeof(err)), -1);
	cr_assert(strstr(err, "not 2 ports"), "%s", err);
	cr_assert_eq(parse_with("X-Wolfguard-Lanes: 0", err, sizeof(err)), 0, "no lanes");
}
