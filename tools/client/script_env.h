/* The environment openconnect gives its vpnc-script, built from the pushed
 * configuration: reason, VPNGATEWAY, TUNDEV, INTERNAL_IP4_*, INTERNAL_IP6_*,
 * CISCO_SPLIT_INC_* / _EXC_*, CISCO_SPLIT_DNS, ... so Debian's vpnc-scripts
 * (and any script written for openconnect) works unchanged. Pure: no I/O. */
#ifndef WGC_SCRIPT_ENV_H
#define WGC_SCRIPT_ENV_H

#include "tunnel_config.h"

#include <stddef.h>

struct wgc_env {
	char **vars; /* "NAME=value", NULL-terminated */
	size_t n, cap;
};

struct wgc_env_in {
	const char *reason;  /* pre-init connect disconnect reconnect attempt-reconnect */
	const char *tundev;  /* may be "" before the device exists */
	const char *gateway; /* the server's address */
	long pid;            /* VPNPID */
	int log_level;       /* LOG_LEVEL: 0 error, 1 info, 2 debug */
	const struct wgp_tunnel_config *tc; /* NULL for pre-init */
};

/* 0, or -1 when out of memory (env is freed then). */
int wgc_env_build(const struct wgc_env_in *in, struct wgc_env *env);
/* The value of NAME in env, or NULL. */
const char *wgc_env_get(const struct wgc_env *env, const char *name);
void wgc_env_free(struct wgc_env *env);

#endif
