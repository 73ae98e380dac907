/* The SDK as an outside developer sees it: install the project into a
 * staging DESTDIR, build examples/plugin-hello with its Makefile against
 * that (tests/unit/sdk_example.sh), and load the result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "conf_fixture.h"
#include "modules/host.h"
#include "net/http_parser.h"
#include "tunnel/lane.h"
#include "modules/loader.h"

/* The value of "key=" in the script's output, or NULL (caller frees). */
static char *value_of(const char *out, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			return strndup(v, strcspn(v, "\n"));
		}
	}
	return NULL;
}

/* A CONNECT request as the server would have parsed it. */
static struct wg_http_parser *connect_request(const char *extra_header)
{
	struct wg_http_parser *p = wg_http_parser_new();
	char req[512];
	size_t used;

	cr_assert_not_null(p);
	snprintf(req, sizeof(req), "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: vpn\r\n%s\r\n", extra_header);
	cr_assert_eq(wg_http_parser_feed(p, req, strlen(req), &used), WG_HTTP_DONE, "%s", wg_http_parser_error(p));
	return p;
}

static void check_example_transport(const char *so)
{
	struct wg_err err;
	struct wg_loaded_plugin lp;
	void *state = NULL, *ctx = NULL;
	char why[256] = "";

	wg_err_init(&err);
	cr_assert_eq(wg_plugin_open(so, "transport-null", &lp, &err), 0, "%s", err.text);
	cr_assert_eq(lp.desc->kind, WG_PLUGIN_TRANSPORT);
	const struct wg_transport_ops *ops = lp.desc->ops;
	cr_assert(ops->offer && ops->close && ops->send && ops->flush);

	struct wg_config *cfg = wg_config_from_string("40-transport-null.json", "{}", &err);
	cr_assert_eq(wg_config_validate(cfg, lp.desc->options, &err), 0, "%s", err.text);
	cr_assert_eq(lp.desc->init(wg_host_table(), cfg, &state, why, sizeof(why)), 0, "%s", why);

	/* No header asked for a lane: none offered, nothing added. */
	struct wg_lane_offer o = {.struct_size = sizeof(o), .mtu = 1400};
	struct wg_http_parser *plain = connect_request("");
	struct wg_lane lane = {.req = wg_http_parser_request(plain)};
	cr_assert_neq(ops->offer(state, &lane, &o, &ctx), 0);
	cr_assert_eq(lane.hdr_len, 0);

	/* Asked for: offered, with its answer header. */
	struct wg_http_parser *asked = connect_request("X-Null-Lane: 1\r\n");
	struct wg_lane lane2 = {.req = wg_http_parser_request(asked)};
	cr_assert_eq(ops->offer(state, &lane2, &o, &ctx), 0);
	cr_assert_not_null(ctx);
	cr_assert_str_eq(lane2.hdr, "X-Null-Lane: 1400\r\n");

	/* A batch, as the data path hands it over, then flush and counters. */
	uint8_t buf[2][WG_LANE_HEADROOM + 20] = {{0}};
	struct wg_lane_packet pkts[2] = {
		{.lane_ctx = ctx, .data = buf[0] + WG_LANE_HEADROOM, .len = 20},
		{.lane_ctx = ctx, .data = buf[1] + WG_LANE_HEADROOM, .len = 20},
	};
	ops->send(state, pkts, 2);
	ops->flush(state);
	struct wg_transport_stats st = {.struct_size = sizeof(st)};
	cr_assert(WG_OPS_HAS(ops, stats));
	ops->stats(state, &st);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(st.lanes_up, 0);

	ops->close(state, ctx);
	lp.desc->fini(state);
	free(lane2.hdr);
	wg_http_parser_free(plain);
	wg_http_parser_free(asked);
	wg_config_free(cfg);
	wg_plugin_close(&lp);
}

Test(sdk_example, builds_out_of_tree_against_the_installed_sdk_and_loads, .timeout = 280)
{
	const char *build = getenv("WOLFGUARD_BUILD_ROOT"), *src = getenv("WOLFGUARD_SOURCE_ROOT");
	cr_assert(build && src, "run through meson test");
	char *work = fixture_tmpdir(), *cmd = NULL;
	cr_assert(asprintf(&cmd, "sh '%s/tests/unit/sdk_example.sh' '%s' '%s' '%s'", src, build, src, work) > 0);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char out[8192];
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sdk_example.sh failed:\n%s", out);

	char *cflags = value_of(out, "cflags"), *abi = value_of(out, "abi"), *so = value_of(out, "plugin");
	cr_assert(cflags && abi && so, "unexpected output:\n%s", out);
	/* The headers came from the staged install, not from the source tree. */
	cr_assert(strstr(cflags, work), "cflags %s do not point into %s", cflags, work);
	cr_assert_null(strstr(cflags, "sdk/include"), "source-tree headers leaked in: %s", cflags);
	cr_assert_eq(atoi(abi), (int)WG_ABI_VERSION);
	cr_assert_eq(strncmp(so, work, strlen(work)), 0, "installed outside the DESTDIR: %s", so);

	struct wg_err err;
	wg_err_init(&err);
	struct wg_loaded_plugin lp;
	cr_assert_eq(wg_plugin_open(so, "auth-hello", &lp, &err), 0, "%s", err.text);
	cr_assert_str_eq(lp.desc->name, "auth-hello");
	cr_assert_eq(lp.desc->kind, WG_PLUGIN_AUTH);
	cr_assert_eq(lp.desc->abi_version, WG_ABI_VERSION);
	cr_assert_geq(lp.desc->struct_size, sizeof(struct wg_plugin));

	/* Its options go through the same validation as any plugin's. */
	struct wg_config *cfg = wg_config_from_string("50-auth-hello.json", "{\"secrt\": \"x\"}", &err);
	cr_assert_eq(wg_config_validate(cfg, lp.desc->options, &err), -1);
	cr_assert_str_eq(err.text, "50-auth-hello.json:1:2: secrt: unknown key (did you mean \"secret\"?)\n"
				   "50-auth-hello.json:1:1: secret: required key is missing\n");
	wg_config_free(cfg);
	wg_plugin_close(&lp);

	/* The example transport: loads as a transport, and follows the rules
	 * the server relies on when it offers lanes. */
	char *tso = value_of(out, "transport");
	cr_assert_not_null(tso, "unexpected output:\n%s", out);
	cr_assert_eq(strncmp(tso, work, strlen(work)), 0, "installed outside the DESTDIR: %s", tso);
	check_example_transport(tso);
	free(tso);
	free(cflags);
	free(abi);
	free(so);
	free(cmd);
	fixture_rmrf(work);
}
