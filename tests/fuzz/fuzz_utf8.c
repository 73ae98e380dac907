/* Client-chosen text repaired for JSON (core/util/utf8.c): whatever the bytes,
 * the repaired text must be well-formed UTF-8 that jansson accepts, at most
 * three times as long; well-formed input must come back unchanged, and
 * repairing twice must change nothing more. Never a read past the NUL. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0'; /* the core's strings are C strings: an inner NUL ends one */
	bool valid = wg_utf8_valid(in);
	json_t *as_is = json_string(in); /* jansson's own check must agree */
	if (valid != (as_is != NULL))
		__builtin_trap();
	json_decref(as_is);
	char *out = wg_utf8_sanitize(in);
	if (out) {
		json_t *j = json_string(out);
		if (!j || !wg_utf8_valid(out) || strlen(out) > 3 * strlen(in) || (valid && strcmp(in, out) != 0))
			__builtin_trap();
		json_decref(j);
		char *again = wg_utf8_sanitize(out);
		if (again && strcmp(again, out) != 0)
			__builtin_trap();
		free(again);
	}
	free(out);
	free(in);
	return 0;
}
