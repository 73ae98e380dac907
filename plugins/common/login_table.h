/* Per-login state of an auth plugin, found by the host's conversation
 * handle (struct wg_auth *), shared by auth-radius, auth-ldap and auth-pam
 * (header-only: plugins are single objects that see only the SDK).
 *
 * A plugin embeds a struct login_entry as the FIRST member of its per-login
 * struct, adds it in start() and takes it out in its conversation_end hook,
 * the one place it frees that struct: the host calls the hook once for
 * every conversation the plugin took part in, however it ended, so no
 * entry outlives its conversation and nothing needs sweeping by age.
 *
 * A linear list: a plugin holds only the logins in progress (bounded by the
 * server's unauthenticated-connection limit), and each lookup is one
 * pointer comparison per entry. Loop thread only. */
#ifndef WG_PLUGINS_LOGIN_TABLE_H
#define WG_PLUGINS_LOGIN_TABLE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <wolfguard/plugin.h>

struct login_entry {
	struct wg_auth *a; /* the conversation; NULL: no longer tied to one */
	struct login_entry *next;
};

struct login_table {
	struct login_entry *head;
};

static inline void login_table_add(struct login_table *t, struct login_entry *e, struct wg_auth *a)
{
	e->a = a;
	e->next = t->head;
	t->head = e;
}

/* The entry of conversation a, or NULL. */
static inline struct login_entry *login_table_find(const struct login_table *t, const struct wg_auth *a)
{
	for (struct login_entry *e = t->head; e; e = e->next)
		if (e->a == a)
			return e;
	return NULL;
}

/* The per-login struct (`size` bytes, its entry first) for a start() of
 * conversation a: a new zeroed one, listed; or, when the chain began again
 * after a failure, the listed one zeroed in place but for its link. NULL
 * when out of memory. */
static inline struct login_entry *login_table_begin(struct login_table *t, struct wg_auth *a, size_t size)
{
	struct login_entry *e = login_table_find(t, a);

	if (!e) {
		if (!(e = calloc(1, size)))
			return NULL;
		login_table_add(t, e, a);
		return e;
	}
	struct login_entry keep = *e;
	explicit_bzero(e, size);
	*e = keep;
	return e;
}

/* Unlinks e (which must be listed). */
static inline void login_table_remove(struct login_table *t, struct login_entry *e)
{
	for (struct login_entry **pp = &t->head; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			e->next = NULL;
			return;
		}
	}
}

/* Unlinks and returns the entry of conversation a, or NULL: what a
 * conversation_end hook frees. */
static inline struct login_entry *login_table_take(struct login_table *t, const struct wg_auth *a)
{
	struct login_entry *e = a ? login_table_find(t, a) : NULL;

	if (e)
		login_table_remove(t, e);
	return e;
}

/* Unlinks and returns any entry, or NULL when empty (fini). */
static inline struct login_entry *login_table_pop(struct login_table *t)
{
	struct login_entry *e = t->head;

	if (e)
		login_table_remove(t, e);
	return e;
}

#endif
