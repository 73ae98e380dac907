/* Legacy DTLS input: the CONNECT headers X-DTLS-Master-Secret,
 * X-DTLS-CipherSuite and X-DTLS12-CipherSuite (the input split at the first
 * two newlines, each part a NUL-terminated copy as the HTTP parser hands
 * them over), and the extended_master_secret scan of a ClientHello (the
 * whole input as one datagram, in a buffer of exactly its size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_legacy_ems.h"
#include "dtls_legacy_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	const uint8_t *stop = nl ? nl : end;
	char *s = malloc((size_t)(stop - *p) + 1);

	if (!s)
		abort();
	memcpy(s, *p, (size_t)(stop - *p));
	s[stop - *p] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *dgram = malloc(size ? size : 1);
	const uint8_t *p = data, *end = data + size;
	struct wg_dtls_legacy_offer o;
	char *master, *suites, *suites12;

	if (!dgram)
		abort();
	memcpy(dgram, data, size);
	(void)wg_dtls_legacy_hello_ems(dgram, size);
	free(dgram);

	master = part(&p, end);
	suites = part(&p, end);
	suites12 = part(&p, end);
	wg_dtls_legacy_parse(master, suites, suites12, &o);
	wg_dtls_legacy_parse(NULL, suites[0] ? suites : NULL, NULL, &o);
	wg_dtls_legacy_parse(master, suites, suites12, &o);
	/* What the server relies on. */
	if (o.suite && (!o.have_master || !o.suite->supported || !o.suite->wolfssl))
		__builtin_trap();
	if (o.unsupported && o.unsupported->supported)
		__builtin_trap();
	if (!o.have_master)
		for (size_t i = 0; i < sizeof(o.master); i++)
			if (o.master[i])
				__builtin_trap();
	free(master);
	free(suites);
	free(suites12);
	return 0;
}
