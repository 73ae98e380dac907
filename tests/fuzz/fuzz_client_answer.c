/* libFuzzer: what wolfguard-client and wolfguard-bench read from a server
 * (tools/proto-client): an HTTP answer, its Set-Cookie headers, the login
 * form in its body, the CONNECTED configuration headers, and the CSTP
 * frames after it. The input is the server's byte stream. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_flow.h"
#include "cstp.h"
#include "http.h"
#include "tunnel_config.h"

static void on_frame(void *arg, uint8_t type, const uint8_t *payload, size_t len)
{
	size_t *sum = arg;
	if (payload && len)
		*sum += (size_t)payload[0] + payload[len - 1] + type;
}

static const char *ask(void *arg, const char *label)
{
	(void)arg;
	return label[0] ? "pw" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgp_http_resp r;
	struct wgp_tunnel_config *tc = malloc(sizeof(*tc));
	char err[200], v[512], req[8192];
	const char *buf = (const char *)data;
	size_t sum = 0;
	int len;

	if (!tc)
		return 0;
	for (int with_body = 0; with_body < 2; with_body++) {
		if (wgp_http_parse(buf, size, with_body, &r, err, sizeof(err)) != 1)
			continue;
		wgp_http_set_cookie(buf, r.header_len, "webvpn", v, sizeof(v));
		wgp_http_set_cookie(buf, r.header_len, "webvpncontext", v, sizeof(v));
		if (!with_body) {
			wgp_tunnel_config_parse(buf, r.header_len, tc, err, sizeof(err));
			/* the CSTP frames behind the CONNECTED answer */
			struct wgp_cstp_rx rx = {.keep_data = 1};
			wgp_cstp_feed(&rx, data + r.header_len, size - r.header_len, on_frame, &sum, err, sizeof(err));
			wgp_cstp_rx_free(&rx);
		} else if (r.header_len + r.body_len <= size) {
			struct wgp_login l = {.host = "h", .user = "u", .ask_password = ask};
			struct wgp_login_state ls = {0};
			for (int i = 0; i < 3; i++)
				if (wgp_auth_next(&l, &ls, buf + r.header_len, r.body_len, "ctx", req, sizeof(req), &len,
						  err, sizeof(err)) != WGP_AUTH_REPLY)
					break;
		}
	}
	/* a route value on its own */
	if (size < 128) {
		char s[128];
		struct wgp_route rt;
		memcpy(s, data, size);
		s[size] = '\0';
		wgp_route_parse(s, &rt);
		wgp_masklen(s);
	}
	free(tc);
	return (int)(sum & 0);
}
