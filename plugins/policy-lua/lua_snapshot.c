#include "lua_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dup_or_null(const char *v, int *oom)
{
	char *d = v ? strdup(v) : NULL;

	if (v && !d)
		*oom = 1;
	return d;
}

struct lua_snap *lua_snap_take(const struct wg_host *host, const struct wg_session *s)
{
	struct lua_snap *n = calloc(1, sizeof(*n));
	int oom = 0;
	const char *k, *v;

	if (!n)
		return NULL;
	n->user = dup_or_null(host->session_get(s, WG_SESS_USER), &oom);
	n->group = dup_or_null(host->session_get(s, WG_SESS_GROUP), &oom);
	n->session_id = dup_or_null(host->session_get(s, WG_SESS_ID), &oom);
	n->client_address = dup_or_null(host->session_get(s, WG_SESS_CLIENT_ADDR), &oom);
	n->user_agent = dup_or_null(host->session_get(s, WG_SESS_USER_AGENT), &oom);
	n->client_version = dup_or_null(host->session_get(s, "client-version"), &oom);
	n->platform = dup_or_null(host->session_get(s, "client-platform"), &oom);
	n->address = dup_or_null(host->session_get(s, WG_SESS_ADDR4), &oom);
	n->address6 = dup_or_null(host->session_get(s, WG_SESS_ADDR6), &oom);
	n->groups = dup_or_null(host->session_get(s, WG_SESS_GROUPS), &oom);
	n->vhost = dup_or_null(host->session_get(s, WG_SESS_VHOST), &oom);
	n->time = (int64_t)time(NULL);
	if (WG_HOST_HAS(host, session_attr_at)) {
		size_t count = 0;
		while (host->session_attr_at(s, count, &k, &v) == 0)
			count++;
		n->keys = calloc(count ? count : 1, sizeof(char *));
		n->values = calloc(count ? count : 1, sizeof(char *));
		if (!n->keys || !n->values)
			oom = 1;
		for (size_t i = 0; !oom && i < count && host->session_attr_at(s, i, &k, &v) == 0; i++) {
			n->keys[i] = dup_or_null(k, &oom);
			n->values[i] = dup_or_null(v, &oom);
			n->n_attrs = i + 1;
		}
	}
	if (oom) {
		lua_snap_free(n);
		return NULL;
	}
	return n;
}

const char *lua_snap_attr(const struct lua_snap *snap, const char *name)
{
	const char *last = NULL;

	for (size_t i = 0; i < snap->n_attrs; i++)
		if (snap->keys[i] && strcmp(snap->keys[i], name) == 0)
			last = snap->values[i];
	return last;
}

const char *const lua_limit_names[LUA_N_LIMITS] = {
	WG_ATTR_RX_PER_SEC, WG_ATTR_TX_PER_SEC, WG_ATTR_DATA_QUOTA, WG_ATTR_RESTRICT_ROUTES, WG_ATTR_RESTRICT_PORTS,
};

void lua_snap_apply(const struct wg_host *host, const struct wg_session *s, const struct lua_snap *snap)
{
	if (snap->set_group && WG_HOST_HAS(host, session_set_group))
		host->session_set_group(s, snap->set_group);
	if (snap->set_pool && WG_HOST_HAS(host, session_set_attr))
		host->session_set_attr(s, WG_ATTR_POOL, snap->set_pool);
	/* An address with a ':' is IPv6: the routing plugin leases by it when
	 * no IPv4 address was asked for (routing-static: its slot). */
	if (snap->set_address && WG_HOST_HAS(host, session_set_attr))
		host->session_set_attr(s, strchr(snap->set_address, ':') ? WG_ATTR_FRAMED_IPV6 : WG_ATTR_FRAMED_IPV4,
				       snap->set_address);
	if (snap->set_max_same_clients && WG_HOST_HAS(host, session_set_attr))
		host->session_set_attr(s, WG_ATTR_MAX_SAME_CLIENTS, snap->set_max_same_clients);
	for (size_t i = 0; i < LUA_N_LIMITS; i++)
		if (snap->set_limits[i] && WG_HOST_HAS(host, session_set_attr))
			host->session_set_attr(s, lua_limit_names[i], snap->set_limits[i]);
}

void lua_snap_free(struct lua_snap *n)
{
	if (!n)
		return;
	char **fields[] = {&n->user, &n->group, &n->session_id, &n->client_address, &n->user_agent, &n->client_version,
			   &n->platform, &n->address, &n->address6, &n->groups, &n->vhost, &n->set_group, &n->set_pool,
			   &n->set_address, &n->set_max_same_clients};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	for (size_t i = 0; i < LUA_N_LIMITS; i++)
		free(n->set_limits[i]);
	for (size_t i = 0; i < n->n_attrs; i++) {
		free(n->keys[i]);
		free(n->values[i]);
	}
	free(n->keys);
	free(n->values);
	free(n);
}
