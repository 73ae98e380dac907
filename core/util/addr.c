/* Address arithmetic on the text forms of conf.d and of routing plugins. */
#include "util/addr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int wg_addr_parse6(const char *text, uint8_t out[16])
{
	char tmp[64];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", text);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* "24" -> 24; only 1 to 3 decimal digits, nothing else. */
static int parse_prefix_len(const char *s)
{
	int n = 0, digits = 0;

	for (; *s; s++, digits++) {
		if (*s < '0' || *s > '9' || digits == 3)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return digits ? n : -1;
}

/* "255.255.255.0" -> 24; a mask with holes is not a netmask. */
static int mask_to_prefix_len(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	for (m = ntohl(a.s_addr); m & 0x80000000u; m <<= 1)
		n++;
	return m ? -1 : n;
}

static int first_host6(const char *net, const char *len, char *addr, size_t addrlen, unsigned *prefix)
{
	struct in6_addr a;
	int p = parse_prefix_len(len);

	/* /128 leaves no address for clients. */
	if (p < 1 || p > 127 || inet_pton(AF_INET6, net, &a) != 1)
		return -1;
	for (int i = 0; i < 16; i++) {
		int keep = p - 8 * i; /* network bits in this byte */
		a.s6_addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	a.s6_addr[15] |= 1;
	if (!inet_ntop(AF_INET6, &a, addr, (socklen_t)addrlen))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

static int first_host4(const char *net, const char *len, char *addr, size_t addrlen, unsigned *prefix)
{
	struct in_addr a;
	int p = strchr(len, '.') ? mask_to_prefix_len(len) : parse_prefix_len(len);

	/* /31 and /32 leave no address for clients. */
	if (p < 1 || p > 30 || inet_pton(AF_INET, net, &a) != 1)
		return -1;
	a.s_addr = htonl((ntohl(a.s_addr) & (~0u << (32 - p))) + 1);
	if (!inet_ntop(AF_INET, &a, addr, (socklen_t)addrlen))
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

int wg_net_first_host(const char *cidr, char *addr, size_t addrlen, unsigned *prefix)
{
	char net[INET6_ADDRSTRLEN + 1];
	const char *slash;

	if (!cidr || !(slash = strchr(cidr, '/')) || (size_t)(slash - cidr) >= sizeof(net))
		return -1;
	memcpy(net, cidr, (size_t)(slash - cidr));
	net[slash - cidr] = '\0';
	if (strchr(net, ':'))
		return first_host6(net, slash + 1, addr, addrlen, prefix);
	return first_host4(net, slash + 1, addr, addrlen, prefix);
}
