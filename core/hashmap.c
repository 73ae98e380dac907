/* Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so lookups stay short however many deletes happen). Keys are
 * copied into one flat array; a slot is empty when its value is NULL.
 * The hash is a seeded 64-bit multiply-xorshift mix: the seed comes from
 * getrandom() per table, so colliding keys cannot be chosen in advance. */
#include "hashmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct wg_hashmap {
	size_t key_len;
	size_t cap;     /* power of two */
	size_t count;
	uint64_t seed;
	void **values;  /* cap slots */
	uint8_t *keys;  /* cap * key_len bytes */
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_key(const struct wg_hashmap *m, const uint8_t *key)
{
	uint64_t h = m->seed ^ (m->key_len * 0x9e3779b97f4a7c15ULL);
	size_t i = 0;

	for (; i + 8 <= m->key_len; i += 8) {
		uint64_t w;
		memcpy(&w, key + i, 8);
		h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < m->key_len) {
		uint64_t w = 0;
		memcpy(&w, key + i, m->key_len - i);
		h = mix(h ^ w ^ ((uint64_t)(m->key_len - i) << 56));
	}
	return mix(h);
}

static int alloc_slots(struct wg_hashmap *m, size_t cap)
{
	m->values = calloc(cap, sizeof(void *));
	m->keys = malloc(cap * m->key_len);
	if (!m->values || !m->keys) {
		free(m->values);
		free(m->keys);
		return -ENOMEM;
	}
	m->cap = cap;
	return 0;
}

struct wg_hashmap *wg_hashmap_new(size_t key_len)
{
	struct wg_hashmap *m = calloc(1, sizeof(*m));

	if (!m || key_len == 0)
		goto fail;
	m->key_len = key_len;
	if (getrandom(&m->seed, sizeof(m->seed), 0) != sizeof(m->seed))
		goto fail;
	if (alloc_slots(m, 16) < 0)
		goto fail;
	return m;
fail:
	free(m);
	return NULL;
}

void wg_hashmap_free(struct wg_hashmap *m)
{
	if (!m)
		return;
	free(m->values);
	free(m->keys);
	free(m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct wg_hashmap *m, const void *key)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)hash_key(m, key) & mask;

	while (m->values[i] && memcmp(m->keys + i * m->key_len, key, m->key_len) != 0)
		i = (i + 1) & mask;
	return i;
}

static int grow(struct wg_hashmap *m)
{
	struct wg_hashmap old = *m;

	if (alloc_slots(m, old.cap * 2) < 0) {
		*m = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.values[i])
			continue;
		size_t j = find_slot(m, old.keys + i * old.key_len);
		m->values[j] = old.values[i];
		memcpy(m->keys + j * m->key_len, old.keys + i * old.key_len, m->key_len);
	}
	free(old.values);
	free(old.keys);
	return 0;
}

int wg_hashmap_put(struct wg_hashmap *m, const void *key, void *value)
{
	size_t i;

	if (!value)
		return -EINVAL; /* NULL marks an empty slot */
	if ((m->count + 1) * 10 > m->cap * 7 && grow(m) < 0)
		return -ENOMEM;
	i = find_slot(m, key);
	if (!m->values[i]) {
		memcpy(m->keys + i * m->key_len, key, m->key_len);
		m->count++;
	}
	m->values[i] = value;
	return 0;
}

void *wg_hashmap_get(const struct wg_hashmap *m, const void *key)
{
	return m->values[find_slot(m, key)];
}

void *wg_hashmap_del(struct wg_hashmap *m, const void *key)
{
	size_t mask = m->cap - 1;
	size_t i = find_slot(m, key), j = i;
	void *value = m->values[i];

	if (!value)
		return NULL;
	m->values[i] = NULL;
	m->count--;
	/* Backward shift: move later members of the probe run into the hole
	 * when their home slot is not between the hole and their position. */
	for (;;) {
		j = (j + 1) & mask;
		if (!m->values[j])
			break;
		size_t home = (size_t)hash_key(m, m->keys + j * m->key_len) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->values[i] = m->values[j];
			memcpy(m->keys + i * m->key_len, m->keys + j * m->key_len, m->key_len);
			m->values[j] = NULL;
			i = j;
		}
	}
	return value;
}

size_t wg_hashmap_count(const struct wg_hashmap *m)
{
	return m->count;
}

void wg_hashmap_foreach(const struct wg_hashmap *m, void (*fn)(const void *key, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->values[i])
			fn(m->keys + i * m->key_len, m->values[i], arg);
}
