/* The configuration a server pushes in its "200 CONNECTED" answer (the
 * X-CSTP-* and X-DTLS-* headers), read into one struct. Pure parsing over
 * the header block: the load generator takes the address and timers, the
 * client everything (it becomes the vpnc-script's environment). Values
 * that do not fit their field are dropped, never truncated. */
#ifndef WGP_TUNNEL_CONFIG_H
#define WGP_TUNNEL_CONFIG_H

#include <stddef.h>

#define WGP_TC_MAX_DNS 8
#define WGP_TC_MAX_ROUTES 64
#define WGP_TC_MAX_SPLIT_DNS 16
#define WGP_TC_MAX_LANES 16
#define WGP_TC_LANE_SID_LEN 16

struct wgp_route {
	char addr[46]; /* network address */
	unsigned masklen;
	int ipv6;
};

struct wgp_tunnel_config {
	char address[16], netmask[16];        /* X-CSTP-Address / -Netmask (IPv4) */
	char address6[50];                    /* X-CSTP-Address-IP6, "addr/len" */
	char dns[WGP_TC_MAX_DNS][46];         /* X-CSTP-DNS, IPv4 and IPv6 */
	unsigned n_dns;
	char nbns[WGP_TC_MAX_DNS][16];        /* X-CSTP-NBNS */
	unsigned n_nbns;
	char split_dns[WGP_TC_MAX_SPLIT_DNS][128]; /* X-CSTP-Split-DNS */
	unsigned n_split_dns;
	char default_domain[256];             /* X-CSTP-Default-Domain */
	char banner[512];                     /* X-CSTP-Banner */
	struct wgp_route include[WGP_TC_MAX_ROUTES], exclude[WGP_TC_MAX_ROUTES];
	unsigned n_include, n_exclude;
	unsigned mtu;                         /* X-CSTP-MTU (0: not given) */
	unsigned keepalive_s, dpd_s;          /* 0: not given */
	unsigned idle_timeout_s;              /* 0: none */
	unsigned session_timeout_s;           /* 0: none */
	/* DTLS (PSK-NEGOTIATE) */
	unsigned dtls_port;                   /* 0: the server offers no DTLS */
	unsigned dtls_dpd_s, dtls_keepalive_s, dtls_mtu;
	char dtls_cipher[64];                 /* X-DTLS-CipherSuite */
	unsigned char app_id[64];             /* X-DTLS-App-ID, decoded */
	unsigned app_id_len;
	/* wolfguard's lanes (docs/lanes.md section 2); lanes 0: none granted */
	unsigned lanes;                       /* X-Wolfguard-Lanes */
	unsigned char lanes_session[WGP_TC_LANE_SID_LEN]; /* X-Wolfguard-Lanes-Session */
	unsigned lanes_ports[WGP_TC_MAX_LANES];           /* X-Wolfguard-Lanes-Ports */
	unsigned lanes_mtu, lanes_probe_ms, lanes_deadline_ms;
};

/* Fills tc from the answer's header block; 0, or -1 (reason in err) when a
 * header the tunnel needs is malformed (no IPv4 or IPv6 address, a bad
 * route, a bad App-ID, lanes granted with a malformed session id or port
 * list). */
int wgp_tunnel_config_parse(const char *hdrs, size_t hlen, struct wgp_tunnel_config *tc, char *err, size_t errlen);

/* "a.b.c.d/m.m.m.m", "a.b.c.d/len", "x:y::/len" into r; -1 when malformed. */
int wgp_route_parse(const char *s, struct wgp_route *r);

/* The prefix length of a dotted IPv4 netmask; -1 when it is not contiguous. */
int wgp_masklen(const char *netmask);

#endif
