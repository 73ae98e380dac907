/* auth-oidc's browser login, the parts that read outside input
 * (plugins/auth-oidc): the query string of the provider's redirect to the
 * server's callback (oidc_callback_parse), the token endpoint's JSON answer
 * (oidc_token_response_parse) and the client's X-AnyConnect-STRAP-DH-Pubkey
 * header, which the token is sealed to (oidc_seal_token). Input: the
 * query, a newline, the token endpoint's answer, a newline, the header. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/auth-oidc/oidc_callback.h"
#include "../../plugins/auth-oidc/oidc_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t qlen = nl ? (size_t)(nl - data) : size;
	struct oidc_callback cb;
	char why[256], blob[OIDC_BLOB_B64_MAX];
	char *id_token = NULL;

	if (oidc_callback_parse(text, qlen, &cb, why, sizeof(why)) == 0 && !cb.error[0] && (!cb.code[0] || !cb.state[0]))
		abort(); /* accepted without what the flow needs */
	if (!nl)
		return 0;
	const uint8_t *rest = nl + 1;
	size_t rlen = size - qlen - 1;
	const uint8_t *nl2 = memchr(rest, '\n', rlen);
	size_t blen = nl2 ? (size_t)(nl2 - rest) : rlen;
	if (oidc_token_response_parse((const char *)rest, blen, &id_token, why, sizeof(why)) == 0) {
		if (!id_token || !*id_token)
			abort();
		free(id_token);
	}
	if (nl2) {
		/* The header as the host keeps it: a C string. */
		size_t hlen = rlen - blen - 1;
		char *hdr = malloc(hlen + 1);
		if (!hdr)
			return 0;
		memcpy(hdr, nl2 + 1, hlen);
		hdr[hlen] = '\0';
		if (strlen(hdr) < 512)
			(void)oidc_seal_token(hdr, "TOKEN0123456789abcdefABCDEF01234", blob, sizeof(blob), why, sizeof(why));
		free(hdr);
	}
	return 0;
}
