/* The cluster store in a build without hiredis: "cluster-redis" is refused
 * with that reason, and everything else is a no-op (cluster.h). */
#include "cluster/cluster.h"
#include "cluster/lease.h"

#include "observe/metrics.h"
#include "server.h"
#include "session/session.h"
#include "util/log.h"

int wg_cluster_start(struct wg_server *srv)
{
	const char *addr = wg_config_string(srv->scfg, "cluster-redis");

	srv->cluster = NULL;
	if (!addr || !*addr)
		return 0;
	wg_log(NULL, WG_LOG_ERROR, "cluster-redis: this wolfguard was built without hiredis (meson -Dcluster=enabled)");
	return -1;
}

void wg_cluster_stop(struct wg_server *srv)
{
	(void)srv;
}

void wg_cluster_session_up(struct wg_session *s)
{
	(void)s;
}

void wg_cluster_session_detached(struct wg_session *s)
{
	(void)s;
}

void wg_cluster_session_ended(struct wg_session *s, const char *reason)
{
	(void)s;
	(void)reason;
}

void wg_cluster_ban(struct wg_server *srv, const char *addr, unsigned seconds)
{
	(void)srv;
	(void)addr;
	(void)seconds;
}

void wg_cluster_unban(struct wg_server *srv, const char *addr)
{
	(void)srv;
	(void)addr;
}

void wg_cluster_login_failed(struct wg_server *srv, const char *addr)
{
	(void)srv;
	(void)addr;
}

unsigned wg_cluster_user_sessions_elsewhere(struct wg_server *srv, const char *user)
{
	(void)srv;
	(void)user;
	return 0;
}

int wg_cluster_adopt(struct wg_conn *c, const char *cookie_hex, wg_cluster_resume_fn *resume)
{
	(void)c;
	(void)cookie_hex;
	(void)resume;
	return -1;
}

void wg_cluster_conn_gone(struct wg_conn *c)
{
	(void)c;
}

void wg_cluster_lease(struct wg_session *s, struct wg_tunnel_config *tc, wg_cluster_lease_fn *done, void *arg)
{
	done(arg, wg_session_lease_begin(s, tc));
}

void wg_cluster_metrics(struct wg_server *srv, struct wg_metrics *m)
{
	(void)srv;
	m->cluster_on = false;
}
