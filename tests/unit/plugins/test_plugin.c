/* Test plugins for the loader; VARIANT_* (set by meson.build) picks which
 * rule of the ABI this build keeps or breaks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wolfguard/plugin.h>

/* Some variants export no full descriptor, leaving these unreferenced. */
#define MAYBE_UNUSED __attribute__((unused))

/* Counts init()/fini() calls, read by the tests through dlsym. */
struct test_counters {
	int inits, finis;
	char secret[64];
};
WG_EXPORT struct test_counters test_plugin_counters;

MAYBE_UNUSED static int test_init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err,
		     size_t errlen)
{
	const char *secret = host->config_string(cfg, "secret");
	if (secret && strcmp(secret, "fail") == 0) {
		snprintf(err, errlen, "secret says fail (%s)", host->config_where(cfg, "secret"));
		return -EINVAL;
	}
	test_plugin_counters.inits++;
	snprintf(test_plugin_counters.secret, sizeof(test_plugin_counters.secret), "%s",
		 secret ? secret : "");
	*state = &test_plugin_counters;
	return 0;
}

MAYBE_UNUSED static void test_fini(void *state)
{
	((struct test_counters *)state)->finis++;
}

MAYBE_UNUSED static void test_start(void *state, struct wg_auth *a)
{
}

MAYBE_UNUSED static void test_cont(void *state, struct wg_auth *a)
{
}

MAYBE_UNUSED static const struct wg_option test_options[] = {
	{"secret", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "the one accepted password"},
	{"tries", WG_OPT_INT, 0, 1, 10, "3", "attempts allowed"},
	{"verbose", WG_OPT_BOOL, 0, 0, 0, "false", "log more"},
	{"users", WG_OPT_STRING_LIST, 0, 0, 0, NULL, "who may log in"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

#if defined(VARIANT_TRANSPORT)
/* A transport that never offers a lane: enough for the loader. */
static int test_offer(void *state, struct wg_lane *lane, const struct wg_lane_offer *o, void **ctx)
{
	(void)state, (void)lane, (void)o, (void)ctx;
	return 1;
}
static void test_close(void *state, void *ctx)
{
	(void)state, (void)ctx;
}
static void test_send(void *state, const struct wg_lane_packet *p, size_t n)
{
	(void)state, (void)p, (void)n;
}
static void test_flush(void *state)
{
	(void)state;
}
/* Built by the first SDK with transports: stats() is optional. */
static const struct wg_transport_ops test_ops = {
	.struct_size = offsetof(struct wg_transport_ops, stats),
	.offer = test_offer,
	.close = test_close,
	.send = test_send,
	.flush = test_flush,
};
#elif defined(VARIANT_SHORT_OPS)
/* An ops table from an imagined older SDK: only its size field. */
MAYBE_UNUSED static const struct {
	uint32_t struct_size;
} test_ops = {sizeof(uint32_t)};
#else
MAYBE_UNUSED static const struct wg_auth_ops test_ops = {
#if defined(VARIANT_FIRST_OPS)
	/* Built before the accounting hooks were appended to the table. */
	.struct_size = offsetof(struct wg_auth_ops, session_start),
#else
	.struct_size = sizeof(struct wg_auth_ops),
#endif
	.start = test_start,
#if !defined(VARIANT_NO_START)
	.cont = test_cont,
#endif
};
#endif

#if defined(VARIANT_GOOD_B)
#define TEST_NAME "test-auth-b"
#elif defined(VARIANT_BAD_ABI)
#define TEST_NAME "test-bad-abi"
#elif defined(VARIANT_TRANSPORT)
#define TEST_NAME "test-transport"
#elif defined(VARIANT_UNKNOWN_KIND)
#define TEST_NAME "test-unknown-kind"
#elif defined(VARIANT_SHORT_OPS)
#define TEST_NAME "test-short-ops"
#elif defined(VARIANT_NO_START)
#define TEST_NAME "test-no-start"
#elif defined(VARIANT_FIRST_OPS)
#define TEST_NAME "test-first-ops"
#else
#define TEST_NAME "test-auth"
#endif

#if defined(VARIANT_TRANSPORT)
#define TEST_KIND WG_PLUGIN_TRANSPORT
#elif defined(VARIANT_UNKNOWN_KIND)
#define TEST_KIND 42
#else
#define TEST_KIND WG_PLUGIN_AUTH
#endif

#if defined(VARIANT_SHORT_STRUCT)
/* A descriptor from an imagined SDK that had fewer fields. */
WG_EXPORT const struct {
	uint32_t abi_version, struct_size;
	const char *name;
} wolfguard_plugin_v1 = {WG_ABI_VERSION, 16, "test-short-struct"};
#elif defined(VARIANT_NO_SYMBOL)
/* Exported under another name: what a plugin of another ABI would look like. */
WG_EXPORT const struct wg_plugin wolfguard_plugin_v0 = {WG_PLUGIN_HEADER, .name = "test-no-symbol"};
#else
WG_PLUGIN_DEFINE = {
#if defined(VARIANT_BAD_ABI)
	.abi_version = 2,
	.struct_size = sizeof(struct wg_plugin),
#else
	WG_PLUGIN_HEADER,
#endif
	.name = TEST_NAME,
	.version = "0.0.1",
	.description = "loader test plugin",
	.kind = TEST_KIND,
	.options = test_options,
	.init = test_init,
	.fini = test_fini,
	.ops = &test_ops,
};
#endif
