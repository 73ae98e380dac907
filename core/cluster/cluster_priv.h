/* What cluster.c and adopt.c share. */
#ifndef WG_CLUSTER_PRIV_H
#define WG_CLUSTER_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/key.h"
#include "cluster/record.h"

struct wg_server;
struct wg_redis;
struct event;

struct wg_cluster {
	struct wg_server *srv;
	struct wg_redis *redis;
	uint8_t secret[256];
	size_t secret_len;
	char prefix[64];
	char node[64];
	struct event *refresh; /* rewrites the live sessions' records */
	struct event *ban_sync; /* reads the shared ban set */
};

/* "<prefix>s:<HMAC(cookie)>" for a raw cookie; 0 or -1. */
int wg_cluster_key_for(const struct wg_cluster *cl, const uint8_t *cookie, char *key, size_t keylen,
		       char hash[WG_CLUSTER_HASH_HEX]);

#endif
