/* auth-hello: the smallest useful wolfguard plugin, built out of tree
 * against the installed SDK. It asks for a user name and password and lets
 * in anyone whose password is the configured "secret" (and, if "user" is
 * set, only that user). An example, not a way to run a VPN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

struct hello {
	const struct wg_host *host; /* valid for the plugin's lifetime */
	char *secret;               /* owned */
	char *user;                 /* owned; NULL: any user name */
};

static const struct wg_auth_field login_fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
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

static void hello_start(void *state, struct wg_auth *a)
{
	struct hello *h = state;
	h->host->auth_prompt(a, "Say hello to wolfguard", login_fields);
}

static void hello_cont(void *state, struct wg_auth *a)
{
	struct hello *h = state;
	const char *user = h->host->auth_field(a, "username");
	const char *pass = h->host->auth_field(a, "password");
	if (!user || !*user || !pass) {
		h->host->auth_fail(a, "Login failed", "username or password missing");
		return;
	}
	if (h->user && strcmp(user, h->user) != 0) {
		h->host->auth_fail(a, "Login failed", "user is not the configured one");
		return;
	}
	if (!secret_matches(pass, h->secret)) {
		h->host->auth_fail(a, "Login failed", "wrong password");
		return;
	}
	h->host->auth_succeed(a, user, NULL);
}

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

static const struct wg_auth_ops hello_ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = hello_start,
	.cont = hello_cont,
	.cancel = NULL, /* every answer is given inside start()/cont() */
};

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
