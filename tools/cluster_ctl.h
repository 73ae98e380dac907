/* wolfguardctl's --cluster commands (cluster_ctl.c). */
#ifndef WG_CLUSTER_CTL_H
#define WG_CLUSTER_CTL_H

#include <stdbool.h>

struct wg_ctl_cluster {
	const char *addr;     /* IP:PORT, [IPV6]:PORT, unix:/path */
	const char *prefix;   /* "wg:" */
	const char *user;     /* ACL user or NULL */
	const char *password; /* NULL: no AUTH */
	/* TLS (cluster_ctl_tls.c) when tls_ca or tls_name is set: the CA of
	 * Redis's certificate, the DNS name it must carry, an optional client
	 * certificate and key. */
	const char *tls_ca, *tls_name, *tls_cert, *tls_key;
};

/* status, sessions, disconnect USER, ban ADDR [SECONDS]; returns the exit
 * status (0, 2 usage or unusable TLS files, 3 unreachable or
 * a failed TLS handshake). */
int wg_ctl_cluster(const struct wg_ctl_cluster *o, const char *cmd, int nargs, char **args, bool as_json);

#endif
