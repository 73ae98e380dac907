/* Client keys (see client_key.h): 16 bytes, IPv4 stored IPv4-mapped. */
#include "login/client_key.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int wg_client_key(const char *text, unsigned prefix6, uint8_t key[WG_CLIENT_KEY_LEN], char *text_out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	struct in_addr a4;
	size_t n;

	if (!text)
		return -1;
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n >= sizeof(addr) || (slash && (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1))))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		memcpy(key, mapped, sizeof(mapped));
		memcpy(key + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, addr, key) != 1) {
		return -1;
	}
	bool v4 = memcmp(key, mapped, sizeof(mapped)) == 0;
	if (!v4 && prefix6 < 128) {
		for (unsigned bit = prefix6; bit < 128; bit++)
			key[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	}
	if (!text_out)
		return 0;
	if (v4)
		return inet_ntop(AF_INET, key + 12, text_out, WG_CLIENT_KEY_TEXT) ? 0 : -1;
	if (!inet_ntop(AF_INET6, key, text_out, WG_CLIENT_KEY_TEXT))
		return -1;
	if (prefix6 < 128)
		snprintf(text_out + strlen(text_out), WG_CLIENT_KEY_TEXT - strlen(text_out), "/%u", prefix6);
	return 0;
}
