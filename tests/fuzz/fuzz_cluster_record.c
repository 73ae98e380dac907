/* The cluster store's session record parser (core/cluster/record.c): what
 * Redis returns for HGETALL, as items. Input: items, each a 2-byte
 * big-endian length and that many bytes. A record that parses must encode
 * and parse again to the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS (2 * WG_CLUSTER_MAX_FIELDS + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *items[MAX_ITEMS];
	size_t lens[MAX_ITEMS], n = 0, off = 0;
	struct wg_cluster_record r, again;
	char err[160];

	while (n < MAX_ITEMS && off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		items[n] = (const char *)data + off;
		lens[n++] = len;
		off += len;
	}
	/* The same items as the shared ban set's address/score pairs. */
	for (size_t i = 0; i + 1 < n; i += 2) {
		char addr[64];
		unsigned left = wg_cluster_parse_ban(items[i], lens[i], items[i + 1], lens[i + 1], 1764800000, addr, sizeof(addr));
		if (left && (strlen(addr) != lens[i] || left > 86400u * 365))
			abort();
		char user[128];
		unsigned count = wg_cluster_parse_count(items[i], lens[i], items[i + 1], lens[i + 1], user, sizeof(user));
		if (count && (strlen(user) != lens[i] || count > 1000000))
			abort();
	}
	if (wg_cluster_record_parse(items, lens, n, &r, err, sizeof(err)) < 0)
		return 0;
	struct wg_cluster_argv a = {0};
	if (wg_cluster_record_encode(&r, &a) == 0) {
		if (wg_cluster_record_parse((const char *const *)a.v, a.len, a.n, &again, err, sizeof(err)) < 0)
			abort();
		if (strcmp(again.user, r.user) || strcmp(again.pushed, r.pushed) || again.n_groups != r.n_groups ||
		    again.n_attrs != r.n_attrs || strcmp(again.addr4, r.addr4) || again.mtu != r.mtu ||
		    strcmp(again.auth, r.auth))
			abort();
		wg_cluster_record_free(&again);
	}
	wg_cluster_argv_free(&a);
	wg_cluster_record_free(&r);
	return 0;
}
