/* Flow hashing and the bucket table (see lane_sched.h). */
#include "lane_sched.h"

#include <string.h>

/* ---- flow hash ------------------------------------------------------------ */

#define HASH_MUL 0x9e3779b1u

/* Multiply-xor per 32-bit word: a few instructions, and the same in eBPF
 * (docs/architecture.md, lanes on several workers). */
static uint32_t mix(uint32_t h, uint32_t w)
{
	h = (h ^ w) * HASH_MUL;
	return h ^ (h >> 16);
}

static uint32_t word(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136; /* TCP, UDP, SCTP, UDP-Lite */
}

uint32_t wg_flow_hash(const uint8_t *pkt, size_t len, uint32_t seed)
{
	uint32_t h = seed;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		size_t ihl = (size_t)(pkt[0] & 15) * 4;
		bool fragment = (pkt[6] & 0x20) || ((pkt[6] & 0x1f) | pkt[7]);
		h = mix(mix(mix(h, word(pkt + 12)), word(pkt + 16)), pkt[9]);
		if (ihl >= 20 && !fragment && has_ports(pkt[9]) && len >= ihl + 4)
			h = mix(h, word(pkt + ihl));
		return h;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		for (size_t i = 8; i < 40; i += 4)
			h = mix(h, word(pkt + i));
		h = mix(h, pkt[6]);
		/* Ports only right after the fixed header: with an extension
		 * header in between, every packet of the flow still hashes on
		 * its addresses alike. */
		if (has_ports(pkt[6]) && len >= 44)
			h = mix(h, word(pkt + 40));
		return h;
	}
	for (size_t i = 0; i < len && i < 40; i++)
		h = mix(h, pkt[i]);
	return h;
}

/* ---- buckets ---------------------------------------------------------------- */

void wg_sched_init(struct wg_sched *s, unsigned n)
{
	memset(s, 0, sizeof(*s));
	s->n = n > WG_LANES_MAX ? WG_LANES_MAX : n;
	for (unsigned i = 0; i < WG_LANES_MAX; i++)
		s->weight[i] = WG_SCHED_START_BPS;
	memset(s->bucket, WG_SCHED_NONE, sizeof(s->bucket));
}

unsigned wg_sched_buckets_of(const struct wg_sched *s, unsigned lane)
{
	unsigned c = 0;

	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++)
		c += s->bucket[b] == lane;
	return c;
}

/* Each live lane's share of the buckets by weight (at least one), summing to
 * WG_SCHED_BUCKETS: largest remainders get the buckets rounding left over. */
static unsigned targets(const struct wg_sched *s, unsigned t[WG_LANES_MAX])
{
	uint64_t total = 0, rem[WG_LANES_MAX] = {0};
	unsigned live = 0, given = 0;

	for (unsigned i = 0; i < s->n; i++) {
		t[i] = 0;
		if (s->alive[i]) {
			total += s->weight[i];
			live++;
		}
	}
	if (!live)
		return 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (!s->alive[i])
			continue;
		uint64_t share = s->weight[i] * WG_SCHED_BUCKETS;
		t[i] = (unsigned)(share / total);
		rem[i] = share % total;
		if (t[i] == 0) {
			t[i] = 1;
			rem[i] = 0;
		}
		given += t[i];
	}
	while (given < WG_SCHED_BUCKETS) { /* the largest remainder first */
		unsigned best = s->n;
		for (unsigned i = 0; i < s->n; i++)
			if (s->alive[i] && (best == s->n || rem[i] > rem[best]))
				best = i;
		t[best]++;
		rem[best] = 0;
		given++;
	}
	while (given > WG_SCHED_BUCKETS) { /* minimums overshot: the largest gives */
		unsigned best = s->n;
		for (unsigned i = 0; i < s->n; i++)
			if (s->alive[i] && t[i] > 1 && (best == s->n || t[i] > t[best]))
				best = i;
		t[best]--;
		given--;
	}
	return live;
}

void wg_sched_rebalance(struct wg_sched *s)
{
	unsigned t[WG_LANES_MAX], c[WG_LANES_MAX] = {0};
	bool orphans = false, off_by_more = false;

	if (!targets(s, t)) {
		memset(s->bucket, WG_SCHED_NONE, sizeof(s->bucket));
		return;
	}
	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++) {
		uint8_t l = s->bucket[b];
		if (l == WG_SCHED_NONE || l >= s->n || !s->alive[l])
			orphans = true;
		else
			c[l]++;
	}
	for (unsigned i = 0; i < s->n; i++)
		if (s->alive[i] && (c[i] + 1 < t[i] || c[i] > t[i] + 1))
			off_by_more = true;
	/* Within one bucket of every share and nothing orphaned: flows stay. */
	if (!orphans && !off_by_more)
		return;
	/* Buckets leave only dead lanes and lanes above their share ... */
	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++) {
		uint8_t l = s->bucket[b];
		if (l != WG_SCHED_NONE && l < s->n && s->alive[l] && c[l] <= t[l])
			continue;
		if (l != WG_SCHED_NONE && l < s->n && s->alive[l])
			c[l]--;
		s->bucket[b] = WG_SCHED_NONE;
	}
	/* ... and go to lanes below it. */
	for (unsigned b = 0; b < WG_SCHED_BUCKETS; b++) {
		if (s->bucket[b] != WG_SCHED_NONE)
			continue;
		unsigned need = s->n;
		for (unsigned i = 0; i < s->n; i++)
			if (s->alive[i] && c[i] < t[i] && (need == s->n || t[i] - c[i] > t[need] - c[need]))
				need = i;
		s->bucket[b] = (uint8_t)need;
		c[need]++;
		s->moves++;
	}
}

void wg_sched_set_alive(struct wg_sched *s, unsigned lane, bool alive)
{
	if (lane >= s->n || s->alive[lane] == alive)
		return;
	s->alive[lane] = alive;
	wg_sched_rebalance(s);
}

void wg_sched_measure(struct wg_sched *s, unsigned lane, uint64_t sent, uint64_t delivered, uint64_t us)
{
	uint64_t sample;

	if (lane >= s->n || us == 0 || sent < WG_SCHED_MIN_SAMPLE_BYTES)
		return;
	if (delivered > sent)
		delivered = sent; /* bytes in flight at the last mark arrived now */
	/* Delivered 90 % or more: not the bottleneck, room to grow by a
	 * quarter; less: the lane is full at what it delivered. */
	if (delivered * 10 >= sent * 9)
		sample = sent * 1000000 / us * 5 / 4;
	else
		sample = delivered * 1000000 / us;
	s->weight[lane] = (s->weight[lane] * 7 + sample) / 8;
	if (s->weight[lane] < WG_SCHED_FLOOR_BPS)
		s->weight[lane] = WG_SCHED_FLOOR_BPS;
	wg_sched_rebalance(s);
}
