/* login/ sits above session/ and tunnel/, so the session's events are
 * wired here; the server installs this table (srv->session_handlers). */
#include "login/session_handlers.h"

#include "cluster/cluster.h"
#include "login/policy.h"
#include "session/session.h"
#include "tunnel/iroute.h"
#include "tunnel/lane.h"
#include "tunnel/tunnel.h"

const struct wg_session_handlers wg_login_session_handlers = {
	.render_pushed = wg_tunnel_render_pushed,
	.ending = wg_policy_on_disconnect,
	.goodbye = wg_tunnel_goodbye,
	.close_lanes = wg_lanes_close,
	.routes_bound = wg_iroutes_bind,
	.routes_unbound = wg_iroutes_unbind,
	.tunnel_up = wg_cluster_session_up,
	.detached = wg_cluster_session_detached,
	.ended = wg_cluster_session_ended,
};
