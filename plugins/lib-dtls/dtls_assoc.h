/* What the two DTLS server plugins share: one UDP socket read in bursts,
 * and the DTLS associations on it, each a WOLFSSL fed through custom I/O
 * callbacks (nothing is connect()ed per peer).
 *
 * transport-dtls (openconnect's DTLS 1.2, dtls_server.c) and
 * transport-lanes (DTLS 1.3 lanes, lane_link.c) differ in how a datagram
 * finds its association (peer address and App-ID; connection ID and PSK
 * identity) and in what the records mean; the socket, the record I/O, the
 * handshake timer and the lifetime rules below are the same code.
 *
 * Lifetime: an association is detached by its owner when it dies and freed
 * (ops.release) only when no callback into the host runs on it
 * (wg_dtls_assoc_call_begin/end), so the host may close an association
 * from inside its own callbacks. Not thread-safe: one socket, one loop. */
#ifndef WG_DTLS_ASSOC_H
#define WG_DTLS_ASSOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <wolfguard/plugin.h>

#include "udp_local.h"
#include "udp_peer.h"

typedef struct WOLFSSL WOLFSSL;
typedef struct WOLFSSL_CTX WOLFSSL_CTX;
struct wg_udp_batch;
struct wg_dtls_assoc;

/* What a server built on the socket does; run on the host's loop. */
struct wg_dtls_sock_ops {
	/* One datagram of a burst (never empty, never cut; IPv4 or IPv6),
	 * and the local address it arrived on (family 0 when the socket is
	 * bound to one address: udp_local.h). */
	void (*on_datagram)(void *arg, uint8_t *d, size_t n, const struct sockaddr *sa, socklen_t salen,
			    const struct wg_udp_local *local);
	/* Optional: a burst begins (true) and ends (false). */
	void (*on_burst)(void *arg, bool begin);
	/* The handshake of a half-open association ends by its deadline or a
	 * failed retransmission (why says which): the owner drops it. */
	void (*on_handshake_lost)(struct wg_dtls_assoc *a, const char *why);
	/* Frees the struct the association is the first member of, once it is
	 * dead and idle (wg_dtls_assoc_release frees its own parts). */
	void (*release)(struct wg_dtls_assoc *a);
};

struct wg_dtls_sock {
	const struct wg_host *host; /* borrowed: timers, the socket watch */
	int fd;                     /* owned */
	struct wg_watch *watch;
	struct wg_dtls_sock_ops ops;
	void *arg;
	/* Records of up associations written between batch_begin and
	 * batch_end leave together: one sendmmsg, UDP GSO. Owned. */
	struct wg_udp_batch *batch;
	bool batching;
	/* One recvmmsg burst (owned arrays of `burst`), and the plaintext of
	 * one record. */
	unsigned burst;
	size_t datagram_max, plain_max;
	struct mmsghdr *rx_msgs;
	struct iovec *rx_iov;
	struct sockaddr_storage *rx_addr;
	bool pktinfo;   /* bound to the wildcard: each datagram's local address is asked for */
	uint8_t *rx_cmsg; /* RX_CMSG_SPACE per slot (dtls_assoc.c) */
	/* UDP GRO (udp_gro.h): a slot holds a train of datagrams, so it is
	 * WG_UDP_GRO_TRAIN_MAX bytes instead of datagram_max. */
	bool gro;
	size_t slot;
	uint8_t *rx;    /* burst slots of `slot` bytes */
	uint8_t *plain;
	struct wg_dtls_sock_counts {
		uint64_t trains;          /* receives that held more than one datagram */
		uint64_t train_datagrams; /* the datagrams they held */
		uint64_t refused;         /* receives or datagrams dropped as cut or too large */
	} counts;
};

struct wg_dtls_sock_size {
	unsigned burst;      /* datagrams per wakeup, so other events get a turn */
	size_t datagram_max; /* larger datagrams are cut, and dropped */
	size_t plain_max;    /* the largest record plaintext read */
};

/* Serves the bound UDP socket fd (taken over: closed by fini, or here on
 * failure) on the host's loop, with UDP GRO on where the kernel has it
 * (wg_dtls_sock_set_gro turns it off). 0, or -1 with the reason logged. */
int wg_dtls_sock_init(struct wg_dtls_sock *s, const struct wg_host *host, int fd, const struct wg_dtls_sock_size *size,
		      const struct wg_dtls_sock_ops *ops, void *arg);
/* Idempotent; safe on a zeroed or half-initialised socket. */
void wg_dtls_sock_fini(struct wg_dtls_sock *s);
int wg_dtls_sock_port(const struct wg_dtls_sock *s);
void wg_dtls_sock_batch_begin(struct wg_dtls_sock *s);
void wg_dtls_sock_batch_end(struct wg_dtls_sock *s);
/* UDP GRO on or off (udp_gro.h); the receive slots follow. true when it
 * is as asked (turning it on fails on a kernel without it, or without
 * memory: then it stays off). */
bool wg_dtls_sock_set_gro(struct wg_dtls_sock *s, bool on);
/* Datagrams the send batch dropped (full socket buffer). */
uint64_t wg_dtls_sock_dropped(const struct wg_dtls_sock *s);

/* A context whose records go through associations: the cipher list (after
 * the PSK callback, which the caller sets first: wolfSSL keeps PSK suites
 * only once it knows PSK is in use), no session cache, our I/O. Frees ctx
 * and returns NULL when the suites are missing. */
WOLFSSL_CTX *wg_dtls_ctx_finish(WOLFSSL_CTX *ctx, const char *suites);
/* Only our I/O callbacks (a context set up otherwise). */
void wg_dtls_ctx_set_io(WOLFSSL_CTX *ctx);

/* One peer's DTLS state. The first member of each server's link struct
 * (wolfSSL's I/O context is the association, so its callbacks may cast
 * it back to the link). */
struct wg_dtls_assoc {
	struct wg_dtls_sock *sock; /* borrowed */
	WOLFSSL *ssl;              /* owned */
	struct wg_timer *timer;    /* owned while armed: retransmit and deadline */
	struct wg_peer_key key;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[WG_PEER_TEXT_MAX];
	/* The address the peer sends to, the source of what goes back: set
	 * by wg_dtls_assoc_set_local from its first datagram, then follows the
	 * datagrams whose records authenticate (as moves of the peer do). */
	struct wg_udp_local local;
	struct wg_udp_local in_local; /* where the datagram at hand arrived */
	struct timespec deadline;  /* the end of the half-open state */
	const uint8_t *in;         /* the datagram wolfSSL reads next, once */
	size_t in_len;
	bool up;                   /* past the handshake: its sends may be batched */
	bool sent_hvr;             /* wolfSSL answered with a HelloVerifyRequest */
	bool dead;                 /* detached; released once busy is 0 */
	unsigned busy;             /* callbacks into the host running on it */
};

/* The peer and its key and text; no wolfSSL yet. The local address is
 * left as it is (a move of the peer keeps it). */
void wg_dtls_assoc_init(struct wg_dtls_assoc *a, struct wg_dtls_sock *s, const struct sockaddr *sa, socklen_t salen);
/* The local address answers leave from (a new association's first datagram). */
void wg_dtls_assoc_set_local(struct wg_dtls_assoc *a, const struct wg_udp_local *local);
/* The datagram wolfSSL reads next, and where it arrived (NULL: unknown). */
void wg_dtls_assoc_feed(struct wg_dtls_assoc *a, const uint8_t *d, size_t n, const struct wg_udp_local *local);
/* A WOLFSSL of ctx for it: the cookie bound to the peer's key, our I/O
 * with a as context, non-blocking, a 1500-byte path's MTU. 0, or -1. */
int wg_dtls_assoc_ssl(struct wg_dtls_assoc *a, WOLFSSL_CTX *ctx);
/* Frees the timer and the WOLFSSL (the owner's release calls it). */
void wg_dtls_assoc_release(struct wg_dtls_assoc *a);
/* The half-open state ends timeout_ms from now. */
void wg_dtls_assoc_set_deadline(struct wg_dtls_assoc *a, unsigned timeout_ms);
/* Runs wolfSSL_accept on what arrived: 1 done, 0 going on (the timer is
 * armed), -1 failed with wolfSSL's reason in why. */
int wg_dtls_assoc_accept(struct wg_dtls_assoc *a, char *why, size_t whylen);
void wg_dtls_assoc_timer_stop(struct wg_dtls_assoc *a);

void wg_dtls_assoc_call_begin(struct wg_dtls_assoc *a);
/* false when it died during the call (it is then released). */
bool wg_dtls_assoc_call_end(struct wg_dtls_assoc *a);
/* Marks it dead (the owner detached it) and releases it unless busy. */
void wg_dtls_assoc_kill(struct wg_dtls_assoc *a);

enum wg_dtls_read {
	WG_DTLS_READ_IDLE,   /* everything that arrived was read */
	WG_DTLS_READ_GONE,   /* on_record said the association is gone */
	WG_DTLS_READ_CLOSED, /* the peer sent close_notify */
	WG_DTLS_READ_FATAL,  /* an alert or a broken state: why says which */
};
/* Reads the records of what arrived, each to on_record(a, rec, len) in the
 * socket's plaintext buffer (which may change it); on_record returns false
 * when a is gone. A record that authenticates moves the association's local
 * address to where its datagram arrived (logged). single: the datagram is one record, so once it gave its
 * data the read that would only say so is skipped. Bad MACs, replays and
 * stray records are dropped inside wolfSSL and never get here. */
enum wg_dtls_read wg_dtls_assoc_read(struct wg_dtls_assoc *a, bool single,
				     bool (*on_record)(struct wg_dtls_assoc *a, uint8_t *rec, size_t len),
				     char *why, size_t whylen);
/* Writes one record; 0, or -1. Never blocks: a full socket buffer drops
 * it, as IP would. */
int wg_dtls_assoc_write(struct wg_dtls_assoc *a, const uint8_t *rec, size_t len);
/* The largest record (type byte included) wolfSSL puts in one datagram. */
size_t wg_dtls_assoc_max_record(const struct wg_dtls_assoc *a);

#endif
