/* A copy of what a policy script may read about a session, taken on the
 * event loop's thread so that the script can run on a worker thread, and
 * the changes the script asked for, applied back on the loop's thread. */
#ifndef WG_LUA_SNAPSHOT_H
#define WG_LUA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <wolfguard/plugin.h>

/* The per-session limits a script may set (session.set_limit), the
 * attribute names the core reads (WG_ATTR_RX_PER_SEC and the rest). */
#define LUA_N_LIMITS 5
extern const char *const lua_limit_names[LUA_N_LIMITS];

struct lua_snap {
	char *user, *group, *session_id, *client_address, *user_agent;
	char *client_version, *platform, *address, *address6, *groups; /* groups comma-separated */
	char *vhost;                 /* the server name it logged in under; NULL: the default server */
	size_t n_attrs;
	char **keys, **values;
	int64_t time;
	/* Asked for by the script; NULL when not. */
	char *set_group, *set_pool, *set_address;
	char *set_max_same_clients; /* decimal */
	char *set_limits[LUA_N_LIMITS]; /* session.set_limit(name, value), by lua_limit_names order */
	/* The Lua-side handle of this snapshot while a hook runs (see
	 * lua_session.c), so it can be cut off when the hook returns. */
	void *lua_ref;
};

/* NULL when out of memory. Loop thread only. */
struct lua_snap *lua_snap_take(const struct wg_host *host, const struct wg_session *s);
/* Applies set_group / set_pool / set_address to s. Loop thread only. */
void lua_snap_apply(const struct wg_host *host, const struct wg_session *s, const struct lua_snap *snap);
void lua_snap_free(struct lua_snap *snap);
/* The value of attribute `name` (the last one set), or NULL. */
const char *lua_snap_attr(const struct lua_snap *snap, const char *name);

#endif
