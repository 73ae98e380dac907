/* Runs the policy plugins' hooks at login (see policy.h) and at disconnect.
 * An absent hook costs nothing; a plugin that denies without a message gets
 * a generic one. */
#include "login/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "cluster/lease.h"
#include "modules/gen.h"
#include "modules/loader.h"
#include "util/log.h"
#include "server.h"
#include "session/session.h"

enum { PH_AFTER_AUTH, PH_BEFORE_TUNNEL, PH_DONE };

/* The call handle a plugin holds is the run itself, opaque to it. */
static struct wg_policy_call *as_call(struct wg_policy_run *r)
{
	return (struct wg_policy_call *)r;
}

/* The policy instances of the session's own configuration generation: a
 * reload does not hand existing sessions to new scripts. */
static const struct wg_plugins *plugins_of(const struct wg_server *srv, const struct wg_session *s)
{
	return &(s ? s->gen : srv->gen)->plugins;
}

static const struct wg_loaded_plugin *next_policy(struct wg_policy_run *r)
{
	while (r->next < r->plugins->n) {
		const struct wg_loaded_plugin *p = &r->plugins->v[r->next++];
		if (p->desc->kind == WG_PLUGIN_POLICY && p->initialized)
			return p;
	}
	return NULL;
}

static void finish(struct wg_policy_run *r, int rc)
{
	if (rc == -EPERM) {
		if (!r->msg[0])
			snprintf(r->msg, sizeof(r->msg), "Access denied by policy.");
		wg_log(r->s, WG_LOG_NOTICE, "%s denied by policy %s: %s",
		       r->phase == PH_AFTER_AUTH ? "login" : "tunnel", r->current, r->msg);
	}
	r->phase = PH_DONE;
	r->finish(r, rc);
}

/* Calls one hook; returns true when it answered (verdict in r->denied). */
static bool call_hook(struct wg_policy_run *r, const struct wg_loaded_plugin *p)
{
	const struct wg_policy_ops *ops = p->desc->ops;
	bool after = r->phase == PH_AFTER_AUTH;

	r->current = p->desc->name;
	r->msg[0] = '\0';
	if (after ? WG_OPS_HAS(ops, after_auth_async) : WG_OPS_HAS(ops, before_tunnel_async)) {
		r->waiting = true;
		r->in_dispatch = true;
		if (after)
			ops->after_auth_async(p->state, r->s, as_call(r));
		else
			ops->before_tunnel_async(p->state, r->s, r->tc, as_call(r));
		r->in_dispatch = false;
		return !r->waiting;
	}
	if (after && ops->after_auth)
		r->denied = ops->after_auth(p->state, r->s, r->msg, sizeof(r->msg)) != 0;
	else if (!after && ops->before_tunnel)
		r->denied = ops->before_tunnel(p->state, r->s, r->tc, r->msg, sizeof(r->msg)) != 0;
	return true;
}

static void leased(void *arg, int rc);

static void run(struct wg_policy_run *r)
{
	for (;;) {
		if (r->denied) {
			finish(r, -EPERM);
			return;
		}
		const struct wg_loaded_plugin *p = next_policy(r);
		if (!p && r->phase == PH_AFTER_AUTH) {
			/* The lease may wait for the cluster's shared pool. */
			r->phase = PH_BEFORE_TUNNEL;
			r->next = 0;
			r->leasing = true;
			r->in_dispatch = true;
			wg_cluster_lease(r->s, r->tc, leased, r);
			r->in_dispatch = false;
			if (r->leasing)
				return; /* leased() resumes */
			if (r->lease_rc < 0) {
				finish(r, r->lease_rc);
				return;
			}
			continue;
		}
		if (!p) {
			finish(r, 0);
			return;
		}
		if (!call_hook(r, p))
			return; /* policy_done resumes */
	}
}

static void leased(void *arg, int rc)
{
	struct wg_policy_run *r = arg;

	r->leasing = false;
	r->lease_rc = rc;
	if (r->in_dispatch)
		return;
	if (rc < 0)
		finish(r, rc);
	else
		run(r);
}

void wg_policy_run_start(struct wg_policy_run *r)
{
	r->phase = PH_AFTER_AUTH;
	r->next = 0;
	r->waiting = r->in_dispatch = r->denied = r->leasing = false;
	r->lease_rc = 0;
	r->current = "-";
	r->msg[0] = '\0';
	run(r);
}

void wg_policy_host_done(struct wg_policy_call *call, int verdict, const char *message)
{
	struct wg_policy_run *r = (struct wg_policy_run *)call;

	if (!r || !r->waiting) {
		wg_log(NULL, WG_LOG_ERROR, "policy plugin %s answered a call twice; ignored", r ? r->current : "?");
		return;
	}
	r->waiting = false;
	r->denied = verdict != 0;
	snprintf(r->msg, sizeof(r->msg), "%s", r->denied && message ? message : "");
	if (!r->in_dispatch)
		run(r);
}

void wg_policy_on_disconnect(struct wg_server *srv, const struct wg_session *s)
{
	time_t now = time(NULL);
	const struct wg_plugins *ps = plugins_of(srv, s);

	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_loaded_plugin *p = &ps->v[i];
		const struct wg_policy_ops *ops = p->desc->ops;
		if (p->desc->kind != WG_PLUGIN_POLICY || !p->initialized || !ops->on_disconnect)
			continue;
		ops->on_disconnect(p->state, s, s->rx_bytes, s->tx_bytes,
				   now > s->created ? (uint64_t)(now - s->created) : 0);
	}
}
