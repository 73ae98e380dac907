/* auth-cert: a login step that admits the holder of a client certificate.
 *
 * The TLS handshake has already verified the certificate against the
 * server's ca-file (and crl-file); this step only names the user after it
 * (common name, e-mail or DNS SAN) and, optionally, a group after its
 * organisational unit. Alone it is certificate-only login; placed before a
 * password or OTP step in conf.d it is the first factor of a chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

struct cert_state {
	const struct wg_host *host;
	const char *user_from;   /* "cn", "email" or "dns" */
	const char *group_from;  /* "ou" or NULL */
};

static const struct wg_option options[] = {
	{"user-from", WG_OPT_STRING, 0, 0, 0, "cn", "certificate field that names the user: cn, email or dns"},
	{"group-from-ou", WG_OPT_BOOL, 0, 0, 0, "false", "use the subject's OU as the user's group"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static void start(void *state, struct wg_auth *a)
{
	struct cert_state *st = state;
	const struct wg_host *h = st->host;
	const char *user = h->auth_cert(a, st->user_from);
	const char *group = st->group_from ? h->auth_cert(a, st->group_from) : NULL;
	const char *groups[2] = {group, NULL};
	char why[256];

	if (!h->auth_cert(a, "serial")) {
		h->auth_fail(a, "A valid client certificate is required.", "no client certificate presented");
		return;
	}
	if (!user) {
		snprintf(why, sizeof(why), "certificate %s has no %s to name the user",
			 h->auth_cert(a, "subject") ? h->auth_cert(a, "subject") : "?", st->user_from);
		h->auth_fail(a, "Your certificate does not name a user.", why);
		return;
	}
	h->auth_succeed(a, user, group ? groups : NULL);
}

/* Nothing is ever asked, so no answer can come back. */
static void cont(void *state, struct wg_auth *a)
{
	start(state, a);
}

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct cert_state *st;
	const char *from = host->config_string(cfg, "user-from");

	if (!WG_HOST_HAS(host, auth_cert)) {
		snprintf(err, errlen, "this server does not pass client certificates to plugins (too old)");
		return -1;
	}
	if (strcmp(from, "cn") != 0 && strcmp(from, "email") != 0 && strcmp(from, "dns") != 0) {
		snprintf(err, errlen, "%s: user-from: must be cn, email or dns, not \"%s\"",
			 host->config_where(cfg, "user-from"), from);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->host = host;
	st->user_from = from;
	st->group_from = host->config_bool(cfg, "group-from-ou") ? "ou" : NULL;
	*state = st;
	return 0;
}

static void fini(void *state)
{
	free(state);
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = start,
	.cont = cont,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-cert",
	.version = "1.0",
	.description = "login by verified client certificate (user from CN, e-mail or DNS name)",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
