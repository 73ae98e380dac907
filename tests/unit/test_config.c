/* conf.d loading and option validation: every message is checked word for
 * word, because its file:line:column is the point of it. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_dir_fixture.h"
#include "config/config.h"
#include "util/err.h"
#include "config/server_options.h"

TestSuite(config, .init = conf_dir_setup, .fini = conf_dir_teardown);

/* The expected error text, with the temp dir substituted for each '@'. */
static void expect_errors(const char *fmt)
{
	char want[WG_ERR_MAX];
	size_t at = 0;
	for (const char *p = fmt; *p && at + strlen(dir) + 1 < sizeof(want); p++) {
		if (*p == '@') {
			at += (size_t)snprintf(want + at, sizeof(want) - at, "%s", dir);
		} else {
			want[at++] = *p;
		}
	}
	want[at] = '\0';
	cr_assert_str_eq(err.text, want);
}

static int load(void)
{
	return wg_conf_load(dir, &conf, &err);
}

static const char good_server[] =
	"{\n"
	"  \"server\": {\n"
	"    \"certificate\": \"/etc/wolfguard/cert.pem\",\n"
	"    \"private-key\": \"/etc/wolfguard/key.pem\",\n"
	"    \"port\": 8443,\n"
	"    \"isolate-clients\": false\n"
	"  }\n"
	"}\n";

Test(config, good_conf_loads_with_defaults_and_positions)
{
	fixture_write(dir, "00-server.json", good_server);
	fixture_write(dir, "20-auth.json",
		      "{\"plugin\": \"auth-plain\", \"options\": {\"password-file\": \"/x\"}}");
	fixture_write(dir, "30-log.json", "{\"plugin\": \"log-json\", \"path\": \"/opt/log-json.so\"}");
	cr_assert_eq(load(), 0, "%s", err.text);
	cr_assert_eq(err.count, 0);
	cr_assert_eq(conf->n_files, 3);
	cr_assert_null(conf->files[0].plugin);
	cr_assert_eq(conf->server, conf->files[0].cfg);
	cr_assert_str_eq(conf->files[1].plugin, "auth-plain");
	cr_assert_null(conf->files[1].so_path);
	cr_assert_str_eq(conf->files[2].so_path, "/opt/log-json.so");

	cr_assert_eq(wg_config_validate(conf->server, wg_server_options, &err), 0, "%s", err.text);
	cr_assert_eq(wg_config_int(conf->server, "port"), 8443);
	cr_assert_eq(wg_config_int(conf->server, "udp-port"), 443, "default from the table");
	cr_assert_str_eq(wg_config_string(conf->server, "listen"), "0.0.0.0");
	cr_assert_eq(wg_config_bool(conf->server, "isolate-clients"), 0, "written false beats default true");
	cr_assert_null(wg_config_string(conf->server, "banner"), "no default");

	char where[4200];
	snprintf(where, sizeof(where), "%s/00-server.json:5:5", dir);
	cr_assert_str_eq(wg_config_where(conf->server, "port"), where);
	snprintf(where, sizeof(where), "%s/00-server.json", dir);
	cr_assert_str_eq(wg_config_where(conf->server, "banner"), where, "absent key: the file");
	cr_assert_str_eq(wg_config_origin(conf->server), where);

	/* A plugin's options are reached the same way. */
	cr_assert_str_eq(wg_config_string(conf->files[1].cfg, "password-file"), "/x");
	cr_assert_eq(wg_config_list_size(conf->files[2].cfg, "anything"), 0, "no options: empty");
}

Test(config, files_are_read_in_bytewise_lexical_order_and_others_ignored)
{
	fixture_write(dir, "20-b.json", "{\"plugin\": \"b\"}");
	fixture_write(dir, "10-a.json", "{\"plugin\": \"a\"}");
	fixture_write(dir, "9-c.json", "{\"plugin\": \"c\"}");
	fixture_write(dir, "B-upper.json", "{\"plugin\": \"upper\"}");
	fixture_write(dir, "15-off.json.disabled", "{\"plugin\": \"off\"}");
	fixture_write(dir, ".hidden.json", "{\"plugin\": \"hidden\"}");
	fixture_write(dir, "README", "not json at all");
	char sub[4200];
	snprintf(sub, sizeof(sub), "%s/dir.json", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(load(), 0, "%s", err.text);
	const char *want[] = {"a", "b", "c", "upper"}; /* '1' < '2' < '9' < 'B' */
	cr_assert_eq(conf->n_files, 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(conf->files[i].plugin, want[i], "position %zu", i);
	/* No server file: an empty server section whose required keys are missing. */
	cr_assert_not_null(conf->server);
	cr_assert_eq(wg_config_validate(conf->server, wg_server_options, &err), -1);
	expect_errors("@: server.certificate: required key is missing\n"
		      "@: server.private-key: required key is missing\n");
}

Test(config, syntax_error_names_line_and_column)
{
	fixture_write(dir, "10-x.json", "{\n  \"server\": {\n    \"port\": 443,\n  }\n}\n");
	cr_assert_eq(load(), -1);
	cr_assert_null(conf);
	expect_errors("@/10-x.json:4:3: invalid JSON: string or '}' expected near '}'\n");
}

Test(config, duplicate_key_is_an_error)
{
	fixture_write(dir, "10-x.json", "{\"plugin\": \"a\",\n \"plugin\": \"b\"}");
	cr_assert_eq(load(), -1);
	expect_errors("@/10-x.json:2:9: invalid JSON: duplicate object key near '\"plugin\"'\n");
}

Test(config, unknown_top_level_key_suggests_and_missing_kind_is_reported)
{
	fixture_write(dir, "10-x.json", "{\n  \"plugn\": \"auth-plain\"\n}\n");
	fixture_write(dir, "20-y.json", "{\"server\": {}, \"colour\": 1}");
	cr_assert_eq(load(), -1);
	expect_errors("@/10-x.json:2:3: plugn: unknown key (did you mean \"plugin\"?)\n"
		      "@/10-x.json:1:1: (top level): a conf.d file needs \"server\" or \"plugin\" (neither is present)\n"
		      "@/20-y.json:1:16: colour: unknown key (a conf.d file holds \"server\", or \"plugin\" with \"path\" and \"options\")\n");
}

Test(config, file_must_be_an_object)
{
	fixture_write(dir, "10-x.json", "[1, 2]");
	cr_assert_eq(load(), -1);
	expect_errors("@/10-x.json:1:1: (top level): expected a JSON object, got array\n");
}

Test(config, two_server_files_are_an_error)
{
	fixture_write(dir, "00-server.json", good_server);
	fixture_write(dir, "01-more.json", "\n\n  {\"server\": {\"port\": 1}}");
	cr_assert_eq(load(), -1);
	expect_errors("@/01-more.json:3:4: server: a second \"server\" section (the first is in @/00-server.json)\n");
}

Test(config, plugin_enabled_twice_is_an_error)
{
	fixture_write(dir, "10-a.json", "{\"plugin\": \"auth-plain\"}");
	fixture_write(dir, "11-b.json", "{\"options\": {}, \"plugin\": \"auth-plain\"}");
	cr_assert_eq(load(), -1);
	expect_errors("@/11-b.json:1:17: plugin: \"auth-plain\" is already enabled by @/10-a.json\n");
}

Test(config, wrong_shapes_in_plugin_and_server_files)
{
	fixture_write(dir, "10-a.json", "{\"plugin\": \"x\", \"options\": [1], \"path\": 3}");
	fixture_write(dir, "11-b.json", "{\"plugin\": 7}");
	fixture_write(dir, "12-c.json", "{\"plugin\": \"../etc/evil\"}");
	fixture_write(dir, "13-d.json", "{\"server\": \"yes\", \"options\": {}}");
	fixture_write(dir, "14-e.json", "{\"server\": {}, \"plugin\": \"x2\"}");
	cr_assert_eq(load(), -1);
	expect_errors(
		"@/10-a.json:1:33: path: expected a non-empty string, got integer\n"
		"@/10-a.json:1:17: options: expected object, got array\n"
		"@/11-b.json:1:2: plugin: expected string, got integer\n"
		"@/12-c.json:1:2: plugin: \"../etc/evil\" is not a valid plugin name (letters, digits, '-', '_', '.')\n"
		"@/13-d.json:1:19: options: only a plugin file has \"options\"; server keys go inside \"server\"\n"
		"@/13-d.json:1:2: server: expected object, got string\n"
		"@/14-e.json:1:16: plugin: a conf.d file holds either \"server\" or \"plugin\", not both\n");
}

Test(config, missing_directory_is_reported)
{
	char *missing = NULL;
	cr_assert(asprintf(&missing, "%s/nope", dir) > 0);
	cr_assert_eq(wg_conf_load(missing, &conf, &err), -1);
	cr_assert_null(conf);
	char want[4300];
	snprintf(want, sizeof(want), "%s: cannot open conf.d directory: No such file or directory\n", missing);
	cr_assert_str_eq(err.text, want);
	free(missing);
}

/* ---- option validation ------------------------------------------------- */

static const struct wg_option opts[] = {
	{"password-file", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, ""},
	{"tries", WG_OPT_INT, 0, 1, 10, "3", ""},
	{"any-int", WG_OPT_INT, 0, 0, 0, "-5", ""},
	{"verbose", WG_OPT_BOOL, 0, 0, 0, "true", ""},
	{"routes", WG_OPT_STRING_LIST, 0, 0, 0, NULL, ""},
	{"greeting", WG_OPT_STRING, 0, 0, 0, "hello", ""},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static struct wg_config *from(const char *text)
{
	struct wg_config *cfg = wg_config_from_string("t.json", text, &err);
	cr_assert_not_null(cfg, "%s", err.text);
	return cfg;
}

Test(config, every_validation_error_with_position)
{
	struct wg_config *cfg = from("{\n"
				     "  \"pasword-file\": \"/x\",\n"
				     "  \"tries\": \"3\",\n"
				     "  \"any-int\": 1.5,\n"
				     "  \"verbose\": 1,\n"
				     "  \"routes\": [\"10.0.0.0/8\", 7, \"fd00::/8\", null],\n"
				     "  \"zzzzzz\": true\n"
				     "}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), -1);
	cr_assert_str_eq(err.text,
			 "t.json:2:3: pasword-file: unknown key (did you mean \"password-file\"?)\n"
			 "t.json:3:3: tries: expected integer, got string\n"
			 "t.json:4:3: any-int: expected integer, got real\n"
			 "t.json:5:3: verbose: expected boolean, got integer\n"
			 "t.json:6:28: routes[1]: expected string, got integer\n"
			 "t.json:6:43: routes[3]: expected string, got null\n"
			 "t.json:7:3: zzzzzz: unknown key\n"
			 "t.json:1:1: password-file: required key is missing\n");
	cr_assert_eq(err.count, 8);
	wg_config_free(cfg);
}

Test(config, integer_range_is_inclusive_and_zero_zero_is_unbounded)
{
	struct wg_config *cfg = from("{\"password-file\": \"p\", \"tries\": 10, \"any-int\": -99999999999}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), 0, "%s", err.text);
	wg_config_free(cfg);
	cfg = from("{\"password-file\": \"p\",\n \"tries\": 11}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), -1);
	cr_assert_str_eq(err.text, "t.json:2:2: tries: 11 is out of range [1, 10]\n");
	wg_config_free(cfg);
	wg_err_init(&err);
	cfg = from("{\"password-file\": \"p\", \"tries\": 0}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), -1);
	cr_assert_str_eq(err.text, "t.json:1:24: tries: 0 is out of range [1, 10]\n");
	wg_config_free(cfg);
}

Test(config, accessors_return_values_then_defaults)
{
	struct wg_config *cfg = from("{\"password-file\": \"/etc/pw\", \"routes\": [\"a\", \"b\"]}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), 0);
	cr_assert_str_eq(wg_config_string(cfg, "password-file"), "/etc/pw");
	cr_assert_str_eq(wg_config_string(cfg, "greeting"), "hello");
	cr_assert_eq(wg_config_int(cfg, "tries"), 3);
	cr_assert_eq(wg_config_int(cfg, "any-int"), -5);
	cr_assert_eq(wg_config_bool(cfg, "verbose"), 1);
	cr_assert_eq(wg_config_list_size(cfg, "routes"), 2);
	cr_assert_str_eq(wg_config_list_item(cfg, "routes", 1), "b");
	cr_assert_null(wg_config_list_item(cfg, "routes", 2));
	cr_assert_null(wg_config_string(cfg, "not-an-option"));
	cr_assert_eq(wg_config_int(cfg, "greeting"), 0, "type mismatch gives 0, not a crash");
	cr_assert_str_eq(wg_config_where(cfg, "routes"), "t.json:1:30");
	wg_config_free(cfg);
}

Test(config, empty_table_rejects_every_key)
{
	static const struct wg_option none[] = {{NULL, 0, 0, 0, 0, NULL, NULL}};
	struct wg_config *cfg = from("{\"a\": 1}");
	cr_assert_eq(wg_config_validate(cfg, none, &err), -1);
	cr_assert_str_eq(err.text, "t.json:1:2: a: unknown key (no options are accepted here)\n");
	wg_config_free(cfg);
}

Test(config, plugin_options_errors_name_the_options_path)
{
	fixture_write(dir, "20-auth.json",
		      "{\n"
		      "  \"plugin\": \"auth-x\",\n"
		      "  \"options\": {\n"
		      "\t\"tries\": 99, \"rotues\": [] }\n"
		      "}\n");
	cr_assert_eq(load(), 0, "%s", err.text);
	cr_assert_eq(wg_config_validate(conf->files[0].cfg, opts, &err), -1);
	expect_errors("@/20-auth.json:4:2: options.tries: 99 is out of range [1, 10]\n"
		      "@/20-auth.json:4:15: options.rotues: unknown key (did you mean \"routes\"?)\n"
		      "@/20-auth.json:3:3: options.password-file: required key is missing\n");
}

Test(config, plugin_without_options_reports_missing_at_top)
{
	fixture_write(dir, "20-auth.json", "\n{\"plugin\": \"auth-x\"}");
	cr_assert_eq(load(), 0, "%s", err.text);
	cr_assert_eq(wg_config_validate(conf->files[0].cfg, opts, &err), -1);
	expect_errors("@/20-auth.json:2:1: options.password-file: required key is missing\n");
}

Test(config, columns_count_characters_not_bytes)
{
	/* JSON escapes in keys: positions are found for the decoded key. */
	struct wg_config *cfg = from("{\"caf\\u00e9\": 1, \"\\u00fc\\u00fc\": 2, \"tries\": \"x\"}");
	cr_assert_eq(wg_config_validate(cfg, opts, &err), -1);
	cr_assert_str_eq(err.text, "t.json:1:2: caf\xc3\xa9: unknown key\n"
				   "t.json:1:18: \xc3\xbc\xc3\xbc: unknown key\n"
				   "t.json:1:37: tries: expected integer, got string\n"
				   "t.json:1:1: password-file: required key is missing\n");
	wg_config_free(cfg);
	wg_err_init(&err);
	/* Raw UTF-8 in the text: two bytes, one column. */
	cfg = from("{\"caf\xc3\xa9\": 1, \"\xc3\xbc\xc3\xbc\": 2, \"tries\": \"x\"}");
	wg_config_validate(cfg, opts, &err);
	cr_assert(strstr(err.text, "t.json:1:13: \xc3\xbc\xc3\xbc: unknown key\n"), "%s", err.text);
	cr_assert(strstr(err.text, "t.json:1:22: tries:"), "%s", err.text);
	wg_config_free(cfg);
}

Test(config, from_string_rejects_non_objects_and_bad_json)
{
	cr_assert_null(wg_config_from_string("s", "[]", &err));
	cr_assert_null(wg_config_from_string("s", "{\"a\":", &err));
	cr_assert_null(wg_config_from_string("s", NULL, &err));
	cr_assert_str_eq(err.text, "s:1:1: (top level): expected an object, got array\n"
				   "s:1:5: invalid JSON: unexpected token near end of file\n"
				   "s: no text\n");
}

Test(config, error_buffer_is_bounded_and_says_so)
{
	for (int i = 0; i < 1000; i++)
		wg_err_add(&err, "%s:%d:1: key%d: a rather long problem description to fill the buffer", "f", i, i);
	cr_assert_eq(err.count, 1000);
	cr_assert_lt(err.len, sizeof(err.text));
	cr_assert_eq(strlen(err.text), err.len);
	const char *tail = "(further errors omitted)\n";
	cr_assert_str_eq(err.text + err.len - strlen(tail), tail);
	cr_assert(strstr(err.text, "f:0:1: key0:"));
	cr_assert_eq(strstr(err.text, tail), err.text + err.len - strlen(tail), "said once");
}

/* The server's "groups" and "users": objects of objects, each entry's keys
 * checked like any option, with the full path and position. */
Test(config, per_group_and_per_user_settings)
{
	static const struct wg_option acc[] = {
		{"groups", WG_OPT_ACCOUNTS, 0, 0, 0, NULL, ""},
		{"users", WG_OPT_ACCOUNTS, 0, 0, 0, NULL, ""},
		{NULL, 0, 0, 0, 0, NULL, NULL},
	};
	struct wg_config *cfg = from("{\"groups\": {\"staff\": {\"max-same-clients\": 3}},\n"
				     " \"users\": {\"alice\": {\"max-same-clients\": 0}}}");
	cr_assert_eq(wg_config_validate(cfg, acc, &err), 0, "%s", err.text);
	cr_assert_eq(wg_config_account_int(cfg, "groups", "staff", "max-same-clients", -1), 3);
	cr_assert_eq(wg_config_account_int(cfg, "users", "alice", "max-same-clients", -1), 0);
	cr_assert_eq(wg_config_account_int(cfg, "users", "bob", "max-same-clients", -1), -1);
	cr_assert_eq(wg_config_account_int(cfg, "groups", "alice", "max-same-clients", -1), -1);
	wg_config_free(cfg);
	cfg = from("{\"groups\": {\"staff\": {\"max-same-client\": 3},\n"
		   "  \"guests\": 2, \"x\": {\"max-same-clients\": -1}},\n"
		   " \"users\": []}");
	cr_assert_eq(wg_config_validate(cfg, acc, &err), -1);
	cr_assert_str_eq(err.text,
			 "t.json:1:23: groups.staff.max-same-client: unknown key (did you mean \"max-same-clients\"?)\n"
			 "t.json:2:3: groups.guests: expected object, got integer\n"
			 "t.json:2:22: groups.x.max-same-clients: -1 is out of range [0, 1000000]\n"
			 "t.json:3:2: users: expected object of objects, got array\n");
	wg_config_free(cfg);
}
