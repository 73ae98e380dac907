/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so probe runs stay as short after a million deletes as after
 * none, and a miss stops at the first empty slot.
 *
 * Each slot holds the value pointer followed by a copy of the key, in one
 * flat array, so a lookup usually touches a single cache line. A slot is
 * empty when its value is NULL (which is why NULL values are refused).
 *
 * The hash is SipHash-2-4 keyed with 128 random bits per table: clients
 * choose some of the keys (their UDP source address, the cookie they
 * present), and with a keyed PRF they cannot aim them at one probe run. */
#include "hashmap.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MIN_SLOTS 16
#define MAX_KEY_LEN 4096 /* far above any real key; keeps slot arithmetic small */

struct wg_hashmap {
	size_t key_len;
	size_t stride;   /* bytes per slot: value pointer + key, rounded to 8 */
	size_t cap;      /* slots; a power of two */
	size_t count;
	uint64_t k0, k1; /* SipHash key */
	uint8_t *slots;  /* cap * stride bytes, owned */
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), written from the paper ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                   \
	do {                                                                       \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);          \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                             \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                             \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);          \
	} while (0)

static uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);
		m = le64toh(m);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- slots ---- */

static inline uint8_t *slot_at(const struct wg_hashmap *m, size_t i)
{
	return m->slots + i * m->stride;
}

static inline void *slot_value(const uint8_t *slot)
{
	void *v;
	memcpy(&v, slot, sizeof(v));
	return v;
}

static inline void slot_set_value(uint8_t *slot, void *v)
{
	memcpy(slot, &v, sizeof(v));
}

static inline uint8_t *slot_key(uint8_t *slot)
{
	return slot + sizeof(void *);
}

static inline size_t home_of(const struct wg_hashmap *m, const void *key)
{
	return (size_t)siphash24(m->k0, m->k1, key, m->key_len) & (m->cap - 1);
}

/* The slot holding key, or the empty slot ending its probe run. The load
 * limit guarantees an empty slot exists, so the loop ends. */
static size_t find_slot(const struct wg_hashmap *m, const void *key)
{
	size_t mask = m->cap - 1;
	size_t i = home_of(m, key);

	for (;;) {
		uint8_t *s = slot_at(m, i);
		if (!slot_value(s) || memcmp(slot_key(s), key, m->key_len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

/* Allocates an empty array of cap slots into m (m->slots is overwritten). */
static int alloc_slots(struct wg_hashmap *m, size_t cap)
{
	if (cap > SIZE_MAX / m->stride)
		return -ENOMEM;
	m->slots = calloc(cap, m->stride); /* all-zero = every value NULL */
	if (!m->slots)
		return -ENOMEM;
	m->cap = cap;
	return 0;
}

struct wg_hashmap *wg_hashmap_new(size_t key_len)
{
	struct wg_hashmap *m;
	uint64_t seed[2];

	if (key_len == 0 || key_len > MAX_KEY_LEN)
		return NULL;
	/* Blocks only before the kernel's pool is initialised, i.e. early boot. */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->key_len = key_len;
	m->stride = (sizeof(void *) + key_len + 7) & ~(size_t)7;
	m->k0 = seed[0];
	m->k1 = seed[1];
	if (alloc_slots(m, MIN_SLOTS) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

void wg_hashmap_free(struct wg_hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static void free_value(const void *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

void wg_hashmap_free_owned(struct wg_hashmap *m)
{
	if (!m)
		return;
	wg_hashmap_foreach(m, free_value, NULL);
	wg_hashmap_free(m);
}

/* Doubles the table and reinserts every entry. On failure m is unchanged. */
static int grow(struct wg_hashmap *m)
{
	uint8_t *old = m->slots;
	size_t old_cap = m->cap;

	if (old_cap > SIZE_MAX / 2 || alloc_slots(m, old_cap * 2) < 0) {
		m->slots = old;
		m->cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++) {
		uint8_t *src = old + i * m->stride;
		if (slot_value(src))
			memcpy(slot_at(m, find_slot(m, slot_key(src))), src, m->stride);
	}
	free(old);
	return 0;
}

int wg_hashmap_put(struct wg_hashmap *m, const void *key, void *value)
{
	uint8_t *s;

	if (!value)
		return -EINVAL;
	s = slot_at(m, find_slot(m, key));
	if (slot_value(s)) {
		slot_set_value(s, value); /* replace: no growth needed */
		return 0;
	}
	/* Keep the load at or below 0.7: beyond it linear probing's runs grow fast. */
	if ((m->count + 1) * 10 > m->cap * 7) {
		if (grow(m) < 0)
			return -ENOMEM;
		s = slot_at(m, find_slot(m, key));
	}
	memcpy(slot_key(s), key, m->key_len);
	slot_set_value(s, value);
	m->count++;
	return 0;
}

void *wg_hashmap_get(const struct wg_hashmap *m, const void *key)
{
	return slot_value(slot_at(m, find_slot(m, key)));
}

void *wg_hashmap_del(struct wg_hashmap *m, const void *key)
{
	size_t mask = m->cap - 1;
	size_t hole = find_slot(m, key);
	void *value = slot_value(slot_at(m, hole));

	if (!value)
		return NULL;
	m->count--;
	/* Backward shift: walk the rest of the run; an entry may fill the hole
	 * only if the hole lies on its probe path, i.e. its home is not in
	 * (hole, j] (cyclically). Then the entry's old slot becomes the hole. */
	for (size_t j = (hole + 1) & mask;; j = (j + 1) & mask) {
		uint8_t *s = slot_at(m, j);
		if (!slot_value(s))
			break;
		size_t home = home_of(m, slot_key(s));
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			memcpy(slot_at(m, hole), s, m->stride);
			hole = j;
		}
	}
	slot_set_value(slot_at(m, hole), NULL);
	return value;
}

size_t wg_hashmap_count(const struct wg_hashmap *m)
{
	return m->count;
}

void wg_hashmap_foreach(const struct wg_hashmap *m, void (*fn)(const void *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++) {
		uint8_t *s = slot_at(m, i);
		void *v = slot_value(s);
		if (v)
			fn(slot_key(s), v, arg);
	}
}

void wg_hashmap_stats(const struct wg_hashmap *m, struct wg_hashmap_stats *out)
{
	size_t mask = m->cap - 1;

	memset(out, 0, sizeof(*out));
	out->count = m->count;
	out->slots = m->cap;
	out->bytes = sizeof(*m) + m->cap * m->stride;
	for (size_t i = 0; i < m->cap; i++) {
		uint8_t *s = slot_at(m, i);
		if (!slot_value(s))
			continue;
		size_t dist = (i - home_of(m, slot_key(s))) & mask;
		out->total_probe += dist;
		if (dist > out->max_probe)
			out->max_probe = dist;
	}
}

static void append_value(const void *key, void *value, void *arg)
{
	void ***cursor = arg;

	(void)key;
	*(*cursor)++ = value;
}

void **wg_hashmap_values(const struct wg_hashmap *m, size_t *n)
{
	void **all, **cursor;

	*n = wg_hashmap_count(m);
	if (*n == 0 || !(all = calloc(*n, sizeof(*all)))) {
		*n = 0;
		return NULL;
	}
	cursor = all;
	wg_hashmap_foreach(m, append_value, &cursor);
	return all;
}
