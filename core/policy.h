/* Policy plugins, called in conf.d order at fixed points of a session's
 * life. The first that denies wins; its message is shown to the user. */
#ifndef WG_POLICY_H
#define WG_POLICY_H

#include <stddef.h>
#include <wolfguard/plugin.h>

struct wg_server;
struct wg_session;

int wg_policy_after_auth(struct wg_server *srv, const struct wg_session *s, char *msg, size_t msglen);
int wg_policy_before_tunnel(struct wg_server *srv, const struct wg_session *s, struct wg_tunnel_config *tc,
			    char *msg, size_t msglen);
void wg_policy_on_disconnect(struct wg_server *srv, const struct wg_session *s);

#endif
