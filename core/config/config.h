/* conf.d: one JSON file per module, read in lexical order.
 *
 * A file holds exactly one object of one of two shapes:
 *   { "server": { ...core options... } }
 *   { "plugin": "auth-plain", "path": "/opt/x.so" (optional), "options": { ... } }
 * A plugin is enabled by the presence of its file. Files not ending in
 * ".json" are ignored, so "x.json.disabled" switches a module off.
 *
 * Structure and syntax are checked by wg_conf_load(); option keys and types
 * by wg_config_validate() against a table of struct wg_option, the same
 * mechanism for the core's "server" section and every plugin's "options".
 * Every error names "file:line:column: key: problem".
 */
#ifndef WG_CONFIG_H
#define WG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wolfguard/plugin.h>

#include "util/err.h"

struct wg_config; /* one validated options object (opaque, config.c) */

/* A core-only option type (plugins never see it): an object of objects,
 * {"name": {...}}, each inner object checked against wg_account_options
 * (server_options.h). The server's "groups" and "users". */
#define WG_OPT_ACCOUNTS 0x100u
/* The same shape, each inner object checked against wg_vhost_options
 * (required keys included): the server's "vhosts", keyed by server name. */
#define WG_OPT_VHOSTS 0x101u

struct wg_conf_file {
	char *path;            /* "conf.d/20-auth-plain.json" (owned) */
	char *plugin;          /* plugin name, or NULL for the server section (owned) */
	char *so_path;         /* explicit "path", or NULL (owned) */
	char *vhost;           /* "vhost": the server name whose plugin it is, NULL: the default server's (owned) */
	struct wg_config *cfg; /* the "server" or "options" object (owned) */
};

struct wg_conf {
	char *dir;                 /* owned */
	struct wg_conf_file *files; /* in lexical order of file name (owned) */
	size_t n_files;
	struct wg_config *server;  /* points into files[]; an empty config if no server file */
	struct wg_config *empty_server; /* that empty config, when no file has a server section (owned) */
};

/* Reads DIR/\*.json (names starting with '.' are skipped, symlinks followed),
 * sorted bytewise so the order never depends on the locale. Returns 0 and
 * sets *out, or -1 with every problem added to err and *out NULL. */
int wg_conf_load(const char *dir, struct wg_conf **out, struct wg_err *err);
void wg_conf_free(struct wg_conf *conf);

/* Checks keys and types against opts (NULL-name terminated). Remembers opts
 * so accessors can return defaults. Returns 0, or -1 with errors added. */
int wg_config_validate(struct wg_config *cfg, const struct wg_option *opts, struct wg_err *err);

/* An empty, valid config (for a missing server section). */
struct wg_config *wg_config_new_empty(const char *origin);
void wg_config_free(struct wg_config *cfg);
/* Parses a config from memory (tests, fuzzing). origin names it in errors. */
struct wg_config *wg_config_from_string(const char *origin, const char *json, struct wg_err *err);

/* Accessors, also handed to plugins through struct wg_host. */
const char *wg_config_string(const struct wg_config *cfg, const char *key);
int64_t wg_config_int(const struct wg_config *cfg, const char *key);
int wg_config_bool(const struct wg_config *cfg, const char *key);
size_t wg_config_list_size(const struct wg_config *cfg, const char *key);
const char *wg_config_list_item(const struct wg_config *cfg, const char *key, size_t i);
const char *wg_config_where(const struct wg_config *cfg, const char *key);
/* accounts[name][opt] of a WG_OPT_ACCOUNTS key, or `absent` when the name
 * or the option is not there. */
int64_t wg_config_account_int(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			      int64_t absent);
const char *wg_config_account_string(const struct wg_config *cfg, const char *accounts, const char *name,
				     const char *opt);
/* The names of an accounts object ("users"), and one account's string
 * list option: how many were stored in out (at most max). */
size_t wg_config_account_names(const struct wg_config *cfg, const char *accounts, const char **out, size_t max);
size_t wg_config_account_list(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			      const char **out, size_t max);
int wg_config_account_bool(const struct wg_config *cfg, const char *accounts, const char *name, const char *opt,
			   int absent);
/* One entry of an object-of-objects key (a vhost) as a config of its own,
 * checked against opts already (by validate) so accessors give opts'
 * defaults; NULL when absent. Owned by the caller (wg_config_free). */
struct wg_config *wg_config_entry(const struct wg_config *cfg, const char *key, const char *name,
				  const struct wg_option *opts);
/* The file the config came from. */
const char *wg_config_origin(const struct wg_config *cfg);

#endif
