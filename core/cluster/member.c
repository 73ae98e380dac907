/* Cluster member names of workers (member.h). */
#include "cluster/member.h"

#include <stdio.h>
#include <string.h>

int wg_cluster_member_name(const char *node, unsigned index, unsigned count, char *out, size_t len)
{
	char suffix[16];
	size_t sl;

	if (count < 2) {
		if (len < 2)
			return -1;
		snprintf(out, len, "%s", node);
		return 0;
	}
	sl = (size_t)snprintf(suffix, sizeof(suffix), "/w%u", index);
	if (len < sl + 2)
		return -1;
	/* The node shortened rather than the suffix lost: two workers must
	 * never share a member name. */
	size_t room = len - 1 - sl, nl = strlen(node);
	snprintf(out, len, "%.*s%s", (int)(nl < room ? nl : room), node, suffix);
	return 0;
}

size_t wg_cluster_member_node_len(const char *member)
{
	const char *slash = strrchr(member, '/');
	size_t n = strlen(member);

	if (!slash || slash == member || slash[1] != 'w' || !slash[2])
		return n;
	for (const char *p = slash + 2; *p; p++)
		if (*p < '0' || *p > '9')
			return n;
	return (size_t)(slash - member);
}

int wg_cluster_member_workers_node(const char *member, char *out, size_t len)
{
	size_t nl = wg_cluster_member_node_len(member);

	if (nl == strlen(member))
		nl = 0; /* not a worker's name */
	if (len < nl + 1)
		return -1;
	snprintf(out, len, "%.*s", (int)nl, member);
	return 0;
}
