/* policy-lua: per-session policy as Lua 5.4 scripts.
 *
 * The script defines any of these global functions (an absent one allows):
 *   after_auth(session)            -> true | nil | false, "message shown to the user"
 *   before_tunnel(session, tunnel) -> edits tunnel in place; false, "msg" denies
 *   on_disconnect(session, stats)  -> stats = {bytes_in, bytes_out, duration}
 *   reevaluate(session)            -> false, "reason" ends the session
 * Hooks run on the server's worker threads, never on its event loop: the
 * plugin copies what a script may read about the session (lua_snapshot.h)
 * on the loop, runs the script on a worker with a Lua state of its own (one
 * per concurrently running call, from a small pool), and applies the
 * script's verdict and changes back on the loop. Each call is bounded in VM
 * instructions and each state in memory; an error or an overrun denies the
 * login and logs the script's file:line. A changed file is reloaded by each
 * state before its next call, keeping the old version if the new one fails;
 * sessions are untouched. */
#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "lua_sandbox.h"
#include "lua_session.h"
#include "lua_snapshot.h"

#define DENY_ON_ERROR "Access denied (policy error)."
#define MAX_STATES 16

struct policy {
	const struct wg_host *host;
	char script[4096];
	size_t mem_limit;
	long max_instructions;
	long max_time_ms;
	struct wg_timer *reeval; /* periodic reevaluate(), or NULL */
	bool reeval_running;     /* a pass is on the workers: skip a tick */

	pthread_mutex_t mu;
	pthread_cond_t freed;
	struct lsb *states[MAX_STATES];
	bool busy[MAX_STATES];
	unsigned n_states;
};

enum hook { H_AFTER_AUTH, H_BEFORE_TUNNEL, H_ON_DISCONNECT };
static const char *const hook_names[] = {"after_auth", "before_tunnel", "on_disconnect"};

/* One hook call on its way through a worker. */
struct job {
	struct policy *p;
	enum hook hook;
	const struct wg_session *s;     /* loop thread only */
	struct wg_policy_call *call;    /* NULL for on_disconnect and synchronous calls */
	struct wg_tunnel_config *tc;    /* before_tunnel; the host leaves it to us until policy_done */
	struct lua_snap *snap;
	uint64_t bytes_in, bytes_out, duration;
	bool denied;
	char msg[256];
	char log[600];                  /* logged on the loop, where the session may be named */
	int log_level;
};

static const struct wg_option options[] = {
	{"script", WG_OPT_STRING, WG_OPT_REQUIRED, 0, 0, NULL, "the policy script (Lua 5.4)"},
	{"max-instructions", WG_OPT_INT, 0, 1000, 1000000000, "1000000", "VM instructions one hook call may run"},
	{"max-time-ms", WG_OPT_INT, 0, 0, 600000, "0",
	 "wall-clock milliseconds one hook call may take, time in C functions (patterns, string.rep) included; "
	 "0: 1000 plus 50 per million max-instructions"},
	{"max-memory-kb", WG_OPT_INT, 0, 256, 1048576, "8192", "memory each Lua state may hold, KiB"},
	{"reevaluate-interval", WG_OPT_INT, 0, 0, 86400, "0",
	 "seconds between calls of reevaluate(session) for every session; 0: never"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* --- the pool of Lua states ----------------------------------------------- */

/* A state nobody else is using, loaded with the current script; NULL with
 * the reason in err when no state can be made. Any thread. */
static struct lsb *state_take(struct policy *p, char *err, size_t errlen)
{
	struct lsb *sb = NULL;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (unsigned i = 0; i < p->n_states && !sb; i++)
			if (!p->busy[i]) {
				p->busy[i] = true;
				sb = p->states[i];
			}
		if (sb || p->n_states < MAX_STATES)
			break;
		pthread_cond_wait(&p->freed, &p->mu);
	}
	if (!sb) {
		sb = calloc(1, sizeof(*sb));
		if (!sb || lsb_open(sb, p->script, p->mem_limit, p->max_instructions, p->max_time_ms, err, errlen) < 0) {
			free(sb);
			pthread_mutex_unlock(&p->mu);
			if (!sb)
				snprintf(err, errlen, "out of memory");
			return NULL;
		}
		p->states[p->n_states] = sb;
		p->busy[p->n_states++] = true;
	}
	pthread_mutex_unlock(&p->mu);
	char why[512];
	if (lsb_reload_if_changed(sb, p->max_instructions, why, sizeof(why)) < 0 && err)
		snprintf(err, errlen, "%.120s not reloaded, the previous version stays: %.300s", p->script, why);
	return sb;
}

static void state_give(struct policy *p, struct lsb *sb)
{
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->n_states; i++)
		if (p->states[i] == sb)
			p->busy[i] = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

/* --- running one hook (worker thread, or the loop for synchronous calls) -- */

static void job_log(struct job *j, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_log(struct job *j, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->log, sizeof(j->log), fmt, ap);
	va_end(ap);
	j->log_level = level;
}

static void deny_on_error(struct job *j, const char *err)
{
	job_log(j, WG_LOG_ERROR, "policy-lua: %s failed, denying: %s", hook_names[j->hook], err);
	snprintf(j->msg, sizeof(j->msg), "%s", DENY_ON_ERROR);
	j->denied = true;
}

/* Reads `false, "msg"` (deny) or anything else (allow) and pops both. */
static void read_verdict(lua_State *L, struct job *j)
{
	if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
		const char *m = lua_tostring(L, -1);
		snprintf(j->msg, sizeof(j->msg), "%s", m ? m : "Access denied.");
		j->denied = true;
		job_log(j, WG_LOG_INFO, "policy-lua: %s denied: %s", hook_names[j->hook], j->msg);
	}
	lua_pop(L, 2);
}

static void run_hook(struct job *j)
{
	struct policy *p = j->p;
	char err[512] = "";
	struct lsb *sb = state_take(p, err, sizeof(err));

	if (!sb) {
		if (j->hook != H_ON_DISCONNECT)
			deny_on_error(j, err);
		else
			job_log(j, WG_LOG_ERROR, "policy-lua: on_disconnect not run: %s", err);
		return;
	}
	if (err[0])
		job_log(j, WG_LOG_ERROR, "policy-lua: %s", err);
	lua_State *L = sb->L;
	if (!lsb_get_function(sb, hook_names[j->hook]))
		goto out;
	lua_push_session(L, j->snap);
	int nargs = 1, nres = 2;
	if (j->hook == H_BEFORE_TUNNEL) {
		lua_push_tunnel(L, j->tc);
		lua_pushvalue(L, -1);
		lua_insert(L, -4); /* keep the tunnel table below the call */
		nargs = 2;
	} else if (j->hook == H_ON_DISCONNECT) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, (lua_Integer)j->bytes_in), lua_setfield(L, -2, "bytes_in");
		lua_pushinteger(L, (lua_Integer)j->bytes_out), lua_setfield(L, -2, "bytes_out");
		lua_pushinteger(L, (lua_Integer)j->duration), lua_setfield(L, -2, "duration");
		nargs = 2;
		nres = 0;
	}
	if (lsb_pcall(sb, nargs, nres, p->max_instructions, err, sizeof(err)) < 0) {
		if (j->hook == H_ON_DISCONNECT)
			job_log(j, WG_LOG_ERROR, "policy-lua: on_disconnect failed: %s", err);
		else
			deny_on_error(j, err);
		lua_settop(L, 0);
		goto out;
	}
	if (j->hook == H_ON_DISCONNECT)
		goto out;
	read_verdict(L, j);
	if (j->hook == H_BEFORE_TUNNEL) {
		if (!j->denied && lua_read_tunnel(L, -1, j->tc, err, sizeof(err)) < 0)
			deny_on_error(j, err);
		lua_pop(L, 1);
	}
out:
	lua_session_done(L, j->snap);
	lua_settop(L, 0);
	state_give(p, sb);
}

static void job_free(struct job *j)
{
	lua_snap_free(j->snap);
	free(j);
}

/* Back on the loop: log, apply the script's changes, answer the host. */
static void job_finish(struct job *j)
{
	const struct wg_host *h = j->p->host;

	if (j->log[0])
		h->log(j->hook == H_ON_DISCONNECT ? NULL : j->s, j->log_level, "%s", j->log);
	if (j->hook != H_ON_DISCONNECT && !j->denied)
		lua_snap_apply(h, j->s, j->snap);
}

static void job_work(void *arg)
{
	run_hook(arg);
}

static void job_done(void *arg)
{
	struct job *j = arg;

	job_finish(j);
	if (j->call)
		j->p->host->policy_done(j->call, j->denied, j->msg);
	job_free(j);
}

static struct job *job_new(struct policy *p, enum hook hook, const struct wg_session *s)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->p = p;
	j->hook = hook;
	j->s = s;
	j->snap = lua_snap_take(p->host, s);
	if (!j->snap) {
		free(j);
		return NULL;
	}
	return j;
}

/* Queues j on a worker; when the queue is full the answer is "busy". */
static void submit(struct job *j)
{
	if (j->p->host->run_blocking(job_work, job_done, j) == 0)
		return;
	j->denied = j->hook != H_ON_DISCONNECT;
	snprintf(j->msg, sizeof(j->msg), "Server busy, try again.");
	job_log(j, WG_LOG_WARN, "policy-lua: %s not run: the worker queue is full", hook_names[j->hook]);
	job_done(j);
}

/* --- the hooks -------------------------------------------------------------- */

static void after_auth_async(void *state, const struct wg_session *s, struct wg_policy_call *call)
{
	struct job *j = job_new(state, H_AFTER_AUTH, s);

	if (!j) {
		((struct policy *)state)->host->policy_done(call, 1, DENY_ON_ERROR);
		return;
	}
	j->call = call;
	submit(j);
}

static void before_tunnel_async(void *state, const struct wg_session *s, struct wg_tunnel_config *tc,
				struct wg_policy_call *call)
{
	struct job *j = job_new(state, H_BEFORE_TUNNEL, s);

	if (!j) {
		((struct policy *)state)->host->policy_done(call, 1, DENY_ON_ERROR);
		return;
	}
	j->call = call;
	j->tc = tc;
	submit(j);
}

/* Synchronous forms, for a host without policy_done: the script runs on the
 * loop's thread, still bounded in instructions. */
static int run_sync(struct policy *p, enum hook hook, const struct wg_session *s, struct wg_tunnel_config *tc,
		    char *msg, size_t msglen)
{
	struct job *j = job_new(p, hook, s);

	if (!j) {
		snprintf(msg, msglen, "%s", DENY_ON_ERROR);
		return -1;
	}
	j->tc = tc;
	run_hook(j);
	job_finish(j);
	snprintf(msg, msglen, "%s", j->msg);
	int rc = j->denied ? -1 : 0;
	job_free(j);
	return rc;
}

static int after_auth(void *state, const struct wg_session *s, char *msg, size_t msglen)
{
	return run_sync(state, H_AFTER_AUTH, s, NULL, msg, msglen);
}

static int before_tunnel(void *state, const struct wg_session *s, struct wg_tunnel_config *tc, char *msg,
			 size_t msglen)
{
	return run_sync(state, H_BEFORE_TUNNEL, s, tc, msg, msglen);
}

static void on_disconnect(void *state, const struct wg_session *s, uint64_t bytes_in, uint64_t bytes_out,
			  uint64_t duration_s)
{
	struct job *j = job_new(state, H_ON_DISCONNECT, s);

	if (!j)
		return;
	j->s = NULL; /* the session is gone by the time the job is done */
	j->bytes_in = bytes_in;
	j->bytes_out = bytes_out;
	j->duration = duration_s;
	submit(j);
}

/* --- reevaluate: every session's snapshot in one job --------------------- */

struct reeval {
	struct policy *p;
	struct lua_snap **snaps;
	char **reasons;          /* per snapshot: NULL to keep, else why to end */
	size_t n, cap;
	char log[600];
};

static void reeval_collect(const struct wg_session *s, void *arg)
{
	struct reeval *r = arg;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct lua_snap **more = realloc(r->snaps, cap * sizeof(*more));
		if (!more)
			return;
		r->snaps = more;
		r->cap = cap;
	}
	struct lua_snap *snap = lua_snap_take(r->p->host, s);
	if (snap)
		r->snaps[r->n++] = snap;
}

/* An error keeps the session: a broken script must not disconnect everybody. */
static void reeval_work(void *arg)
{
	struct reeval *r = arg;
	char err[512] = "";
	struct lsb *sb = state_take(r->p, err, sizeof(err));

	if (!sb) {
		snprintf(r->log, sizeof(r->log), "policy-lua: reevaluate not run: %s", err);
		return;
	}
	lua_State *L = sb->L;
	for (size_t i = 0; i < r->n; i++) {
		if (!lsb_get_function(sb, "reevaluate"))
			break;
		lua_push_session(L, r->snaps[i]);
		if (lsb_pcall(sb, 1, 2, r->p->max_instructions, err, sizeof(err)) < 0) {
			snprintf(r->log, sizeof(r->log), "policy-lua: reevaluate failed, sessions kept: %s", err);
		} else if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
			const char *m = lua_tostring(L, -1);
			r->reasons[i] = strdup(m ? m : "ended by policy");
		}
		lua_session_done(L, r->snaps[i]);
		lua_settop(L, 0);
	}
	state_give(r->p, sb);
}

static void reeval_apply(const struct wg_session *s, void *arg)
{
	struct reeval *r = arg;
	const char *id = r->p->host->session_get(s, WG_SESS_ID);

	for (size_t i = 0; id && i < r->n; i++)
		if (r->reasons[i] && r->snaps[i]->session_id && strcmp(r->snaps[i]->session_id, id) == 0) {
			r->p->host->log(s, WG_LOG_INFO, "policy-lua: reevaluate ends the session: %s", r->reasons[i]);
			r->p->host->session_disconnect(s, r->reasons[i]);
			break;
		}
}

static void reeval_done(void *arg)
{
	struct reeval *r = arg;
	bool any = false;

	if (r->log[0])
		r->p->host->log(NULL, WG_LOG_ERROR, "%s", r->log);
	for (size_t i = 0; i < r->n; i++)
		any = any || r->reasons[i];
	/* Sessions are matched by id: one that ended meanwhile is simply gone. */
	if (any)
		r->p->host->session_foreach(reeval_apply, r);
	for (size_t i = 0; i < r->n; i++) {
		lua_snap_free(r->snaps[i]);
		free(r->reasons[i]);
	}
	r->p->reeval_running = false;
	free(r->snaps);
	free(r->reasons);
	free(r);
}

static void reeval_tick(void *arg)
{
	struct policy *p = arg;
	struct reeval *r;

	if (p->reeval_running || !(r = calloc(1, sizeof(*r))))
		return;
	r->p = p;
	p->host->session_foreach(reeval_collect, r);
	r->reasons = calloc(r->n ? r->n : 1, sizeof(char *));
	p->reeval_running = true;
	if (!r->reasons) {
		r->n = 0; /* nothing to judge: done() frees the snapshots' array */
		snprintf(r->log, sizeof(r->log), "policy-lua: reevaluate skipped: out of memory");
		reeval_done(r);
	} else if (p->host->run_blocking(reeval_work, reeval_done, r) < 0) {
		snprintf(r->log, sizeof(r->log), "policy-lua: reevaluate skipped: the worker queue is full");
		reeval_done(r);
	}
}

/* --- life cycle -------------------------------------------------------------- */

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct policy *p = calloc(1, sizeof(*p));
	const char *script = host->config_string(cfg, "script");

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	p->max_instructions = (long)host->config_int(cfg, "max-instructions");
	p->max_time_ms = (long)host->config_int(cfg, "max-time-ms");
	/* By default never shorter than the instruction budget at a slow
	 * 20 million instructions a second: a configuration that raised
	 * max-instructions keeps working, and time in C functions is bounded. */
	if (p->max_time_ms == 0)
		p->max_time_ms = 1000 + p->max_instructions / 20000;
	p->mem_limit = (size_t)host->config_int(cfg, "max-memory-kb") * 1024;
	snprintf(p->script, sizeof(p->script), "%s", script);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	/* The first state is made now, so a broken script stops the start. */
	p->states[0] = calloc(1, sizeof(struct lsb));
	if (!p->states[0] || lsb_open(p->states[0], script, p->mem_limit, p->max_instructions, p->max_time_ms, err, errlen) < 0) {
		free(p->states[0]);
		free(p);
		return -EINVAL;
	}
	p->n_states = 1;
	int64_t every = host->config_int(cfg, "reevaluate-interval");
	if (every > 0) {
		if (!WG_HOST_HAS(host, session_foreach) || !WG_HOST_HAS(host, session_disconnect)) {
			lsb_close(p->states[0]);
			free(p->states[0]);
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
	for (unsigned i = 0; i < p->n_states; i++) {
		lsb_close(p->states[i]);
		free(p->states[i]);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->freed);
	free(p);
}

static struct wg_policy_ops ops = {
	.struct_size = sizeof(struct wg_policy_ops),
	.after_auth = after_auth,
	.before_tunnel = before_tunnel,
	.on_disconnect = on_disconnect,
	.after_auth_async = after_auth_async,
	.before_tunnel_async = before_tunnel_async,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "policy-lua",
	.version = "0.2.0",
	.description = "per-session policy in sandboxed Lua 5.4 scripts, run on worker threads",
	.kind = WG_PLUGIN_POLICY,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};
