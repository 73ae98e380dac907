/* auth-hello: the smallest useful wolfguard plugin, built out of tree
 * against the installed SDK. It asks for a user name and password and lets
 * in anyone whose password is the configured "secret" (and, if "user" is
 * set, only that user). An example, not a way to run a VPN.
 *
 * It writes only the check: the SDK's adapter (wolfguard/auth_check.h)
 * holds the conversation, the forms, the worker thread the check runs on
 * (a real backend blocks: a directory, a database) and the per-login
 * state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/auth_check.h>
#include <wolfguard/plugin.h>

struct hello {
	struct wg_check check;      /* first: the adapter's part */
	const struct wg_host *host; /* valid for the plugin's lifetime */
	char *secret;               /* owned */
	char *user;                 /* owned; NULL: any user name */
};

/* Compares without an early exit, so timing does not reveal the secret. */
static int secret_matches(const char *given, const char *secret)
{
	size_t gl = strlen(given), sl = strlen(secret);
	unsigned char diff = (unsigned char)(gl != sl);
	for (size_t i = 0; i < gl; i++)
		diff |= (unsigned char)(given[i] ^ secret[i % (sl ? sl : 1)]);
	return diff == 0;
}

/* The one question, asked on a worker thread: may block. */
static void hello_check(void *plugin, const struct wg_check_request *q, struct wg_check_result *r)
{
	struct hello *h = plugin;

	if (h->user && strcmp(q->user, h->user) != 0) {
		wg_check_reject(r, "Login failed", "user is not the configured one");
		return;
	}
	if (!secret_matches(q->password, h->secret)) {
		wg_check_reject(r, "Login failed", "wrong password");
		return;
	}
	wg_check_accept(r);
}

static const struct wg_check_ops hello_check_ops = {
	.name = "auth-hello",
	.user_max = 128,
	.password_max = 256,
	.check = hello_check,
};

static int hello_init(const struct wg_host *host, const struct wg_config *cfg, void **state,
		      char *err, size_t errlen)
{
	/* Options arrive validated: "secret" is present and a string. */
	const char *secret = host->config_string(cfg, "secret");
	const char *user = host->config_string(cfg, "user");
	if (strlen(secret) < 8) {
		snprintf(err, errlen, "%s: secret: use at least 8 characters",
			 host->config_where(cfg, "secret"));
		return -EINVAL;
	}
	struct hello *h = calloc(1, sizeof(*h));
	if (!h || !(h->secret = strdup(secret)) || (user && !(h->user = strdup(user)))) {
		if (h)
			free(h->secret);
		free(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->host = host;
	if (wg_check_init(&h->check, host, &hello_check_ops, h, err, errlen) < 0) {
		free(h->secret);
		free(h->user);
		free(h);
		return -EINVAL;
	}
	*state = h;
	host->log(NULL, WG_LOG_INFO, "auth-hello: ready%s%s", user ? " for user " : "", user ? user : "");
	return 0;
}

static void hello_fini(void *state)
{
	struct hello *h = state;
	free(h->secret);
	free(h->user);
	free(h);
}

static const struct wg_option hello_options[] = {
	{"secret", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "the password everyone uses"},
	{"user", WG_OPT_STRING, 0, 0, 0, NULL, "accept only this user name"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* start, cont and conversation_end: the adapter's. */
static const struct wg_auth_ops hello_ops = {WG_CHECK_AUTH_OPS};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-hello",
	.version = "1.0.0",
	.description = "example: one shared secret",
	.kind = WG_PLUGIN_AUTH,
	.options = hello_options,
	.init = hello_init,
	.fini = hello_fini,
	.ops = &hello_ops,
};
