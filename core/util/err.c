/* Error accumulator: validators report every problem, one line each. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Room kept free so the reader learns that lines were dropped. */
static const char omitted[] = "(further errors omitted)\n";

void wg_err_init(struct wg_err *e)
{
	e->count = 0;
	e->len = 0;
	e->text[0] = '\0';
}

void wg_err_add(struct wg_err *e, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = snprintf(line, sizeof(line), "(unformattable error message)");
	size_t llen = strnlen(line, sizeof(line) - 1);

	e->count++;
	if (e->len >= sizeof(e->text))
		e->len = sizeof(e->text) - 1; /* defensive: never index past text */
	size_t room = sizeof(e->text) - 1 - e->len; /* excluding the final NUL */
	if (llen + 1 + (sizeof(omitted) - 1) <= room) {
		memcpy(e->text + e->len, line, llen);
		e->len += llen;
		e->text[e->len++] = '\n';
		e->text[e->len] = '\0';
		return;
	}
	/* Full: say so once, in the space reserved above. */
	size_t olen = sizeof(omitted) - 1;
	if (e->len >= olen && memcmp(e->text + e->len - olen, omitted, olen) == 0)
		return;
	if (olen <= room) {
		memcpy(e->text + e->len, omitted, olen + 1);
		e->len += olen;
	}
}
