/* wolfguard-bench: what the parts share. One process, one libevent loop,
 * many nonblocking connections, each an OpenConnect client (conn.c); the
 * driver (main.c) keeps `concurrency` set-ups in flight, then holds the
 * sessions and samples the server (procstat.c); report.c prints. */
#ifndef WGB_BENCH_H
#define WGB_BENCH_H

#include "auth_flow.h"
#include "procstat.h"
#include "stats.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

struct event_base;
struct event;
struct wgb_conn;
struct wgb_tunnel_ops;
typedef struct WOLFSSL_CTX WOLFSSL_CTX;

struct wgb_config {
	struct sockaddr_in server;
	char host[64];           /* Host header and group-access URL */
	uint32_t src_base;       /* first source address, host order */
	unsigned src_count;      /* sources used round-robin */
	unsigned sessions, concurrency;
	unsigned procs;           /* client processes sharing the sessions */
	unsigned index_base;      /* first session index of this process */
	unsigned conn_timeout_s;  /* per set-up */
	unsigned setup_timeout_s; /* whole ramp */
	unsigned settle_s, idle_s;
	unsigned keepalive_s;     /* 0: the server's X-CSTP-Keepalive */
	unsigned data_every_s;    /* 0: no traffic; else one ICMP echo per session per period */
	uint32_t data_dst;        /* network order */
	int offer_dtls, tls12, verbose;
	pid_t server_pid;         /* 0: no server sampling */
	const char *label;
	struct wgp_login login;
	/* --traffic (traffic.c): IPv4/UDP packets to a wolfguard-bench-sink
	 * behind the server, echoed back; see docs/benchmarks.md */
	int traffic, traffic_cstp;   /* traffic_cstp: over CSTP (TLS), not DTLS */
	struct sockaddr_in sink;     /* the sink's data port; control is port + 1 */
	unsigned rate_pps;           /* per session; 0: closed loop of `window` packets */
	unsigned window;
	unsigned traffic_s;          /* sending time */
	unsigned packets;            /* per session, 0: no limit */
	unsigned size;               /* IP packet bytes */
	unsigned drain_ms;           /* after sending, for the last echoes */
	uint32_t run_id;             /* tells this run's echoes and reports from others */
};

/* --traffic: what one session moved, in shared memory (parent reads). */
struct wgb_sess_traffic {
	uint64_t tx_pkts, tx_bytes;           /* sent into the tunnel */
	uint64_t rx_pkts, rx_bytes;           /* echoes out of the tunnel */
	uint64_t sink_rx_pkts, sink_rx_bytes; /* what the sink got (its report) */
	uint64_t sink_tx_pkts, sink_tx_bytes; /* what the sink echoed */
	uint32_t reported;                    /* the sink's report arrived */
	uint32_t held;                        /* the session took part */
};

/* Shared between the coordinating parent and the client processes
 * (MAP_SHARED, mapped before fork). */
struct wgb_shared {
	volatile int stop; /* set by the parent: children close and exit */
	volatile int go;   /* --traffic: set by the parent once all are held */
	struct wgb_sess_traffic *sess; /* --traffic: by global session index */
	struct wgb_stats stats[]; /* one per client process */
};

/* One client process: its slice of the sessions and its event loop. */
struct wgb_run {
	struct wgb_config cfg;
	struct wgb_shared *shared;
	struct event_base *base;
	WOLFSSL_CTX *ctx;
	struct wgb_stats *stats; /* this process's entry in shared */
	struct wgb_conn **conns; /* by index, NULL once closed */
	unsigned next_index;
	int ramp_over;           /* no more set-ups are started */
	struct event *kick;      /* starts set-ups outside of callbacks */
	const struct wgb_tunnel_ops *tunnel; /* the tunnel's data side, for conn.c */
	/* --traffic (traffic.c) */
	int phase;               /* enum in traffic.c */
	uint64_t t_go_us, t_phase_us;
	unsigned report_round;
	struct event *tick;
};

/* What the parent measured; printed by report.c. */
struct wgb_result {
	const struct wgb_config *cfg;
	struct wgb_stats stats; /* the children's, merged */
	int have_server;
	struct wgb_proc_sample srv_before, srv_held, bench_held;
	uint64_t idle_ticks_start, idle_ticks_end, bench_ticks_start, bench_ticks_end;
	uint64_t t_idle_start_us, t_idle_end_us;
	unsigned held_at_sample, held_at_end;
	rlim_t nofile;
	/* --traffic */
	uint64_t t_go_us, t_drained_us, srv_ticks_go, srv_ticks_drained, bench_ticks_go, bench_ticks_drained;
	unsigned srv_nprocs;
	struct wgb_sess_traffic *sess; /* by session index, NULL without --traffic */
};

/* conn.c */
/* Starts set-up number idx (source address, TCP connect); failures are
 * counted, and every set-up's end (either way) activates run->kick so
 * that the driver starts the next one. */
void wgb_conn_start(struct wgb_run *run, unsigned idx);
/* A connection still setting up is failed (a timeout at its stage) and
 * freed; returns 1 then, 0 for a held session (left alone). */
int wgb_conn_abort_setup(struct wgb_conn *c, const char *why);
/* Tears a connection down without counting anything (end of run). */
void wgb_conn_free(struct wgb_conn *c);

/* traffic.c: the client process's side of --traffic, polled from
 * client.c; starts once shared->go is set. */
int wgb_traffic_init(struct wgb_run *run);
void wgb_traffic_fini(struct wgb_run *run);
/* What traffic.c does for a connection's tunnel (see conn.h); client.c
 * hands it to the connections through run->tunnel. */
extern const struct wgb_tunnel_ops wgb_traffic_tunnel;
/* traffic_report.c: the --traffic rows of the table, and the JSON
 * member (",\"traffic\":{...}") written to json. */
void wgb_traffic_report(const struct wgb_result *res, FILE *table, FILE *json);
/* Echoes received by all sessions (0: nothing came back). */
uint64_t wgb_traffic_rx_total(const struct wgb_sess_traffic *sess, unsigned n);

/* client.c: runs one client process's slice; returns its exit status. */
int wgb_client_main(struct wgb_run *run);

/* report.c */
void wgb_report(struct wgb_result *res);

#endif
