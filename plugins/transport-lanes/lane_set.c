/* One session's lanes (see lane_set.h). */
#include "lane_set.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void wg_lane_set_init(struct wg_lane_set *ls)
{
	wg_sched_init(&ls->sched, ls->n);
	memset(ls->lane, 0, sizeof(ls->lane));
	for (unsigned i = 0; i < WG_LANES_MAX; i++)
		wg_lane_rto_init(&ls->lane[i].rto, ls->cfg.deadline_ms);
	ls->last_tick_us = 0;
}

void wg_lane_set_close(struct wg_lane_set *ls)
{
	for (unsigned i = 0; i < ls->n; i++) {
		struct wg_lane_link *l = ls->lane[i].link;
		ls->lane[i].link = NULL;
		ls->lane[i].alive = false;
		if (l)
			wg_lane_link_close(l);
	}
	explicit_bzero(ls->psk, sizeof(ls->psk));
}

unsigned wg_lane_set_alive(const struct wg_lane_set *ls)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ls->n; i++)
		n += ls->lane[i].alive;
	return n;
}

/* The largest packet every live lane carries. */
static size_t max_payload(const struct wg_lane_set *ls)
{
	size_t m = ls->mtu;

	for (unsigned i = 0; i < ls->n; i++) {
		size_t r = ls->lane[i].alive ? wg_lane_link_max_record(ls->lane[i].link) : 0;
		if (ls->lane[i].alive && r > 1 && r - 1 < m)
			m = r - 1;
	}
	return m;
}

/* The host sends over the lanes while one is alive, over CSTP otherwise. */
static void tell_host(struct wg_lane_set *ls, const char *why)
{
	unsigned alive = wg_lane_set_alive(ls);

	if (alive && (!ls->host_up || ls->host_max != max_payload(ls))) {
		unsigned first = 0;
		while (!ls->lane[first].alive)
			first++;
		ls->host_up = true;
		ls->host_max = max_payload(ls);
		ls->host->lane_up(ls->host_lane, ls->host_max, wg_lane_link_peer(ls->lane[first].link));
	} else if (!alive && ls->host_up) {
		ls->host_up = false;
		ls->host->lane_down(ls->host_lane, why);
	}
}

static void set_alive(struct wg_lane_set *ls, unsigned lane, bool alive, const char *why)
{
	struct wg_lane_one *o = &ls->lane[lane];

	if (o->alive == alive)
		return;
	o->alive = alive;
	if (!alive) {
		o->left_rotation++;
		if (ls->totals)
			ls->totals[lane].left_rotation++;
	}
	wg_sched_set_alive(&ls->sched, lane, alive);
	ls->host->log(ls->host->lane_session(ls->host_lane), WG_LOG_INFO, "lane %u %s the rotation (%s); %u of %u alive",
		      lane, alive ? "joins" : "leaves", why, wg_lane_set_alive(ls), ls->n);
	tell_host(ls, why);
}

static void send_probe(struct wg_lane_set *ls, unsigned lane, uint64_t now_us)
{
	struct wg_lane_one *o = &ls->lane[lane];
	uint32_t seq = wg_lane_probes_send(&o->probes, now_us, o->tx_bytes);

	wg_lane_probe_write(ls->out, WG_LANE_MSG_PROBE, seq, now_us, o->rx_bytes);
	wg_lane_link_send(o->link, ls->out, WG_LANE_PROBE_LEN);
}

void wg_lane_set_link_up(struct wg_lane_set *ls, unsigned lane, struct wg_lane_link *link, uint64_t now_us)
{
	struct wg_lane_one *o;

	if (lane >= ls->n)
		return;
	o = &ls->lane[lane];
	if (o->link && o->link != link) {
		struct wg_lane_link *old = o->link;
		o->link = NULL;
		wg_lane_link_close(old); /* the client reopened this lane */
	}
	o->link = link;
	o->handshakes++;
	o->last_rx_us = now_us;
	wg_lane_probes_reset(&o->probes); /* answers to the old link's PROBEs do not count */
	o->mark_us = 0;
	wg_lane_rto_init(&o->rto, ls->cfg.deadline_ms); /* perhaps another path now */
	wg_lane_rto_handshake(&o->rto, wg_lane_link_handshake_rtt_us(link));
	/* The finished handshake went both ways: the lane is alive now. */
	send_probe(ls, lane, now_us);
	if (o->alive)
		tell_host(ls, "lane reopened");
	set_alive(ls, lane, true, "handshake done");
}

void wg_lane_set_link_closed(struct wg_lane_set *ls, unsigned lane, struct wg_lane_link *link)
{
	if (lane >= ls->n || ls->lane[lane].link != link)
		return;
	ls->lane[lane].link = NULL;
	set_alive(ls, lane, false, "link closed");
}

/* A PROBE-ACK: round-trip time, liveness, and a weight sample. */
static void probe_ack(struct wg_lane_set *ls, unsigned lane, const struct wg_lane_msg *m, uint64_t now_us)
{
	struct wg_lane_one *o = &ls->lane[lane];
	struct wg_lane_probe_answer a;

	if (!wg_lane_probes_answer(&o->probes, m->seq, &a))
		return; /* not a probe of ours that we still remember, or stale */
	const uint64_t sent_us = a.sent_us;
	const uint64_t tx_then = a.tx_bytes;
	if (now_us >= sent_us) {
		o->rtt_us = o->rtt_us ? (o->rtt_us * 7 + (now_us - sent_us)) / 8 : now_us - sent_us;
		wg_lane_rto_sample(&o->rto, now_us - sent_us);
	}
	/* What the client got by the time it answered, against what we had
	 * sent by the time we asked. */
	if (!o->mark_us) {
		o->mark_us = sent_us;
		o->mark_tx = tx_then;
		o->mark_rx = m->rx_bytes;
	} else if (sent_us >= o->mark_us + WG_LANE_MEASURE_US && tx_then >= o->mark_tx && m->rx_bytes >= o->mark_rx) {
		wg_sched_measure(&ls->sched, lane, tx_then - o->mark_tx, m->rx_bytes - o->mark_rx, sent_us - o->mark_us);
		o->mark_us = sent_us;
		o->mark_tx = tx_then;
		o->mark_rx = m->rx_bytes;
	}
	set_alive(ls, lane, true, "probe answered");
}

void wg_lane_set_record(struct wg_lane_set *ls, unsigned lane, const uint8_t *rec, size_t len, uint64_t now_us)
{
	struct wg_lane_one *o;
	struct wg_lane_msg m;

	if (lane >= ls->n)
		return;
	o = &ls->lane[lane];
	o->last_rx_us = now_us;
	if (wg_lane_msg_parse(rec, len, ls->mtu, &m) < 0) {
		o->dropped++;
		return;
	}
	switch (m.type) {
	case WG_LANE_MSG_DATA:
		o->rx_packets++;
		o->rx_bytes += m.len;
		if (ls->totals)
			ls->totals[lane].rx_bytes += m.len;
		ls->host->lane_input(ls->host_lane, 0x00, m.packet, m.len);
		return; /* the session may have ended: ls may be gone */
	case WG_LANE_MSG_PROBE:
		wg_lane_probe_write(ls->out, WG_LANE_MSG_PROBE_ACK, m.seq, m.stamp, o->rx_bytes);
		wg_lane_link_send(o->link, ls->out, WG_LANE_PROBE_LEN);
		return;
	case WG_LANE_MSG_PROBE_ACK:
		probe_ack(ls, lane, &m, now_us);
		return;
	case WG_LANE_MSG_CLOSE: {
		struct wg_lane_link *l = o->link;
		o->link = NULL;
		set_alive(ls, lane, false, "the client closed it");
		wg_lane_link_close(l);
		return;
	}
	default:
		o->dropped++; /* a later version's message */
		return;
	}
}

void wg_lane_set_tick(struct wg_lane_set *ls, uint64_t now_us)
{
	const uint64_t idle = (uint64_t)ls->cfg.idle_s * 1000000;
	const uint64_t late = 2 * (uint64_t)wg_lane_check_ms(&ls->cfg) * 1000;
	/* The loop ran late (a starved process): PROBE-ACKs may wait unread
	 * in the socket; deadlines are judged at the next, timely, tick. */
	const bool judge = !ls->last_tick_us || now_us - ls->last_tick_us <= late;

	ls->last_tick_us = now_us;
	for (unsigned i = 0; i < ls->n; i++) {
		struct wg_lane_one *o = &ls->lane[i];
		if (!o->link)
			continue;
		if (idle && now_us - o->last_rx_us >= idle) {
			struct wg_lane_link *l = o->link;
			o->link = NULL;
			set_alive(ls, i, false, "silent for lane-idle-s");
			wg_lane_link_close(l);
			continue;
		}
		if (judge && o->probes.unanswered_since_us &&
		    now_us - o->probes.unanswered_since_us >= wg_lane_rto_deadline_us(&o->rto) && o->alive) {
			o->probes_missed++;
			set_alive(ls, i, false, "probe not answered in time");
		}
		if (now_us - o->probes.last_sent_us >= (uint64_t)ls->cfg.probe_ms * 1000)
			send_probe(ls, i, now_us);
	}
}

uint32_t wg_lane_check_ms(const struct wg_lane_settings *cfg)
{
	uint32_t shorter = cfg->probe_ms < cfg->deadline_ms ? cfg->probe_ms : cfg->deadline_ms;

	return shorter / 4 > 10 ? shorter / 4 : 10;
}

void wg_lane_set_send(struct wg_lane_set *ls, uint8_t *data, size_t len)
{
	int lane = wg_sched_pick(&ls->sched, wg_flow_hash(data, len, ls->hash_seed));
	struct wg_lane_one *o;

	if (lane < 0 || !(o = &ls->lane[lane])->link)
		return; /* no live lane: dropped, as the host would over a dead link */
	data[-1] = WG_LANE_MSG_DATA;
	if (wg_lane_link_send(o->link, data - 1, len + 1) < 0) {
		o->dropped++;
		return;
	}
	o->tx_packets++;
	o->tx_bytes += len;
	if (ls->totals)
		ls->totals[lane].tx_bytes += len;
}

size_t wg_lane_set_json(const struct wg_lane_set *ls, char *out, size_t len)
{
	size_t used = 0;
	int k;

	static const char hex[] = "0123456789abcdef";

	if (len < 16 + 2 * WG_LANE_SID_LEN + 16)
		return 0;
	used += (size_t)snprintf(out, len, "{\"session\":\"");
	for (unsigned i = 0; i < WG_LANE_SID_LEN; i++) {
		out[used++] = hex[ls->sid[i] >> 4];
		out[used++] = hex[ls->sid[i] & 15];
	}
	used += (size_t)snprintf(out + used, len - used, "\",\"lanes\":[");
	for (unsigned i = 0; i < ls->n; i++) {
		const struct wg_lane_one *o = &ls->lane[i];
		k = snprintf(out + used, len - used,
			     "%s{\"lane\":%u,\"open\":%s,\"alive\":%s,\"peer\":\"%s\",\"tx_packets\":%" PRIu64
			     ",\"tx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			     ",\"rtt_us\":%" PRIu64 ",\"deadline_ms\":%" PRIu64 ",\"weight_kbps\":%" PRIu64 ",\"buckets\":%u,\"probes_missed\":%" PRIu64
			     ",\"left_rotation\":%" PRIu64 ",\"handshakes\":%" PRIu64 ",\"dropped\":%" PRIu64 "}",
			     i ? "," : "", i, o->link ? "true" : "false", o->alive ? "true" : "false",
			     o->link ? wg_lane_link_peer(o->link) : "", o->tx_packets, o->tx_bytes, o->rx_packets,
			     o->rx_bytes, o->rtt_us, wg_lane_rto_deadline_us(&o->rto) / 1000, ls->sched.weight[i] * 8 / 1000, wg_sched_buckets_of(&ls->sched, i),
			     o->probes_missed, o->left_rotation, o->handshakes, o->dropped);
		if (k < 0 || used + (size_t)k + 3 > len)
			return 0;
		used += (size_t)k;
	}
	if (used + 3 > len)
		return 0;
	out[used++] = ']';
	out[used++] = '}';
	out[used] = '\0';
	return used;
}

/* ---- the lane server's callbacks, for sets ------------------------------------ */

uint64_t wg_lane_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

void wg_lane_set_cb_up(void *arg, void *owner, unsigned lane, struct wg_lane_link *link)
{
	(void)arg;
	wg_lane_set_link_up(owner, lane, link, wg_lane_now_us());
}

void wg_lane_set_cb_record(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const uint8_t *rec,
			   size_t len)
{
	(void)arg;
	(void)link;
	wg_lane_set_record(owner, lane, rec, len, wg_lane_now_us());
}

void wg_lane_set_cb_closed(void *arg, void *owner, unsigned lane, struct wg_lane_link *link, const char *why)
{
	(void)arg;
	(void)why;
	wg_lane_set_link_closed(owner, lane, link);
}
