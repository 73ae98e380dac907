/* A bounded accumulator of error lines, so a validator can report every
 * problem it finds ("file:line:column: key: problem"), not just the first. */
#ifndef WG_ERR_H
#define WG_ERR_H

#include <stddef.h>

#define WG_ERR_MAX 8192

struct wg_err {
	int count;            /* lines added, including any that were cut */
	size_t len;
	char text[WG_ERR_MAX]; /* lines separated by '\n', always NUL-terminated */
};

void wg_err_init(struct wg_err *e);
/* Appends one line (a trailing newline is added). Never overflows. */
void wg_err_add(struct wg_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
