/* The plugin loader against small plugins that each keep or break one rule
 * of the ABI (tests/unit/plugins/test_plugin.c). */
#include <criterion/criterion.h>
#include <stddef.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_fixture.h"
#include "config/check_config.h"
#include "config/build_tree.h"
#include "modules/loader.h"

struct test_counters {
	int inits, finis;
	char secret[64];
};

static struct wg_err err;
static char *dir;

static void setup(void)
{
	wg_err_init(&err);
	dir = fixture_tmpdir();
}

static void teardown(void)
{
	fixture_rmrf(dir);
}

TestSuite(loader, .init = setup, .fini = teardown);

/* Opens test plugin `name`, expecting refusal with "<path>: <reason>\n". */
static void expect_refusal(const char *name, const char *expected_name, const char *reason)
{
	char *path = fixture_test_plugin(name);
	struct wg_loaded_plugin lp;
	cr_assert_eq(wg_plugin_open(path, expected_name, &lp, &err), -1, "%s was accepted", name);
	cr_assert_null(lp.handle);
	char want[8192];
	snprintf(want, sizeof(want), "%s: %s\n", path, reason);
	cr_assert_str_eq(err.text, want);
	free(path);
}

Test(loader, good_plugin_loads)
{
	char *path = fixture_test_plugin("test-auth");
	struct wg_loaded_plugin lp;
	cr_assert_eq(wg_plugin_open(path, "test-auth", &lp, &err), 0, "%s", err.text);
	cr_assert_str_eq(lp.desc->name, "test-auth");
	cr_assert_str_eq(lp.desc->version, "0.0.1");
	cr_assert_eq(lp.desc->kind, WG_PLUGIN_AUTH);
	cr_assert_eq(lp.desc->abi_version, WG_ABI_VERSION);
	cr_assert_str_eq(lp.path, path);
	cr_assert_not_null(lp.handle);
	cr_assert_str_eq(wg_plugin_kind_name(lp.desc->kind), "auth");
	wg_plugin_close(&lp);
	cr_assert_null(lp.handle);
	/* expected_name NULL: any name is fine. */
	cr_assert_eq(wg_plugin_open(path, NULL, &lp, &err), 0);
	wg_plugin_close(&lp);
	free(path);
}

Test(loader, wrong_abi_version_is_refused_naming_both)
{
	expect_refusal("test-bad-abi", "test-bad-abi",
		       "built for plugin ABI 2, this server speaks ABI 1; rebuild it against this SDK");
}

Test(loader, short_descriptor_is_refused)
{
	char reason[256];
	snprintf(reason, sizeof(reason),
		 "descriptor is 16 bytes, expected at least %zu: built against an older SDK?",
		 sizeof(struct wg_plugin));
	expect_refusal("test-short-struct", "test-short-struct", reason);
}

Test(loader, missing_symbol_is_refused)
{
	expect_refusal("test-no-symbol", "test-no-symbol",
		       "no wolfguard_plugin_v1 symbol: not a wolfguard plugin, or built for another ABI");
}

Test(loader, name_mismatch_is_refused)
{
	expect_refusal("test-auth", "auth-plain",
		       "plugin calls itself \"test-auth\", but the conf.d file enables \"auth-plain\"");
}

Test(loader, transport_kind_loads)
{
	char *so = fixture_test_plugin("test-transport");
	struct wg_loaded_plugin lp;

	cr_assert_eq(wg_plugin_open(so, "test-transport", &lp, &err), 0, "%s", err.text);
	cr_assert_eq(lp.desc->kind, WG_PLUGIN_TRANSPORT);
	cr_assert_str_eq(wg_plugin_kind_name(lp.desc->kind), "transport");
	wg_plugin_close(&lp);
	free(so);
}

Test(loader, unknown_kind_is_refused)
{
	expect_refusal("test-unknown-kind", "test-unknown-kind",
		       "unknown plugin kind 42 (this server knows auth=1, routing=2, log=3, policy=4, transport=5)");
}

Test(loader, short_ops_table_is_refused)
{
	char reason[256];
	snprintf(reason, sizeof(reason),
		 "auth ops are 4 bytes, expected at least %zu: built against an older SDK?",
		 offsetof(struct wg_auth_ops, session_start));
	expect_refusal("test-short-ops", "test-short-ops", reason);
}

/* Members appended to an ops table within one ABI version are optional: a
 * plugin built before them still loads, and the host never calls them. */
Test(loader, ops_table_without_appended_members_loads)
{
	char *path = fixture_test_plugin("test-first-ops");
	struct wg_loaded_plugin lp;
	cr_assert_eq(wg_plugin_open(path, "test-first-ops", &lp, &err), 0, "%s", err.text);
	const struct wg_auth_ops *ops = lp.desc->ops;
	cr_assert(!WG_OPS_HAS(ops, session_start));
	cr_assert(!WG_OPS_HAS(ops, session_stop));
	cr_assert(!WG_OPS_HAS(ops, conversation_end));
	wg_plugin_close(&lp);
	free(path);
}

Test(loader, missing_required_callback_is_refused)
{
	expect_refusal("test-no-start", "test-no-start", "auth ops lack the required callback cont()");
}

Test(loader, missing_file_is_refused_with_dlerror)
{
	char *path = fixture_test_plugin("does-not-exist");
	struct wg_loaded_plugin lp;
	cr_assert_eq(wg_plugin_open(path, NULL, &lp, &err), -1);
	char want[4200];
	snprintf(want, sizeof(want), "%s: cannot load: cannot open shared object file: No such file or directory\n", path);
	cr_assert_str_eq(err.text, want);
	free(path);
}

/* A conf.d with one file per (name, json) pair; returns the loaded conf. */
static struct wg_conf *conf_with(const char *const *files)
{
	for (size_t i = 0; files[i]; i += 2)
		fixture_write(dir, files[i], files[i + 1]);
	struct wg_conf *conf = NULL;
	cr_assert_eq(wg_conf_load(dir, &conf, &err), 0, "%s", err.text);
	return conf;
}

static char *plugin_file(const char *name, const char *options)
{
	char *path = fixture_test_plugin(name), *json = NULL;
	cr_assert(asprintf(&json, "{\"plugin\": \"%s\", \"path\": \"%s\", \"options\": %s}", name, path,
			   options) > 0);
	free(path);
	return json;
}

Test(loader, load_order_follows_conf_d_and_init_fini_are_paired)
{
	char *b = plugin_file("test-auth-b", "{\"secret\": \"b\"}");
	char *a = plugin_file("test-auth", "{\"secret\": \"a\", \"tries\": 5}");
	const char *files[] = {"20-a.json", a, "10-z.json", b, NULL};
	struct wg_conf *conf = conf_with(files);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), 0, "%s", err.text);
	cr_assert_eq(ps.n, 2);
	cr_assert_str_eq(ps.v[0].desc->name, "test-auth-b", "10-z.json comes first");
	cr_assert_str_eq(ps.v[1].desc->name, "test-auth");
	cr_assert_eq(ps.v[0].file, &conf->files[0]);
	cr_assert_null(wg_plugins_find_kind(&ps, WG_PLUGIN_AUTH), "nothing initialised yet");

	struct test_counters *ca = dlsym(ps.v[1].handle, "test_plugin_counters");
	struct test_counters *cb = dlsym(ps.v[0].handle, "test_plugin_counters");
	cr_assert(ca && cb && ca != cb);
	cr_assert_eq(ca->inits, 0, "load does not init");

	struct wg_host host = fixture_host();
	cr_assert_eq(wg_plugins_init(&ps, &host, &err), 0, "%s", err.text);
	cr_assert_eq(ca->inits, 1);
	cr_assert_eq(cb->inits, 1);
	cr_assert_str_eq(ca->secret, "a", "init saw its own validated options");
	cr_assert_eq(wg_config_int(ps.v[1].file->cfg, "tries"), 5);
	cr_assert_eq(wg_config_int(ps.v[0].file->cfg, "tries"), 3, "default from the plugin's table");
	cr_assert_eq(wg_plugins_find_kind(&ps, WG_PLUGIN_AUTH), &ps.v[0]);
	cr_assert_null(wg_plugins_find_kind(&ps, WG_PLUGIN_ROUTING));

	/* Reaching into the objects after unload would be a use after dlclose,
	 * so check fini through a plugin opened a second time: dlopen shares
	 * the mapping (and the counters) while one handle stays open. */
	char *pa = fixture_test_plugin("test-auth");
	void *keep = dlopen(pa, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(keep);
	wg_plugins_unload(&ps);
	struct test_counters *kept = dlsym(keep, "test_plugin_counters");
	cr_assert_eq(kept->finis, 1);
	dlclose(keep);
	free(pa);
	wg_conf_free(conf);
	free(a);
	free(b);
}

Test(loader, options_are_validated_with_positions_and_nothing_stays_open)
{
	char *a = plugin_file("test-auth", "{\"secert\": \"x\", \"tries\": 11}");
	char *bad = plugin_file("test-bad-abi", "{}");
	const char *files[] = {"10-a.json", a, "20-bad.json", bad, NULL};
	struct wg_conf *conf = conf_with(files);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), -1);
	cr_assert_eq(ps.n, 0);
	cr_assert_null(ps.v);
	char *so = fixture_test_plugin("test-bad-abi"), *want = NULL;
	/* Column of "secert" after the long path in the same line. */
	const char *line = a;
	int col_secert = (int)(strstr(line, "\"secert\"") - line) + 1;
	int col_tries = (int)(strstr(line, "\"tries\"") - line) + 1;
	int col_options = (int)(strstr(line, "\"options\"") - line) + 1;
	cr_assert(asprintf(&want,
			   "%s/10-a.json:1:%d: options.secert: unknown key (did you mean \"secret\"?)\n"
			   "%s/10-a.json:1:%d: options.tries: 11 is out of range [1, 10]\n"
			   "%s/10-a.json:1:%d: options.secret: required key is missing\n"
			   "%s/20-bad.json: %s: built for plugin ABI 2, this server speaks ABI 1; rebuild it against this SDK\n",
			   dir, col_secert, dir, col_tries, dir, col_options, dir, so) > 0);
	cr_assert_str_eq(err.text, want);
	free(want);
	free(so);
	wg_conf_free(conf);
	free(a);
	free(bad);
}

Test(loader, init_failure_names_file_and_plugin_and_finis_the_others)
{
	char *b = plugin_file("test-auth-b", "{\"secret\": \"ok\"}");
	char *a = plugin_file("test-auth", "{\"secret\": \"fail\"}");
	const char *files[] = {"10-b.json", b, "20-a.json", a, NULL};
	struct wg_conf *conf = conf_with(files);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), 0, "%s", err.text);
	struct test_counters *cb = dlsym(ps.v[0].handle, "test_plugin_counters");
	struct wg_host host = fixture_host();
	cr_assert_eq(wg_plugins_init(&ps, &host, &err), -1);
	cr_assert_eq(cb->inits, 1);
	cr_assert_eq(cb->finis, 1, "the one initialised before the failure was shut down");
	cr_assert_not(ps.v[0].initialized);
	int col = (int)(strstr(a, "\"secret\"") - a) + 1;
	char *want = NULL;
	cr_assert(asprintf(&want, "%s/20-a.json: test-auth: init failed: secret says fail (%s/20-a.json:1:%d)\n",
			   dir, dir, col) > 0);
	cr_assert_str_eq(err.text, want);
	free(want);
	wg_plugins_unload(&ps);
	wg_conf_free(conf);
	free(a);
	free(b);
}

Test(loader, plugins_are_found_by_name_in_plugin_dir)
{
	const char *root = getenv("WOLFGUARD_BUILD_ROOT");
	cr_assert_not_null(root, "run through meson test");
	char *server = NULL;
	cr_assert(asprintf(&server, "{\"server\": {\"plugin-dir\": \"%s/tests/unit/plugins\"}}", root) > 0);
	const char *files[] = {"00-server.json", server, "10-a.json",
			       "{\"plugin\": \"test-auth\", \"options\": {\"secret\": \"s\"}}", NULL};
	struct wg_conf *conf = conf_with(files);
	char want[4096];
	snprintf(want, sizeof(want), "%s/tests/unit/plugins", root);
	cr_assert_str_eq(wg_plugin_dir(conf), want);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), 0, "%s", err.text);
	snprintf(want, sizeof(want), "%s/tests/unit/plugins/test-auth.so", root);
	cr_assert_str_eq(ps.v[0].path, want);
	wg_plugins_unload(&ps);
	wg_conf_free(conf);
	free(server);
}

Test(loader, plugin_dir_falls_back_to_environment_then_build_default)
{
	const char *files[] = {"00-server.json", "{\"server\": {}}", NULL};
	struct wg_conf *conf = conf_with(files);
	setenv("WOLFGUARD_PLUGIN_DIR", "/from/env", 1);
	cr_assert_str_eq(wg_plugin_dir(conf), "/from/env");
	unsetenv("WOLFGUARD_PLUGIN_DIR");
	const char *def = wg_plugin_dir(conf); /* the compiled-in $libdir/wolfguard/plugins */
	cr_assert_eq(def[0], '/');
	cr_assert(strlen(def) > 18 && strcmp(def + strlen(def) - 18, "/wolfguard/plugins") == 0, "%s", def);
	wg_conf_free(conf);
}

Test(loader, relative_path_is_taken_from_conf_d)
{
	const char *files[] = {"10-a.json", "{\"plugin\": \"test-auth\", \"path\": \"sub/x.so\"}", NULL};
	struct wg_conf *conf = conf_with(files);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), -1);
	char want[4096];
	snprintf(want, sizeof(want), "%s/10-a.json: %s/sub/x.so: cannot load: ", dir, dir);
	cr_assert_eq(strncmp(err.text, want, strlen(want)), 0, "%s", err.text);
	wg_conf_free(conf);
}

/* ---- --check-config ---------------------------------------------------- */

static int check(char **out)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int rc = wg_check_config(dir, f);
	fclose(f);
	return rc;
}

Test(loader, check_config_summarises_a_valid_conf_d)
{
	char *a = plugin_file("test-auth", "{\"secret\": \"s\"}");
	const char *files[] = {"00-server.json",
			       "{\"server\": {\"certificate\": \"c.pem\", \"private-key\": \"k.pem\"}}",
			       "10-a.json", a, NULL};
	for (size_t i = 0; files[i]; i += 2)
		fixture_write(dir, files[i], files[i + 1]);
	char *out = NULL;
	cr_assert_eq(check(&out), 0, "%s", out);
	cr_assert_str_eq(out, "conf.d OK: server + 1 plugin: test-auth (auth, 0.0.1)\n"
			      "note: no routing plugin is enabled: sessions get no addresses\n");
	free(out);
	free(a);
}

Test(loader, check_config_reports_every_error_and_fails)
{
	char *a = plugin_file("test-auth", "{\"secret\": 5}");
	char *bad = plugin_file("test-unknown-kind", "{}");
	const char *files[] = {"00-server.json", "{\"server\": {\"port\": 0, \"certificate\": \"c\"}}",
			       "10-a.json", a, "20-t.json", bad, NULL};
	for (size_t i = 0; files[i]; i += 2)
		fixture_write(dir, files[i], files[i + 1]);
	char *out = NULL, *want = NULL, *so = fixture_test_plugin("test-unknown-kind");
	int col = (int)(strstr(a, "\"secret\"") - a) + 1;
	cr_assert_eq(check(&out), 1);
	cr_assert(asprintf(&want,
			   "%s/00-server.json:1:13: server.port: 0 is out of range [1, 65535]\n"
			   "%s/00-server.json:1:2: server.private-key: required key is missing\n"
			   "%s/10-a.json:1:%d: options.secret: expected string, got integer\n"
			   "%s/20-t.json: %s: unknown plugin kind 42 (this server knows auth=1, routing=2, log=3, policy=4, transport=5)\n"
			   "%s: 4 errors\n",
			   dir, dir, dir, col, dir, so, dir) > 0);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
	free(so);
	free(a);
	free(bad);
}

Test(loader, check_config_stops_at_a_broken_file)
{
	fixture_write(dir, "10-x.json", "{\"server\": ");
	char *out = NULL, *want = NULL;
	cr_assert_eq(check(&out), 1);
	cr_assert(asprintf(&want, "%s/10-x.json:1:11: invalid JSON: unexpected token near end of file\n%s: 1 error\n",
			   dir, dir) > 0);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
}

Test(loader, init_registers_log_plugins_as_sinks_and_unload_removes_them)
{
	char *so = fixture_plugin("log-json"), *json = NULL, logfile[4200];
	snprintf(logfile, sizeof(logfile), "%s/out.jsonl", dir);
	cr_assert(asprintf(&json, "{\"plugin\": \"log-json\", \"path\": \"%s\", \"options\": {\"path\": \"%s\"}}",
			   so, logfile) > 0);
	const char *files[] = {"10-log.json", json, NULL};
	struct wg_conf *conf = conf_with(files);
	struct wg_plugins ps;
	cr_assert_eq(wg_plugins_load(conf, &ps, &err), 0, "%s", err.text);
	struct wg_host host = fixture_host();
	cr_assert_eq(wg_plugins_init(&ps, &host, &err), 0, "%s", err.text);
	/* Registering again (as a caller might) must not double lines. */
	cr_assert_eq(wg_log_add_sink(ps.v[0].desc->ops, ps.v[0].state), 0);
	wg_log(NULL, WG_LOG_WARN, "through the plugin");
	wg_plugins_unload(&ps);
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, STDERR_FILENO);
	wg_log(NULL, WG_LOG_WARN, "after unload: stderr again");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(devnull);

	FILE *f = fopen(logfile, "r");
	cr_assert_not_null(f);
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_assert(strstr(text, "\"msg\":\"through the plugin\""), "%s", text);
	cr_assert_eq(strchr(text, '\n'), text + n - 1, "exactly one line: %s", text);
	wg_conf_free(conf);
	free(json);
	free(so);
}

/* A binary in a build tree: dir/core/wolfguard beside the marker, plugins in
 * dir/plugins. */
static void write_marker(const char *content)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/core", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/core/%s", dir, WG_BUILD_TREE_MARKER);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(content, f);
	fclose(f);
}

Test(loader, build_tree_marker_names_the_plugin_dir_relative_to_the_binary)
{
	char exe[4096], out[4096], want[4096];
	snprintf(want, sizeof(want), "%s/plugins", dir);
	cr_assert_eq(mkdir(want, 0755), 0);
	write_marker("../plugins\n");
	snprintf(exe, sizeof(exe), "%s/core/wolfguard", dir);
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/core/../plugins", dir);
	cr_assert_str_eq(out, want);
	/* An absolute line is taken as it is. */
	snprintf(want, sizeof(want), "%s/plugins\n", dir);
	write_marker(want);
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, sizeof(out)), 0);
	want[strlen(want) - 1] = '\0';
	cr_assert_str_eq(out, want);
}

Test(loader, no_marker_or_a_bad_one_is_not_a_build_tree)
{
	char exe[4096], out[4096];
	/* An installed binary: no marker beside it. */
	snprintf(exe, sizeof(exe), "%s/sbin/wolfguard", dir);
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, sizeof(out)), -1);
	cr_assert_eq(wg_build_tree_plugin_dir("wolfguard", out, sizeof(out)), -1);
	snprintf(exe, sizeof(exe), "%s/core/wolfguard", dir);
	/* A marker naming a directory that is gone, or nothing. */
	write_marker("../plugins\n");
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, sizeof(out)), -1);
	write_marker("\n");
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, sizeof(out)), -1);
	/* Too small an output buffer is refused, not truncated. */
	write_marker("/");
	cr_assert_eq(wg_build_tree_plugin_dir(exe, out, 1), -1);
}
