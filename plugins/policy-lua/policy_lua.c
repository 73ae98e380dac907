/* policy-lua: per-session policy as Lua 5.4 scripts.
 *
 * The script defines any of these global functions (an absent one allows):
 *   after_auth(session)            -> true | nil | false, "message shown to the user"
 *   before_tunnel(session, tunnel) -> edits tunnel in place; false, "msg" denies
 *   on_disconnect(session, stats)  -> stats = {bytes_in, bytes_out, duration}
 * Each call is bounded in VM instructions and the state in memory; an error
 * or an overrun denies the login and logs the script's file:line. The file is
 * reloaded when it changes, between calls, without touching sessions. */
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "lua_sandbox.h"
#include "lua_session.h"

#define DENY_ON_ERROR "Access denied (policy error)."

struct policy {
	const struct wg_host *host;
	struct lsb sb;
	long max_instructions;
	struct wg_timer *reeval; /* periodic reevaluate(), or NULL */
};

static const struct wg_option options[] = {
	{"script", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "the policy script (Lua 5.4)"},
	{"max-instructions", WG_OPT_INT, 0, 1000, 1000000000, "1000000", "VM instructions one hook call may run"},
	{"max-memory-kb", WG_OPT_INT, 0, 256, 1048576, "8192", "memory the script's state may hold, KiB"},
	{"reevaluate-interval", WG_OPT_INT, 0, 0, 86400, "0",
	 "seconds between calls of reevaluate(session) for every session; 0: never"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

static void maybe_reload(struct policy *p)
{
	char err[512];
	int rc = lsb_reload_if_changed(&p->sb, p->max_instructions, err, sizeof(err));

	if (rc > 0)
		p->host->log(NULL, WG_LOG_NOTICE, "policy-lua: reloaded %s", p->sb.path);
	else if (rc < 0)
		p->host->log(NULL, WG_LOG_ERROR, "policy-lua: %s not reloaded, the previous version stays: %s",
			     p->sb.path, err);
}

/* Interprets `false, "msg"` (deny) and anything else (allow) left by a
 * call with 2 results. Pops them. */
static int verdict(struct policy *p, const struct wg_session *s, const char *hook, char *msg, size_t msglen)
{
	lua_State *L = p->sb.L;
	int deny = lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2);

	if (deny) {
		const char *m = lua_tostring(L, -1);
		snprintf(msg, msglen, "%s", m ? m : "Access denied.");
		p->host->log(s, WG_LOG_INFO, "policy-lua: %s denied: %s", hook, msg);
	}
	lua_pop(L, 2);
	return deny ? -1 : 0;
}

static int call_failed(struct policy *p, const struct wg_session *s, const char *hook, const char *err, char *msg,
		       size_t msglen)
{
	p->host->log(s, WG_LOG_ERROR, "policy-lua: %s failed, denying: %s", hook, err);
	snprintf(msg, msglen, "%s", DENY_ON_ERROR);
	lua_settop(p->sb.L, 0);
	return -1;
}

static int after_auth(void *state, const struct wg_session *s, char *msg, size_t msglen)
{
	struct policy *p = state;
	char err[512];

	maybe_reload(p);
	if (!lsb_get_function(&p->sb, "after_auth"))
		return 0;
	lua_push_session(p->sb.L, p->host, s);
	if (lsb_pcall(&p->sb, 1, 2, p->max_instructions, err, sizeof(err)) < 0)
		return call_failed(p, s, "after_auth", err, msg, msglen);
	return verdict(p, s, "after_auth", msg, msglen);
}

static int before_tunnel(void *state, const struct wg_session *s, struct wg_tunnel_config *tc, char *msg,
			 size_t msglen)
{
	struct policy *p = state;
	lua_State *L = p->sb.L;
	char err[512];

	maybe_reload(p);
	L = p->sb.L;
	if (!lsb_get_function(&p->sb, "before_tunnel"))
		return 0;
	lua_push_session(L, p->host, s);
	lua_push_tunnel(L, tc);
	lua_pushvalue(L, -1);
	lua_insert(L, -4); /* keep a reference to the tunnel table below the call */
	if (lsb_pcall(&p->sb, 2, 2, p->max_instructions, err, sizeof(err)) < 0)
		return call_failed(p, s, "before_tunnel", err, msg, msglen);
	if (verdict(p, s, "before_tunnel", msg, msglen) < 0) {
		lua_pop(L, 1);
		return -1;
	}
	int rc = lua_read_tunnel(L, -1, tc, err, sizeof(err));
	lua_pop(L, 1);
	if (rc < 0)
		return call_failed(p, s, "before_tunnel", err, msg, msglen);
	return 0;
}

static void on_disconnect(void *state, const struct wg_session *s, uint64_t bytes_in, uint64_t bytes_out,
			  uint64_t duration_s)
{
	struct policy *p = state;
	lua_State *L;
	char err[512];

	maybe_reload(p);
	L = p->sb.L;
	if (!lsb_get_function(&p->sb, "on_disconnect"))
		return;
	lua_push_session(L, p->host, s);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, (lua_Integer)bytes_in), lua_setfield(L, -2, "bytes_in");
	lua_pushinteger(L, (lua_Integer)bytes_out), lua_setfield(L, -2, "bytes_out");
	lua_pushinteger(L, (lua_Integer)duration_s), lua_setfield(L, -2, "duration");
	if (lsb_pcall(&p->sb, 2, 0, p->max_instructions, err, sizeof(err)) < 0)
		p->host->log(s, WG_LOG_ERROR, "policy-lua: on_disconnect failed: %s", err);
}

/* reevaluate(session) -> false, "reason" ends that session. An error keeps
 * the session: a broken script must not disconnect everybody. */
static void reeval_one(const struct wg_session *s, void *arg)
{
	struct policy *p = arg;
	char err[512], msg[256];

	if (!lsb_get_function(&p->sb, "reevaluate"))
		return;
	lua_push_session(p->sb.L, p->host, s);
	if (lsb_pcall(&p->sb, 1, 2, p->max_instructions, err, sizeof(err)) < 0) {
		p->host->log(s, WG_LOG_ERROR, "policy-lua: reevaluate failed, session kept: %s", err);
		return;
	}
	if (verdict(p, s, "reevaluate", msg, sizeof(msg)) < 0)
		p->host->session_disconnect(s, msg);
}

static void reeval_tick(void *arg)
{
	struct policy *p = arg;

	maybe_reload(p);
	p->host->session_foreach(reeval_one, p);
}

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	p->max_instructions = (long)host->config_int(cfg, "max-instructions");
	if (lsb_open(&p->sb, host->config_string(cfg, "script"),
		     (size_t)host->config_int(cfg, "max-memory-kb") * 1024, p->max_instructions, err, errlen) < 0) {
		free(p);
		return -EINVAL;
	}
	int64_t every = host->config_int(cfg, "reevaluate-interval");
	if (every > 0) {
		if (!WG_HOST_HAS(host, session_foreach) || !WG_HOST_HAS(host, session_disconnect)) {
			lsb_close(&p->sb);
			free(p);
			snprintf(err, errlen, "reevaluate-interval needs a newer server (no session_foreach)");
			return -ENOTSUP;
		}
		p->reeval = host->timer_add((uint32_t)every * 1000, 1, reeval_tick, p);
	}
	*state = p;
	return 0;
}

static void fini(void *state)
{
	struct policy *p = state;

	if (p->reeval)
		p->host->timer_del(p->reeval);
	lsb_close(&p->sb);
	free(p);
}

static const struct wg_policy_ops ops = {
	.struct_size = sizeof(struct wg_policy_ops),
	.after_auth = after_auth,
	.before_tunnel = before_tunnel,
	.on_disconnect = on_disconnect,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "policy-lua",
	.version = "0.1.0",
	.description = "per-session policy in sandboxed Lua 5.4 scripts",
	.kind = WG_PLUGIN_POLICY,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
