/* The ClientHello's server name (core/net/sni.c), read from what a client
 * sends first when vhosts are configured. Besides not crashing: a name is
 * only what a host name may hold, in lower case and NUL-terminated; an
 * answer given for a prefix that holds the whole first record does not
 * change when more bytes follow (the connection reads in pieces); and a
 * small name buffer never gets a cut name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > WG_SNI_NAME_MAX)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[WG_SNI_NAME_MAX + 1], again[WG_SNI_NAME_MAX + 1], small[8];
	int r = wg_sni_parse(data, size, name, sizeof(name));

	if (r < -1 || r > 1)
		__builtin_trap();
	if (r == 1)
		check_name(name);
	else if (name[0])
		__builtin_trap();
	if (r >= 0) {
		uint8_t *more = malloc(size + 32);
		if (!more)
			return 0;
		memcpy(more, data, size);
		memset(more + size, 0x16, 32);
		if (wg_sni_parse(more, size + 32, again, sizeof(again)) != r || (r == 1 && strcmp(name, again) != 0))
			__builtin_trap();
		free(more);
	}
	r = wg_sni_parse(data, size, small, sizeof(small));
	if (r == 1 && strlen(small) >= sizeof(small))
		__builtin_trap();
	return 0;
}
