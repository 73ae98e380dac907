/* Runs the policy plugins' hooks. An absent hook is a NULL and costs
 * nothing; a plugin that denies without a message gets a generic one. */
#include "policy.h"

#include <stdio.h>
#include <time.h>

#include "gen.h"
#include "loader.h"
#include "log.h"
#include "server.h"
#include "session.h"

static void default_message(char *msg, size_t msglen)
{
	if (msglen && !msg[0])
		snprintf(msg, msglen, "Access denied by policy.");
}

/* The policy instances of the session's own configuration generation: a
 * reload does not hand existing sessions to new scripts. */
static const struct wg_plugins *plugins_of(const struct wg_server *srv, const struct wg_session *s)
{
	return s && s->gen ? &s->gen->plugins : &srv->plugins;
}

int wg_policy_after_auth(struct wg_server *srv, const struct wg_session *s, char *msg, size_t msglen)
{
	const struct wg_plugins *ps = plugins_of(srv, s);

	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_loaded_plugin *p = &ps->v[i];
		const struct wg_policy_ops *ops = p->desc->ops;
		if (p->desc->kind != WG_PLUGIN_POLICY || !p->initialized || !ops->after_auth)
			continue;
		if (msglen)
			msg[0] = '\0';
		if (ops->after_auth(p->state, s, msg, msglen) != 0) {
			default_message(msg, msglen);
			wg_log(s, WG_LOG_NOTICE, "login denied by policy %s: %s", p->desc->name, msg);
			return -1;
		}
	}
	return 0;
}

int wg_policy_before_tunnel(struct wg_server *srv, const struct wg_session *s, struct wg_tunnel_config *tc,
			    char *msg, size_t msglen)
{
	const struct wg_plugins *ps = plugins_of(srv, s);

	for (size_t i = 0; i < ps->n; i++) {
		const struct wg_loaded_plugin *p = &ps->v[i];
		const struct wg_policy_ops *ops = p->desc->ops;
		if (p->desc->kind != WG_PLUGIN_POLICY || !p->initialized || !ops->before_tunnel)
			continue;
		if (msglen)
			msg[0] = '\0';
		if (ops->before_tunnel(p->state, s, tc, msg, msglen) != 0) {
			default_message(msg, msglen);
			wg_log(s, WG_LOG_NOTICE, "tunnel denied by policy %s: %s", p->desc->name, msg);
			return -1;
		}
	}
	return 0;
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
