/* The SDK as an outside developer sees it: install the project into a
 * staging DESTDIR, build examples/plugin-hello with its Makefile against
 * that (tests/unit/sdk_example.sh), and load the result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "conf_fixture.h"
#include "loader.h"

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
	free(cflags);
	free(abi);
	free(so);
	free(cmd);
	fixture_rmrf(work);
}
