/* wolfguard-client's messages on stderr: wgc_log always, wgc_debug with -v.
 * A file of its own so that every part of the client can log without
 * calling back into main.c. */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>

static int verbose_log;

void wgc_log_verbose(int on)
{
	verbose_log = on;
}

static void vlog(const char *fmt, va_list ap)
{
	fputs("wolfguard-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void wgc_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void wgc_debug(const struct wgc *c, const char *fmt, ...)
{
	va_list ap;
	(void)c;
	if (!verbose_log)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
