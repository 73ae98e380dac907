/* Plugin loading: dlopen(RTLD_NOW | RTLD_LOCAL), then the ABI version and
 * descriptor size are checked before any other field of the descriptor is
 * read. Plugins are opened, validated and initialised in conf.d order, which
 * makes load order deterministic. */
#ifndef WG_LOADER_H
#define WG_LOADER_H

#include <stdbool.h>
#include <wolfguard/plugin.h>

#include "config/config.h"
#include "util/err.h"

/* The most auth plugins a login chain may have. */
#define WG_MAX_AUTH_STEPS 8

struct wg_loaded_plugin {
	const struct wg_plugin *desc; /* inside the mapped object; valid until close */
	void *handle;                 /* dlopen handle (owned) */
	char *path;                   /* resolved .so path (owned) */
	const struct wg_conf_file *file; /* conf.d entry that enabled it (borrowed) */
	void *state;                  /* plugin's own state from init() */
	bool initialized;
};

struct wg_plugins {
	struct wg_loaded_plugin *v; /* owned */
	size_t n;
};

/* Opens one object and checks it. expected_name may be NULL. On refusal
 * returns -1 and adds a message naming the path and the reason (wrong ABI
 * version "built for ABI 2, this server speaks ABI 1", descriptor too short,
 * symbol missing, unknown kind, name mismatch, dlopen error). */
int wg_plugin_open(const char *path, const char *expected_name, struct wg_loaded_plugin *out,
		   struct wg_err *err);
void wg_plugin_close(struct wg_loaded_plugin *p);

/* Where a plugin named `name` is looked for when its file gives no "path":
 * dir/name.so, dir from (in order) the server's "plugin-dir" option, the
 * WOLFGUARD_PLUGIN_DIR environment variable, the build tree's plugins when
 * the binary runs from its build tree (build_tree.h), the compiled-in
 * WG_PLUGINDIR. */
const char *wg_plugin_dir(const struct wg_conf *conf);

/* Opens every plugin in conf and validates its options. No init. Returns 0,
 * or -1 with every problem added to err (and nothing left open). */
int wg_plugins_load(const struct wg_conf *conf, struct wg_plugins *out, struct wg_err *err);
/* init() in conf order; each initialised log plugin is registered as a log
 * sink (wg_log_add_sink). On failure: "<conf file>: <plugin>: init failed:
 * <reason>" added to err, what was initialised is fini'd, returns -1. */
int wg_plugins_init(struct wg_plugins *ps, const struct wg_host *host, struct wg_err *err);
/* This set's log plugins stop being sinks (a reload retires them). */
void wg_plugins_remove_sinks(struct wg_plugins *ps);
/* This set's log sinks removed, fini() in reverse order, then dlclose. */
void wg_plugins_unload(struct wg_plugins *ps);

/* Closes the plugins of a kind that are not initialised yet and takes them
 * out of ps; returns how many. */
size_t wg_plugins_drop_kind(struct wg_plugins *ps, uint32_t kind);
/* Moves the initialised plugins of a kind from ps to the end of out (which
 * then owns them; their conf.d file is forgotten: file becomes NULL).
 * Returns how many, or -1 when out of memory (nothing moved). */
long wg_plugins_take_kind(struct wg_plugins *ps, uint32_t kind, struct wg_plugins *out);
/* The first initialised plugin of a kind, or NULL. */
struct wg_loaded_plugin *wg_plugins_find_kind(struct wg_plugins *ps, uint32_t kind);
const char *wg_plugin_kind_name(uint32_t kind);

#endif
