/* What a policy script sees: sessions and tunnel settings as Lua tables. */
#ifndef WG_LUA_SESSION_H
#define WG_LUA_SESSION_H

#include <lua.h>
#include <wolfguard/plugin.h>

#include "lua_snapshot.h"

/* Pushes {user, group, groups, session_id, client_address, user_agent,
 * client_version, platform, address, address6, time, attr(name),
 * set_group(g), set_pool(p), set_address(a)} read from snap; the setters
 * record into snap. Call lua_session_done(L, snap) after the hook. */
void lua_push_session(lua_State *L, struct lua_snap *snap);
void lua_session_done(lua_State *L, struct lua_snap *snap);
/* Pushes the tunnel settings as a table: routes, no_routes, dns, split_dns
 * (arrays of strings), mtu, idle_timeout, session_timeout, default_domain. */
void lua_push_tunnel(lua_State *L, const struct wg_tunnel_config *tc);
/* Reads the table at idx back into tc. Returns 0, or -1 with a reason. */
int lua_read_tunnel(lua_State *L, int idx, struct wg_tunnel_config *tc, char *err, size_t errlen);

#endif
