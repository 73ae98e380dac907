/* What a policy script sees: sessions and tunnel settings as Lua tables. */
#ifndef WG_LUA_SESSION_H
#define WG_LUA_SESSION_H

#include <lua.h>
#include <wolfguard/plugin.h>

/* Pushes {user, group, session_id, client_address, user_agent,
 * client_version, platform, address, time, attr = function(name)}. The
 * session pointer is only valid during the call. */
void lua_push_session(lua_State *L, const struct wg_host *host, const struct wg_session *s);
/* Pushes the tunnel settings as a table: routes, no_routes, dns, split_dns
 * (arrays of strings), mtu, idle_timeout, session_timeout, default_domain. */
void lua_push_tunnel(lua_State *L, const struct wg_tunnel_config *tc);
/* Reads the table at idx back into tc. Returns 0, or -1 with a reason. */
int lua_read_tunnel(lua_State *L, int idx, struct wg_tunnel_config *tc, char *err, size_t errlen);

#endif
