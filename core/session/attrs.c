/* A session's attributes as text (attrs.h). */
#include "session/attrs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

#include "modules/gen.h" /* struct wg_vhost */
#include "session/session_types.h"

/* The groups as "a,b,c", sized to fit: backends may send WG_MAX_GROUPS
 * names of up to 511 bytes each. Made once (groups do not change after
 * the login) and kept with the session; NULL without memory. */
static const char *joined_groups(const struct wg_session *s)
{
	struct wg_session *w = (struct wg_session *)s; /* a cache, not a change */
	size_t len = 0, at = 0;

	if (s->groups_joined)
		return s->groups_joined;
	for (unsigned i = 0; i < s->n_groups && s->groups[i]; i++)
		len += strlen(s->groups[i]) + 1;
	if (!(w->groups_joined = malloc(len + 1)))
		return NULL;
	w->groups_joined[0] = '\0';
	for (unsigned i = 0; i < s->n_groups && s->groups[i]; i++) {
		size_t n = strlen(s->groups[i]);
		if (i)
			w->groups_joined[at++] = ',';
		memcpy(w->groups_joined + at, s->groups[i], n);
		at += n;
	}
	w->groups_joined[at] = '\0';
	return w->groups_joined;
}

const char *wg_session_vhost_name(const struct wg_session *s)
{
	return s->vhost ? s->vhost->name : NULL;
}

const char *wg_session_attr(const struct wg_session *s, const char *name)
{
	if (!s || !name)
		return NULL;
	if (strcmp(name, WG_SESS_USER) == 0)
		return s->user;
	if (strcmp(name, WG_SESS_GROUP) == 0)
		return s->group[0] ? s->group : NULL;
	if (strcmp(name, WG_SESS_ID) == 0)
		return s->id_str;
	if (strcmp(name, WG_SESS_CLIENT_ADDR) == 0)
		return s->client_addr;
	if (strcmp(name, WG_SESS_ADDR4) == 0)
		return s->tc.addr4[0] ? s->tc.addr4 : NULL;
	if (strcmp(name, WG_SESS_ADDR6) == 0)
		return s->tc.addr6[0] ? s->tc.addr6 : NULL;
	if (strcmp(name, WG_SESS_USER_AGENT) == 0)
		return s->user_agent;
	if (strcmp(name, WG_SESS_GROUPS) == 0)
		return joined_groups(s);
	if (strcmp(name, WG_SESS_VHOST) == 0)
		return wg_session_vhost_name(s);
	if (strncmp(name, WG_SESS_ATTR_PREFIX, strlen(WG_SESS_ATTR_PREFIX)) == 0)
		name += strlen(WG_SESS_ATTR_PREFIX);
	const char *last = NULL;
	for (unsigned i = 0; i < s->n_attrs; i++)
		if (strcmp(s->attrs[i].key, name) == 0)
			last = s->attrs[i].value;
	return last;
}

int wg_session_set_attr(struct wg_session *s, const char *key, const char *value)
{
	bool repeats = strcmp(key, WG_ATTR_ROUTE) == 0 || strcmp(key, WG_ATTR_DNS) == 0;
	char *v = strdup(value);

	if (!v)
		return -1;
	for (unsigned i = 0; i < s->n_attrs && !repeats; i++) {
		if (strcmp(s->attrs[i].key, key) == 0) {
			free(s->attrs[i].value);
			s->attrs[i].value = v;
			return 0;
		}
	}
	char *k = s->n_attrs < WG_MAX_ATTRS ? strdup(key) : NULL;
	if (!k) {
		free(v);
		return -1;
	}
	s->attrs[s->n_attrs].key = k;
	s->attrs[s->n_attrs].value = v;
	s->n_attrs++;
	return 0;
}
