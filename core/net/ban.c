/* The ban table: a hash table from a 16-byte client key (client_key.h: an
 * IPv4 address, or an IPv6 prefix) to a small entry. */
#include "net/ban.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/client_key.h"
#include "hashmap.h"

#define REFUSED_LOG_INTERVAL_S 10

struct ban_entry {
	uint8_t key[WG_CLIENT_KEY_LEN];
	char addr[WG_CLIENT_KEY_TEXT];
	unsigned failures;      /* within the window that began at window_start */
	time_t window_start;
	time_t last_seen;       /* last failure or ban, for eviction */
	time_t banned_until;    /* 0: not banned */
	time_t refused_logged;  /* last "refused" log line, if logged_once */
	bool logged_once;
	bool manual;
};

struct wg_ban_table {
	struct wg_hashmap *map; /* key -> struct ban_entry (owned) */
	struct wg_ban_limits lim;
	uint64_t failures_total, bans_total, refused_total;
};

static int parse_key(const struct wg_ban_table *t, const char *text, uint8_t key[16], char *canon)
{
	return wg_client_key(text, t->lim.prefix6, key, canon);
}

int wg_ban_canonical(const struct wg_ban_table *t, const char *text, char *out, size_t outlen)
{
	uint8_t key[WG_CLIENT_KEY_LEN];
	char canon[WG_CLIENT_KEY_TEXT];

	if (parse_key(t, text, key, canon) < 0 || strlen(canon) >= outlen)
		return -1;
	memcpy(out, canon, strlen(canon) + 1);
	return 0;
}

static void fix_limits(struct wg_ban_limits *lim)
{
	if (lim->max_entries == 0)
		lim->max_entries = 1;
	if (lim->window_s == 0)
		lim->window_s = 1;
	if (lim->prefix6 == 0 || lim->prefix6 > 128)
		lim->prefix6 = 128;
}

struct wg_ban_table *wg_ban_new(const struct wg_ban_limits *lim)
{
	struct wg_ban_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->lim = *lim;
	fix_limits(&t->lim);
	t->map = wg_hashmap_new(16);
	if (!t->map) {
		free(t);
		return NULL;
	}
	return t;
}

void wg_ban_free(struct wg_ban_table *t)
{
	if (!t)
		return;
	wg_hashmap_free_owned(t->map);
	free(t);
}

void wg_ban_set_limits(struct wg_ban_table *t, const struct wg_ban_limits *lim)
{
	t->lim = *lim;
	fix_limits(&t->lim);
}

static bool banned(const struct ban_entry *e, time_t now)
{
	return e->banned_until > now;
}

static bool in_window(const struct wg_ban_table *t, const struct ban_entry *e, time_t now)
{
	return e->failures && now < e->window_start + (time_t)t->lim.window_s;
}

static bool expired(const struct wg_ban_table *t, const struct ban_entry *e, time_t now)
{
	return !banned(e, now) && !in_window(t, e, now);
}

void wg_ban_expire(struct wg_ban_table *t, time_t now)
{
	size_t n;
	void **all = wg_hashmap_values(t->map, &n);

	for (size_t i = 0; i < n; i++) {
		struct ban_entry *e = all[i];
		if (expired(t, e, now)) {
			wg_hashmap_del(t->map, e->key);
			free(e);
		}
	}
	free(all);
}

/* The entry to evict when the table is full: the unbanned entry seen
 * longest ago; else (every entry an active ban) the automatic ban that
 * ends soonest, so that a table filled with bans by an attacker's many
 * addresses still tracks a new address (one attacker is let go early
 * instead of a new one never being counted). Administrators' bans are
 * never evicted. */
static struct ban_entry *victim(struct wg_ban_table *t, time_t now)
{
	size_t n;
	void **all = wg_hashmap_values(t->map, &n);
	struct ban_entry *idle = NULL, *soonest = NULL;

	for (size_t i = 0; i < n; i++) {
		struct ban_entry *e = all[i];
		if (!banned(e, now)) {
			if (!idle || e->last_seen < idle->last_seen)
				idle = e;
		} else if (!e->manual && (!soonest || e->banned_until < soonest->banned_until)) {
			soonest = e;
		}
	}
	free(all);
	return idle ? idle : soonest;
}

/* Room for one more entry: expired ones go first, then victim(). False
 * when every entry is an administrator's ban. */
static bool make_room(struct wg_ban_table *t, time_t now)
{
	if (wg_hashmap_count(t->map) < t->lim.max_entries)
		return true;
	wg_ban_expire(t, now);
	while (wg_hashmap_count(t->map) >= t->lim.max_entries) {
		struct ban_entry *e = victim(t, now);
		if (!e)
			return false;
		wg_hashmap_del(t->map, e->key);
		free(e);
	}
	return true;
}

static struct ban_entry *lookup(struct wg_ban_table *t, const char *addr, bool create, time_t now, int *err)
{
	uint8_t key[WG_CLIENT_KEY_LEN];
	char canon[WG_CLIENT_KEY_TEXT];
	struct ban_entry *e;

	*err = 0;
	if (parse_key(t, addr, key, canon) < 0) {
		*err = -EINVAL;
		return NULL;
	}
	e = wg_hashmap_get(t->map, key);
	if (e || !create)
		return e;
	if (!make_room(t, now)) {
		*err = -ENOSPC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(e->key, key, sizeof(key));
	snprintf(e->addr, sizeof(e->addr), "%s", canon);
	if (wg_hashmap_put(t->map, e->key, e) < 0) {
		free(e);
		*err = -ENOMEM;
		return NULL;
	}
	return e;
}

int wg_ban_failure(struct wg_ban_table *t, const char *addr, time_t now)
{
	int err;
	struct ban_entry *e = lookup(t, addr, true, now, &err);

	if (!e)
		return err == -EINVAL ? -1 : 0;
	t->failures_total++;
	if (!in_window(t, e, now)) {
		e->failures = 0;
		e->window_start = now;
	}
	e->failures++;
	e->last_seen = now;
	if (t->lim.failures && e->failures >= t->lim.failures && !banned(e, now)) {
		e->banned_until = now + (time_t)t->lim.ban_s;
		e->manual = false;
		t->bans_total++;
		return 1;
	}
	return 0;
}

unsigned wg_ban_remaining(struct wg_ban_table *t, const char *addr, time_t now)
{
	int err;
	struct ban_entry *e = lookup(t, addr, false, now, &err);

	return e && banned(e, now) ? (unsigned)(e->banned_until - now) : 0;
}

bool wg_ban_note_refused(struct wg_ban_table *t, const char *addr, time_t now)
{
	int err;
	struct ban_entry *e = lookup(t, addr, false, now, &err);

	t->refused_total++;
	if (!e || (e->logged_once && now < e->refused_logged + REFUSED_LOG_INTERVAL_S))
		return false;
	e->refused_logged = now;
	e->logged_once = true;
	return true;
}

unsigned wg_ban_delay_ms(struct wg_ban_table *t, const char *addr, time_t now)
{
	int err;
	struct ban_entry *e = lookup(t, addr, false, now, &err);

	if (!e || !in_window(t, e, now))
		return 0;
	unsigned shift = e->failures - 1 < 16 ? e->failures - 1 : 16;
	unsigned long ms = (unsigned long)WG_BAN_DELAY_BASE_MS << shift;
	return ms > WG_BAN_DELAY_MAX_MS ? WG_BAN_DELAY_MAX_MS : (unsigned)ms;
}

int wg_ban_add(struct wg_ban_table *t, const char *addr, unsigned seconds, time_t now)
{
	int err;
	struct ban_entry *e;

	if (seconds == 0)
		return -EINVAL;
	e = lookup(t, addr, true, now, &err);
	if (!e)
		return err;
	e->banned_until = now + (time_t)seconds;
	e->manual = true;
	e->last_seen = now;
	t->bans_total++;
	return 0;
}

int wg_ban_remove(struct wg_ban_table *t, const char *addr, time_t now)
{
	int err;
	struct ban_entry *e = lookup(t, addr, false, 0, &err);

	if (err)
		return err;
	if (!e)
		return 0;
	bool was = banned(e, now);
	wg_hashmap_del(t->map, e->key);
	free(e);
	return was ? 1 : 0;
}

size_t wg_ban_foreach(struct wg_ban_table *t, time_t now, void (*fn)(const struct wg_ban_info *b, void *arg),
		      void *arg)
{
	size_t n, count = 0;
	void **all = wg_hashmap_values(t->map, &n);

	for (size_t i = 0; i < n; i++) {
		const struct ban_entry *e = all[i];
		if (!banned(e, now))
			continue;
		struct wg_ban_info info = {e->addr, e->banned_until, e->failures, e->manual};
		if (fn)
			fn(&info, arg);
		count++;
	}
	free(all);
	return count;
}

void wg_ban_stats(struct wg_ban_table *t, time_t now, struct wg_ban_stats *out)
{
	out->failures_total = t->failures_total;
	out->bans_total = t->bans_total;
	out->refused_total = t->refused_total;
	out->tracked = wg_hashmap_count(t->map);
	out->active = wg_ban_foreach(t, now, NULL, NULL);
}
