/* wolfguard-client: what its parts share. main.c reads the options and
 * runs the session; session.c opens TLS connections and speaks HTTP (login,
 * CONNECT); tunnel.c moves packets between the TUN device and CSTP or DTLS
 * in one libevent loop; dtls.c is the PSK-NEGOTIATE DTLS channel; script.c
 * runs the vpnc-script; tun.c opens the device; pin.c checks the server's
 * key against --servercert. */
#ifndef WGC_CLIENT_H
#define WGC_CLIENT_H

#include "auth_flow.h"
#include "tunnel_config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

typedef struct WOLFSSL_CTX WOLFSSL_CTX;
typedef struct WOLFSSL WOLFSSL;

#define WGC_DEFAULT_SCRIPT "/usr/share/vpnc-scripts/vpnc-script"

struct wgc_opts {
	const char *server;      /* host[:port] as given (the Host header) */
	char host[256];          /* the host part */
	unsigned port;           /* default 443 */
	const char *user, *group;
	int passwd_on_stdin, cookie_on_stdin, non_inter, authenticate_only;
	const char *servercert;  /* "pin-sha256:..." or NULL */
	const char *cafile;
	const char *certfile, *keyfile; /* client certificate login */
	const char *script;      /* vpnc-script; "" runs none */
	const char *ifname;      /* TUN device name, or NULL: the kernel's tunN */
	int no_dtls;
	unsigned mtu;            /* asked for in CONNECT (X-CSTP-MTU) */
	unsigned reconnect_timeout_s;
	unsigned dtls_attempt_period_s;
	unsigned dtls_handshake_timeout_s;
	int verbose;
	unsigned lanes;          /* --lanes N (wolfguard servers) */
	const char *lane_bind[WGP_TC_MAX_LANES];
	unsigned n_lane_bind;
};

/* One TLS connection to the server (login, or the CSTP channel). */
struct wgc_tls {
	int fd;
	WOLFSSL *ssl;
};

struct wgc {
	struct wgc_opts o;
	WOLFSSL_CTX *tls_ctx;
	struct sockaddr_storage server_addr; /* resolved once: reconnects go to the same address */
	socklen_t server_addr_len;
	char gateway[64];                    /* its text form (VPNGATEWAY) */
	char cookie[512];                    /* webvpn= */
	char password[256];
	int have_password;
	char dtls_secret[97];                /* X-DTLS-Master-Secret we offered */
	struct wgp_tunnel_config tc;         /* the last CONNECTED answer */
	char tundev[32];
	int tun_fd;
};

/* log helpers (main.c) */
void wgc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void wgc_debug(const struct wgc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* -v: wgc_debug prints from now on (log.c). */
void wgc_log_verbose(int on);

/* session.c */
int wgc_resolve(struct wgc *c);
int wgc_tls_ctx(struct wgc *c);
/* TCP + TLS to the server, the key checked; 0, or -1 with the reason logged.
 * fatal is set when retrying cannot help (a pin mismatch). */
int wgc_tls_open(struct wgc *c, struct wgc_tls *t, int *fatal);
void wgc_tls_close(struct wgc_tls *t);
/* The XML login on t; the cookie into c->cookie. ask is called for a
 * password when none was given. 0 or -1 (logged). */
int wgc_login_ask(struct wgc *c, struct wgc_tls *t, const char *(*ask)(void *, const char *), void *arg);
/* CONNECT with the cookie; c->tc filled from the answer. Bytes that came
 * after the answer's headers are copied to extra (*extra_len). 0, -1 (logged);
 * *refused is set when the server refused the cookie. */
int wgc_connect_tunnel(struct wgc *c, struct wgc_tls *t, uint8_t *extra, size_t extra_cap, size_t *extra_len,
		       int *refused);

/* pin.c: the pin-sha256: of the peer's key into out. */
int wgc_peer_pin(WOLFSSL *ssl, char *out, size_t outlen);

/* tun.c: opens the TUN device (name in/out); fd or -1 (logged). */
int wgc_tun_open(char *name, size_t namelen);

/* script.c: runs the vpnc-script for reason; its exit status (or -1). */
int wgc_script_run(const struct wgc *c, const char *reason);

/* tunnel.c: the packet loop until the session ends; the exit status. */
int wgc_tunnel_run(struct wgc *c, struct wgc_tls *t, const uint8_t *extra, size_t extra_len);

#endif
