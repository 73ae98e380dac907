/* One client process: its slice of the sessions in one libevent loop. It
 * keeps cfg.concurrency set-ups in flight until every session of the slice
 * was tried (or --setup-timeout), flags ramp_done in shared memory, then
 * holds its sessions until the parent sets shared->stop. */
#include "bench.h"
#include "clock.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

static struct event *deadline_ev, *poll_ev;

static void ramp_done(struct wgb_run *run)
{
	run->ramp_over = 1;
	evtimer_del(deadline_ev);
	run->stats->ramp_done = 1;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	while (!run->ramp_over && run->stats->in_flight < run->cfg.concurrency && run->next_index < run->cfg.sessions)
		wgb_conn_start(run, run->next_index++);
	if (!run->ramp_over && run->next_index >= run->cfg.sessions && run->stats->in_flight == 0)
		ramp_done(run);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	run->ramp_over = 1;
	for (unsigned i = 0; i < run->next_index; i++)
		if (run->conns[i])
			wgb_conn_abort_setup(run->conns[i], "set-up still running at --setup-timeout");
	ramp_done(run);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct wgb_run *run = arg;

	if (run->shared->stop)
		event_base_loopbreak(run->base);
}

int wgb_client_main(struct wgb_run *run)
{
	const struct wgb_config *cfg = &run->cfg;
	struct event_config *ec;
	struct timeval poll = {0, 200000}, dl = {cfg->setup_timeout_s, 0};
	int rc = 0;

	srandom((unsigned)getpid());
	if (!(run->conns = calloc(cfg->sessions ? cfg->sessions : 1, sizeof(*run->conns)))) {
		fprintf(stderr, "wolfguard-bench: out of memory\n");
		return 1;
	}
	wolfSSL_Init();
	run->ctx = wolfSSL_CTX_new(cfg->tls12 ? wolfTLSv1_2_client_method() : wolfSSLv23_client_method());
	if (!run->ctx) {
		fprintf(stderr, "wolfguard-bench: wolfSSL_CTX_new failed\n");
		return 1;
	}
	/* The bench measures the server, not certificate checking. */
	wolfSSL_CTX_set_verify(run->ctx, WOLFSSL_VERIFY_NONE, NULL);
	wolfSSL_CTX_set_session_cache_mode(run->ctx, WOLFSSL_SESS_CACHE_OFF);

	ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	run->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	if (!run->base) {
		fprintf(stderr, "wolfguard-bench: event_base_new failed\n");
		return 1;
	}
	run->tunnel = &wgb_traffic_tunnel;
	run->kick = event_new(run->base, -1, 0, on_kick, run);
	deadline_ev = evtimer_new(run->base, on_deadline, run);
	poll_ev = event_new(run->base, -1, EV_PERSIST, on_poll, run);
	if (!run->kick || !deadline_ev || !poll_ev || (cfg->traffic && wgb_traffic_init(run) < 0)) {
		fprintf(stderr, "wolfguard-bench: event_new failed\n");
		rc = 1;
	} else {
		evtimer_add(poll_ev, &poll);
		evtimer_add(deadline_ev, &dl);
		event_active(run->kick, EV_TIMEOUT, 0);
		event_base_dispatch(run->base);
	}

	for (unsigned i = 0; i < cfg->sessions; i++)
		wgb_conn_free(run->conns[i]);
	wgb_traffic_fini(run);
	free(run->conns);
	if (run->kick)
		event_free(run->kick);
	if (deadline_ev)
		event_free(deadline_ev);
	if (poll_ev)
		event_free(poll_ev);
	event_base_free(run->base);
	wolfSSL_CTX_free(run->ctx);
	wolfSSL_Cleanup();
	return rc;
}
