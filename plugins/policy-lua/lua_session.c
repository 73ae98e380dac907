/* Conversions between the SDK's session/tunnel views and Lua tables. */
#include "lua_session.h"

#include <lauxlib.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

static void set_str(lua_State *L, const char *key, const char *value)
{
	if (!value)
		return;
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

/* The closures of a session table reach its snapshot through this box; the
 * box is emptied when the hook returns, so a script that kept the table
 * gets an error instead of touching freed memory. */
struct snap_ref {
	struct lua_snap *snap;
};

static struct lua_snap *live_snap(lua_State *L)
{
	struct snap_ref *ref = lua_touserdata(L, lua_upvalueindex(1));

	if (!ref || !ref->snap)
		luaL_error(L, "this session table belongs to a hook call that has returned");
	return ref->snap;
}

/* session.attr(name): an attribute from the auth backend (RADIUS/LDAP), or
 * nil. */
static int session_attr(lua_State *L)
{
	struct lua_snap *snap = live_snap(L);
	const char *v = lua_snap_attr(snap, luaL_checkstring(L, 1));

	if (v)
		lua_pushstring(L, v);
	else
		lua_pushnil(L);
	return 1;
}

/* session.set_group / set_pool / set_address(value): recorded, applied by
 * the plugin on the loop's thread after the hook. Upvalue 2: which one. */
static int session_setter(lua_State *L)
{
	struct lua_snap *snap = live_snap(L);
	lua_Integer which = lua_tointeger(L, lua_upvalueindex(2));
	size_t len;
	const char *value = luaL_checklstring(L, 1, &len);
	char **slot = which == 0 ? &snap->set_group : which == 1 ? &snap->set_pool : &snap->set_address;
	static const char *const names[] = {"set_group", "set_pool", "set_address"};

	if (len == 0 || len > (which == 0 ? 127u : 63u) || memchr(value, '\0', len))
		return luaL_error(L, "%s: the value is 1 to %d bytes of text", names[which], which == 0 ? 127 : 63);
	char *copy = strdup(value);
	if (!copy)
		return luaL_error(L, "%s: out of memory", names[which]);
	free(*slot);
	*slot = copy;
	return 0;
}

/* session.set_max_same_clients(n): the sessions this user may hold at once
 * (0: unlimited), over the server's groups/users settings. For after_auth:
 * the core counts the session when the policies are done. */
static int session_set_max_same_clients(lua_State *L)
{
	struct lua_snap *snap = live_snap(L);
	lua_Integer n = luaL_checkinteger(L, 1);
	char text[24];

	if (n < 0 || n > 1000000)
		return luaL_error(L, "set_max_same_clients: %I is not in 0..1000000", n);
	snprintf(text, sizeof(text), "%lld", (long long)n);
	char *copy = strdup(text);
	if (!copy)
		return luaL_error(L, "set_max_same_clients: out of memory");
	free(snap->set_max_same_clients);
	snap->set_max_same_clients = copy;
	return 0;
}

/* session.set_limit(name, value): one of the session's limits
 * (lua_limit_names: "rx-data-per-sec", "tx-data-per-sec", "data-quota" as
 * numbers, "restrict-user-to-routes" as a boolean,
 * "restrict-user-to-ports" as text), over the server's groups/users
 * settings. Applied when the tunnel is configured, so after_auth and
 * before_tunnel may both set them. */
static int session_set_limit(lua_State *L)
{
	struct lua_snap *snap = live_snap(L);
	const char *name = luaL_checkstring(L, 1);
	char text[256];
	size_t i;

	for (i = 0; i < LUA_N_LIMITS; i++)
		if (strcmp(name, lua_limit_names[i]) == 0)
			break;
	if (i == LUA_N_LIMITS)
		return luaL_error(L, "set_limit: unknown limit \"%s\"", name);
	if (strcmp(name, WG_ATTR_RESTRICT_ROUTES) == 0) {
		luaL_checktype(L, 2, LUA_TBOOLEAN);
		snprintf(text, sizeof(text), "%s", lua_toboolean(L, 2) ? "true" : "false");
	} else if (strcmp(name, WG_ATTR_RESTRICT_PORTS) == 0) {
		size_t len;
		const char *v = luaL_checklstring(L, 2, &len);
		if (len >= sizeof(text) || memchr(v, '\0', len))
			return luaL_error(L, "set_limit: %s is at most %d bytes of text", name, (int)sizeof(text) - 1);
		memcpy(text, v, len + 1);
	} else {
		lua_Integer n = luaL_checkinteger(L, 2);
		if (n < 0)
			return luaL_error(L, "set_limit: %s must not be negative", name);
		snprintf(text, sizeof(text), "%lld", (long long)n);
	}
	char *copy = strdup(text);
	if (!copy)
		return luaL_error(L, "set_limit: out of memory");
	free(snap->set_limits[i]);
	snap->set_limits[i] = copy;
	return 0;
}

/* session.groups: every group of the user, as a list. */
static void push_groups(lua_State *L, const char *joined)
{
	lua_Integer n = 0;

	lua_createtable(L, 4, 0);
	while (joined && *joined) {
		const char *comma = strchr(joined, ',');
		size_t len = comma ? (size_t)(comma - joined) : strlen(joined);
		if (len) {
			lua_pushlstring(L, joined, len);
			lua_rawseti(L, -2, ++n);
		}
		joined += len + (comma ? 1 : 0);
	}
	lua_setfield(L, -2, "groups");
}

void lua_push_session(lua_State *L, struct lua_snap *snap)
{
	static const char *const setters[] = {"set_group", "set_pool", "set_address"};

	lua_createtable(L, 0, 16);
	set_str(L, "user", snap->user);
	set_str(L, "group", snap->group);
	set_str(L, "session_id", snap->session_id);
	set_str(L, "client_address", snap->client_address);
	set_str(L, "user_agent", snap->user_agent);
	set_str(L, "client_version", snap->client_version);
	set_str(L, "platform", snap->platform);
	set_str(L, "address", snap->address);
	set_str(L, "address6", snap->address6);
	set_str(L, "vhost", snap->vhost); /* nil: the default server */
	lua_pushinteger(L, (lua_Integer)snap->time);
	lua_setfield(L, -2, "time");
	push_groups(L, snap->groups);

	struct snap_ref *ref = lua_newuserdatauv(L, sizeof(*ref), 0);
	ref->snap = snap;
	snap->lua_ref = ref;
	/* Anchored until lua_session_done, so the box outlives the call even if
	 * the script drops every reference to the table. */
	lua_pushvalue(L, -1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, snap);
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, session_attr, 1);
	lua_setfield(L, -3, "attr");
	for (lua_Integer i = 0; i < 3; i++) {
		lua_pushvalue(L, -1);
		lua_pushinteger(L, i);
		lua_pushcclosure(L, session_setter, 2);
		lua_setfield(L, -3, setters[i]);
	}
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, session_set_max_same_clients, 1);
	lua_setfield(L, -3, "set_max_same_clients");
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, session_set_limit, 1);
	lua_setfield(L, -3, "set_limit");
	lua_pop(L, 1); /* the box */
}

void lua_session_done(lua_State *L, struct lua_snap *snap)
{
	struct snap_ref *ref = snap->lua_ref;

	if (!ref)
		return;
	ref->snap = NULL;
	snap->lua_ref = NULL;
	lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, snap);
}

static void push_list(lua_State *L, const char *key, const void *base, size_t stride, unsigned n)
{
	lua_createtable(L, (int)n, 0);
	for (unsigned i = 0; i < n; i++) {
		lua_pushstring(L, (const char *)base + i * stride);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, key);
}

void lua_push_tunnel(lua_State *L, const struct wg_tunnel_config *tc)
{
	lua_createtable(L, 0, 10);
	push_list(L, "routes", tc->include, sizeof(tc->include[0]), tc->n_include);
	push_list(L, "no_routes", tc->exclude, sizeof(tc->exclude[0]), tc->n_exclude);
	push_list(L, "dns", tc->dns, sizeof(tc->dns[0]), tc->n_dns);
	push_list(L, "split_dns", tc->split_dns, sizeof(tc->split_dns[0]), tc->n_split_dns);
	lua_pushinteger(L, tc->mtu), lua_setfield(L, -2, "mtu");
	lua_pushinteger(L, tc->idle_timeout_s), lua_setfield(L, -2, "idle_timeout");
	lua_pushinteger(L, tc->session_timeout_s), lua_setfield(L, -2, "session_timeout");
	set_str(L, "default_domain", tc->default_domain);
	set_str(L, "address", tc->addr4);
	if (tc->struct_size >= offsetof(struct wg_tunnel_config, rate_limit_kbps) + sizeof(tc->rate_limit_kbps)) {
		lua_pushinteger(L, tc->rate_limit_kbps);
		lua_setfield(L, -2, "rate_limit_kbps");
	}
}

/* Reads an array of strings at t[key] into fixed slots. */
static int read_list(lua_State *L, int t, const char *key, void *base, size_t stride, unsigned max, uint32_t *n,
		     char *err, size_t errlen)
{
	int type = lua_getfield(L, t, key);

	if (type == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (type != LUA_TTABLE) {
		snprintf(err, errlen, "tunnel.%s must be a list of strings", key);
		lua_pop(L, 1);
		return -1;
	}
	lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
	if (len > (lua_Integer)max) {
		snprintf(err, errlen, "tunnel.%s has %lld entries, at most %u allowed", key, (long long)len, max);
		lua_pop(L, 1);
		return -1;
	}
	for (lua_Integer i = 1; i <= len; i++) {
		lua_rawgeti(L, -1, i);
		size_t sl;
		const char *sv = lua_tolstring(L, -1, &sl);
		if (!sv || lua_type(L, -1) != LUA_TSTRING || sl >= stride) {
			snprintf(err, errlen, "tunnel.%s[%lld] must be a string shorter than %zu bytes", key, (long long)i,
				 stride);
			lua_pop(L, 2);
			return -1;
		}
		memcpy((char *)base + (size_t)(i - 1) * stride, sv, sl + 1);
		lua_pop(L, 1);
	}
	*n = (uint32_t)len;
	lua_pop(L, 1);
	return 0;
}

static int read_uint(lua_State *L, int t, const char *key, uint32_t lo, uint32_t hi, uint32_t *out, char *err,
		     size_t errlen)
{
	int type = lua_getfield(L, t, key);

	if (type == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	int isint = 0;
	lua_Integer v = lua_tointegerx(L, -1, &isint);
	lua_pop(L, 1);
	if (!isint || v < (lua_Integer)lo || v > (lua_Integer)hi) {
		snprintf(err, errlen, "tunnel.%s must be an integer in [%u, %u]", key, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int lua_read_tunnel(lua_State *L, int idx, struct wg_tunnel_config *tc, char *err, size_t errlen)
{
	struct wg_tunnel_config next = *tc;
	int t = lua_absindex(L, idx);

	if (!lua_istable(L, t)) {
		snprintf(err, errlen, "before_tunnel must leave a table");
		return -1;
	}
	if (read_list(L, t, "routes", next.include, sizeof(next.include[0]), WG_MAX_ROUTES, &next.n_include, err,
		      errlen) < 0 ||
	    read_list(L, t, "no_routes", next.exclude, sizeof(next.exclude[0]), WG_MAX_ROUTES, &next.n_exclude, err,
		      errlen) < 0 ||
	    read_list(L, t, "dns", next.dns, sizeof(next.dns[0]), WG_MAX_DNS, &next.n_dns, err, errlen) < 0 ||
	    read_list(L, t, "split_dns", next.split_dns, sizeof(next.split_dns[0]), WG_MAX_DNS, &next.n_split_dns,
		      err, errlen) < 0 ||
	    read_uint(L, t, "mtu", 576, 9000, &next.mtu, err, errlen) < 0 ||
	    read_uint(L, t, "idle_timeout", 0, 86400 * 30, &next.idle_timeout_s, err, errlen) < 0 ||
	    read_uint(L, t, "session_timeout", 0, 86400 * 30, &next.session_timeout_s, err, errlen) < 0)
		return -1;
	if (tc->struct_size >= offsetof(struct wg_tunnel_config, rate_limit_kbps) + sizeof(tc->rate_limit_kbps) &&
	    read_uint(L, t, "rate_limit_kbps", 0, 100000000, &next.rate_limit_kbps, err, errlen) < 0)
		return -1;
	if (lua_getfield(L, t, "default_domain") == LUA_TSTRING) {
		size_t sl;
		const char *sv = lua_tolstring(L, -1, &sl);
		if (sl >= sizeof(next.default_domain)) {
			lua_pop(L, 1);
			snprintf(err, errlen, "tunnel.default_domain is too long");
			return -1;
		}
		memcpy(next.default_domain, sv, sl + 1);
	}
	lua_pop(L, 1);
	*tc = next;
	return 0;
}
