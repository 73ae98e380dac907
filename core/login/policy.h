/* Policy plugins at login: after the auth chain succeeded, every policy's
 * after_auth in conf.d order, then the address lease, then every policy's
 * before_tunnel. A hook may answer later (the asynchronous forms); the run
 * then waits without blocking the loop. The first denial ends the run. */
#ifndef WG_POLICY_H
#define WG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <wolfguard/plugin.h>

struct wg_server;
struct wg_session;
struct wg_plugins;

struct wg_policy_run {
	struct wg_server *srv;
	const struct wg_plugins *plugins;
	struct wg_session *s;
	struct wg_tunnel_config *tc; /* owned by the run's owner; filled by the lease */
	/* Called once at the end: rc 0 (allowed, leased), -EPERM (denied:
	 * msg says why), or another negative errno (no address). */
	void (*finish)(struct wg_policy_run *run, int rc);

	int phase;           /* internal from here on */
	size_t next;
	bool waiting, in_dispatch, denied;
	bool leasing;        /* the lease (cluster/cluster.h) has not answered yet */
	int lease_rc;
	const char *current; /* name of the plugin holding or last given the call */
	char msg[256];
};

/* Starts a run whose fields up to `finish` are set; finish may be called
 * before this returns. */
void wg_policy_run_start(struct wg_policy_run *run);
/* host->policy_done. */
void wg_policy_host_done(struct wg_policy_call *call, int verdict, const char *message);

void wg_policy_on_disconnect(struct wg_server *srv, const struct wg_session *s);

#endif
