/* A session's attributes as text: the WG_SESS_* names (user, group,
 * addresses, ...) and what backends and policies set ("attr:<key>"). */
#ifndef WG_SESSION_ATTRS_H
#define WG_SESSION_ATTRS_H

struct wg_session;

/* Sets a backend/policy attribute: WG_ATTR_ROUTE and WG_ATTR_DNS add a
 * value, any other key replaces its value. Returns 0 or -1 (full, no memory). */
int wg_session_set_attr(struct wg_session *s, const char *key, const char *value);

/* The name of the vhost it logged in under, NULL for the default server. */
const char *wg_session_vhost_name(const struct wg_session *s);

/* For log lines, limits and host->session_get. */
const char *wg_session_attr(const struct wg_session *s, const char *name);

#endif
