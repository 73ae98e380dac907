/* One client TCP connection: TLS handshake, then HTTP requests, then (when
 * the layer above says so) a stream of frames. It knows no VPN protocol:
 * as an nginx connection, it has an owner and handler slots that the layer
 * above installs (login/router.c for the HTTP phase, tunnel/tunnel.c for
 * the stream), and calls only down (TLS, HTTP parsing) or through them. */
#ifndef WG_CONN_H
#define WG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "net/conn_proxy.h"
#include "net/conn_sni.h"

struct wg_server;
struct wg_conn;
struct wg_cluster_wait;
struct wg_http_call;
struct wg_http_parser;
struct wg_http_request;
struct evbuffer;
struct event;

/* Queued ciphertext past which data packets are dropped (the client is not
 * reading), as a full queue would. */
#define WG_CONN_MAX_BACKLOG (4u << 20)

enum wg_conn_state { WG_CONN_TLS, WG_CONN_HTTP, WG_CONN_CSTP, WG_CONN_CLOSING };

/* What the connection's owner does with it; a NULL slot is not called. */
struct wg_conn_handlers {
	/* HTTP phase: one parsed request. rest/rest_len: the bytes read after
	 * it, given only for a CONNECT (the request that may end the phase). */
	void (*request)(struct wg_conn *c, const struct wg_http_request *req, const uint8_t *rest, size_t rest_len);
	/* Stream phase: parses whole frames from buf; returns the bytes used
	 * (0: a frame is cut short), or -1 when the connection is closing. */
	long (*stream_input)(struct wg_conn *c, const uint8_t *buf, size_t len);
	/* Around one burst of stream reads (the data path batches its writes). */
	void (*burst_begin)(struct wg_server *srv);
	void (*burst_end)(struct wg_server *srv);
	/* The connection is closing (shutdown: the whole server stops): the
	 * owner lets go of it. */
	void (*closed)(struct wg_conn *c, bool shutdown);	/* Behind a relay (listen-proxy-proto): the client's own address is
	 * known now (c->peer); returns NULL to admit it, or why it is refused
	 * (the connection closes with that reason). */
	const char *(*admit)(struct wg_conn *c);
	/* With several server names (srv->vhosts_on): the TLS context for the
	 * ClientHello's server name (NULL: it sent none), read before the
	 * handshake begins; the owner may record its choice in
	 * c->server_name. NULL refuses the connection (unknown name). */
	WOLFSSL_CTX *(*tls_for_name)(struct wg_conn *c, const char *sni);
};

struct wg_conn {
	struct wg_server *srv;
	int fd;
	WOLFSSL *ssl;                 /* owned */
	struct event *rev, *wev, *timer; /* owned */
	enum wg_conn_state state;
	char peer[64];                /* client address as text */
	struct wg_http_parser *http;  /* owned; NULL after CONNECT */
	struct evbuffer *out;         /* plaintext waiting for wolfSSL_write */
	const struct wg_conn_handlers *h; /* the owner's; never NULL */
	/* Whose the connection is now: in the HTTP phase the login step it
	 * waits on (NULL between requests), in the stream phase the session. */
	void *owner;
	struct wg_cluster_wait *cluster_wait; /* a CONNECT waiting on the cluster store (cluster/cluster.h) */
	struct wg_http_call *http_call; /* a browser's request an auth plugin answers (login/plugin_http.h) */
	bool busy;                    /* a request is being answered asynchronously */
	unsigned logins_started;      /* login conversations begun on this connection */
	bool close_after_flush;
	bool camouflage_passed;       /* a request on it carried the camouflage secret */
	bool counted_unauth;
	bool corked;                  /* ciphertext queued in out until wg_conn_uncork */
	/* listen-proxy-proto: the relay's header is still being read
	 * (conn_proxy.c) into proxy (its buffer owned; NULL once read). */
	bool awaiting_proxy;
	bool proxy_checked;           /* listen-proxy-proto off: the start was checked for a header */
	struct wg_proxy_reader proxy;
	/* vhosts: the ClientHello is still being read (conn_sni.c) into
	 * sni (its buffer owned; empty once the TLS context is chosen). */
	bool awaiting_sni;
	struct wg_sni_reader sni;
	char *server_name;            /* owned: the vhost the handshake chose, NULL: the default server */
	/* Tunnel bytes read ahead from the socket but not yet given to
	 * wolfSSL, kept here (exact size) when a read burst ends; NULL when
	 * none, so idle sessions hold no buffer. */
	uint8_t *rx_stash;
	size_t rx_stash_off, rx_stash_len;
	/* CSTP reassembly buffer, allocated when a frame first straddles reads. */
	uint8_t *in;
	size_t in_len, in_cap;
	struct wg_conn *prev, *next;  /* the worker's list, for shutdown */
};

/* A new client: its requests go to h->request (the HTTP router). */
void wg_conn_accept(struct wg_server *srv, int fd, const struct sockaddr *sa, socklen_t salen,
		    const struct wg_conn_handlers *h);
/* Queues bytes for the client through TLS. Returns 0 or -1 (closing). */
int wg_conn_send(struct wg_conn *c, const void *data, size_t len);
/* An HTTP response with the given status line tail ("200 OK"), extra header
 * lines (each ending in \r\n, may be NULL) and body. */
int wg_conn_http_reply(struct wg_conn *c, const char *status, const char *content_type,
		       const char *headers, const char *body, size_t body_len);
/* An answer as a plain web server gives it (camouflage.c): Date, the extra
 * header lines, Content-Type text/html, Content-Length, the body only when
 * send_body; no Server or other header that names the VPN. */
int wg_conn_http_reply_bare(struct wg_conn *c, const char *status, const char *date, const char *headers,
			    const char *body, size_t body_len, bool send_body);
/* The answer to the last request has been sent: the next queued request
 * is taken up from the event loop (never from inside this call). */
void wg_conn_request_done(struct wg_conn *c);
void wg_conn_close(struct wg_conn *c, const char *reason);
/* Ends the HTTP phase: from now on c is owner's (a session), read through
 * h->stream_input; bytes already read after the request are handed to it. */
int wg_conn_enter_stream(struct wg_conn *c, const struct wg_conn_handlers *h, void *owner, const uint8_t *extra,
			 size_t extra_len);
/* The bytes queued after the request being answered (after a CONNECT:
 * the tunnel's first bytes); valid until the connection reads again. */
const uint8_t *wg_conn_http_rest(struct wg_conn *c, size_t *len);
/* A burst of sends: while corked, records are only queued, and uncork
 * writes them all with one writev (instead of one send per record). */
void wg_conn_cork(struct wg_conn *c);
void wg_conn_uncork(struct wg_conn *c);
/* Bytes queued and not yet written: for back-pressure on the data path. */
size_t wg_conn_backlog(const struct wg_conn *c);
/* Frees every connection at once (server shutdown, loop stopped). */
void wg_conn_free_all(struct wg_server *srv);

#endif
