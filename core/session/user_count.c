/* Shared per-user session counts (see user_count.h). Open addressing with
 * linear probing and backward-shift deletion, so a name leaves no tombstone
 * and the table never fills with users who logged out long ago. The names
 * are stored whole (user names are at most 127 bytes, as in a session), so
 * two users never share a count. */
#include "session/user_count.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "config/config.h"

#define NAME_MAX_LEN 128

struct slot {
	uint32_t count; /* 0: free */
	char name[NAME_MAX_LEN];
};

struct wg_user_count {
	pthread_mutex_t lock; /* process-shared */
	size_t mask;          /* slots - 1 */
	size_t used;
	size_t map_len;
	struct slot slots[];
};

/* FNV-1a: the names come from logins that succeeded, so an attacker cannot
 * pick colliding names at will, and a collision costs only a probe. */
static size_t home_of(const struct wg_user_count *t, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 29)) & t->mask;
}

struct wg_user_count *wg_user_count_new(size_t slots)
{
	size_t n = 16;
	while (n < slots && n < ((size_t)1 << 20))
		n <<= 1;
	size_t len = sizeof(struct wg_user_count) + n * sizeof(struct slot);
	struct wg_user_count *t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	pthread_mutexattr_t a;
	if (pthread_mutexattr_init(&a) != 0 || pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutex_init(&t->lock, &a) != 0) {
		munmap(t, len);
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	t->mask = n - 1;
	t->map_len = len;
	return t; /* the mapping is zeroed: every slot free */
}

size_t wg_user_count_slots(const struct wg_config *server)
{
	int64_t max = wg_config_int(server, "max-clients");
	return max > 0 ? (size_t)max * 2 : (size_t)1 << 16;
}

void wg_user_count_free(struct wg_user_count *t)
{
	if (t)
		munmap(t, t->map_len);
}

/* The slot holding name, or the free slot where it would go. */
static size_t find(const struct wg_user_count *t, const char *name)
{
	size_t i = home_of(t, name);
	while (t->slots[i].count && strcmp(t->slots[i].name, name) != 0)
		i = (i + 1) & t->mask;
	return i;
}

enum wg_user_count_result wg_user_count_take(struct wg_user_count *t, const char *user, unsigned limit,
					     unsigned *count)
{
	enum wg_user_count_result r = WG_USER_COUNT_TAKEN;
	char name[NAME_MAX_LEN];

	snprintf(name, sizeof(name), "%s", user);
	pthread_mutex_lock(&t->lock);
	size_t i = find(t, name);
	struct slot *s = &t->slots[i];
	*count = s->count;
	if (limit && s->count >= limit)
		r = WG_USER_COUNT_LIMIT;
	else if (s->count == 0 && t->used + 1 > t->mask) /* keep one slot free: probes end */
		r = WG_USER_COUNT_FULL;
	else {
		if (s->count++ == 0) {
			memcpy(s->name, name, sizeof(name));
			t->used++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

void wg_user_count_release(struct wg_user_count *t, const char *user)
{
	char name[NAME_MAX_LEN];

	snprintf(name, sizeof(name), "%s", user);
	pthread_mutex_lock(&t->lock);
	size_t i = find(t, name);
	if (t->slots[i].count && --t->slots[i].count == 0) {
		/* Backward shift: pull later members of the probe run into the
		 * hole so every remaining name stays reachable from its home. */
		t->used--;
		size_t hole = i, j = i;
		for (;;) {
			j = (j + 1) & t->mask;
			if (!t->slots[j].count)
				break;
			size_t home = home_of(t, t->slots[j].name);
			/* j may move to hole unless its home lies cyclically in (hole, j]. */
			bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
			if (stays)
				continue;
			t->slots[hole] = t->slots[j];
			t->slots[j].count = 0;
			hole = j;
		}
		memset(t->slots[hole].name, 0, sizeof(t->slots[hole].name));
	}
	pthread_mutex_unlock(&t->lock);
}

unsigned wg_user_count_get(struct wg_user_count *t, const char *user)
{
	char name[NAME_MAX_LEN];

	snprintf(name, sizeof(name), "%s", user);
	pthread_mutex_lock(&t->lock);
	unsigned n = t->slots[find(t, name)].count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
